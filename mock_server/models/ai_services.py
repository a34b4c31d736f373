"""Bodies of the AI Services operations (``CreateArtifactRequestViewModel``,
``UpdateArtifactRequestViewModel`` of spec v2.8.1, and the filters and moderation decision the
spec leaves untyped)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import Field

from mock_server.models import OpenBody, choices
from mock_server.models.queries import Query
from simulator.ai_services import ACTIONS, DECISIONS, STATUSES

Text = Annotated[str, Field(min_length=1)]
Amount = Annotated[float, Field(ge=0)] | str
Action = choices("Action", ACTIONS)
Status = choices("ArtifactStatus", STATUSES)
Decision = choices("ModerationDecision", DECISIONS)


class ArtifactFields(OpenBody):
    """What create and update share (all optional)."""

    kind: Text | None = None
    title: Text | None = None
    description: Text | None = None
    size: Amount | None = None
    version: str | None = None
    tags: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None
    licence: str | None = None
    image: Text | None = None
    configuration: str | None = None
    email: str | None = None
    pods: dict[str, Any] | None = None
    links: dict[str, Any] | None = None
    tech_params: dict[str, Any] | None = None
    path_to_script: str | None = None
    path_to_requirements: str | None = None
    image_data: str | None = None


class CreateArtifactRequestViewModel(ArtifactFields):
    name: Text
    author: str
    path: Text | None = None
    price: Amount | None = 0.0
    labels: list[UUID] | None = Field(default_factory=list)
    registry_type: Text | None = None
    action_path: dict[str, str] | None = None
    category_name: str | None = None


class UpdateArtifactRequestViewModel(ArtifactFields):
    id_: UUID
    name: Text | None = None
    path: str | None = None
    labels: list[UUID] | None = None
    author: str | None = None
    owner_id: UUID | None = None
    slug: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    action: Action | None = None  # type: ignore[valid-type]


class ListArtifacts(OpenBody):
    """The list's filters (the spec types no body): kinds and statuses, and a page."""

    kinds: list[str] = Field(default_factory=list)
    statuses: list[Status] = Field(default_factory=list)  # type: ignore[valid-type]
    page: Annotated[int, Field(ge=1)] = 1
    size: Annotated[int, Field(ge=1, le=1000)] = 100


class UpdateModerationStatus(OpenBody):
    """A moderator's decision (the spec types no body)."""

    id_: UUID
    status: Decision  # type: ignore[valid-type]
    comment: str | None = None


class ModerationQuery(Query):
    """The decision as query parameters, when no body carries it."""

    id_: UUID | None = None
    status: Decision | None = None  # type: ignore[valid-type]
    comment: str | None = None
