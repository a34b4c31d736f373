"""Bodies of the workspace bootstrap and debootstrap (``WorkspaceCreatePayload``,
``WorkspaceDebootstrapPayload`` of spec v2.8.1), and the api key lookup's query."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from mock_server.models import OpenBody
from mock_server.models.queries import Query
from simulator.workspaces import MIN_DELAY_HOURS


class WorkspaceCreatePayload(OpenBody):
    project_id: UUID
    name: str
    category: Literal["public"]
    meta: str | None = None
    description: str | None = None
    user_ids: list[UUID] = Field(default_factory=list)
    admin_ids: list[UUID] = Field(default_factory=list)


class WorkspaceDebootstrapPayload(OpenBody):
    workspace_id: UUID
    delay_hours: Annotated[int, Field(ge=MIN_DELAY_HOURS)] = 336


class ApiKeyQuery(Query):
    """Whose key (beyond the spec: ``mlspace-plugin`` sends it; else ``x-workspace-id``)."""

    workspace_id: UUID | None = None
