"""The state snapshot (``GET``/``POST /_mock/state``) as pydantic models: what an import must
hold before it may rebuild a world. Strict, unknown keys refused, numbers finite."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from mock_server.auth import Workspace
from mock_server.models import Body
from mock_server.state_file import FORMAT, LEGACY_SCHEMA, SCHEMA

Finite = Annotated[float, Field(allow_inf_nan=False)]
API_PREFIX, CLOCK_PREFIX = "/public/v2/", "/_mock/clock/"
JOURNALED_PREFIXES = (API_PREFIX, CLOCK_PREFIX)  # what the journal keeps


class ClockState(Body):
    mode: Literal["manual", "realtime"]
    speed: Annotated[Finite, Field(gt=0)]
    elapsed_s: Annotated[Finite, Field(ge=0)]


class Meta(Body):
    seed: int
    start_epoch: Annotated[Finite, Field(ge=0)]
    config: dict[str, Any]
    clock: ClockState


class WorkspaceRow(Body):
    """A workspace; fields left out take the defaults of :class:`mock_server.auth.Workspace`."""

    id: str
    api_key: str
    name: str
    namespace: str
    project_id: str = Workspace.project_id
    project_name: str = Workspace.project_name
    owner_email: str = Workspace.owner_email
    extra: dict[str, Any] = Field(default_factory=dict)


class EntryRow(Body):
    """One journaled command, its body as text or as base64 (exactly one of them)."""

    seq: Annotated[int, Field(ge=1)] = 1
    at: Annotated[Finite, Field(ge=0)]
    t: Finite
    epoch: Finite
    method: Literal["POST", "PUT", "PATCH", "DELETE"]
    path: str
    query: str
    content_type: str
    body: str = ""
    body_base64: str = ""
    workspace: str
    author: str
    status: Annotated[int, Field(ge=200, le=299)]
    digest: str
    effect: dict[str, Any] | None = None  # absent in schema 1 snapshots
    version: str = ""

    @model_validator(mode="after")
    def _a_kept_command(self) -> EntryRow:
        if not self.path.startswith(JOURNALED_PREFIXES):
            raise PydanticCustomError(
                "value_error",
                "Input should be a path the journal keeps (the Public API or the clock)",
            )
        if ("body" in self.model_fields_set) == ("body_base64" in self.model_fields_set):
            raise PydanticCustomError("value_error", "Exactly one of body, body_base64 is required")
        return self

    @field_validator("body_base64")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error:
            raise PydanticCustomError("value_error", "Input should be base64") from None
        return value

    def raw_body(self) -> bytes:
        if "body" in self.model_fields_set:
            return self.body.encode("utf-8", "surrogatepass")
        return base64.b64decode(self.body_base64)


class SnapshotBody(Body):
    format: Literal[FORMAT]  # type: ignore[valid-type]
    schema_: Annotated[Literal[LEGACY_SCHEMA, SCHEMA], Field(alias="schema")]  # type: ignore[valid-type]
    meta: Meta
    workspaces: list[WorkspaceRow]
    entries: list[EntryRow]
