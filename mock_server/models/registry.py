"""Bodies of the Docker registry operations (``UpdateRepository``, ``FavoriteInput``,
``DeleteRepositories``, ``DeleteImages``, ``CreateTag``, ``UpdateTag``, ``DeleteTags`` of spec
v2.8.1), and the queries of the lists. Unknown keys are ignored, as the platform's FastAPI models
ignore them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from mock_server.models import OpenBody
from mock_server.models.queries import Query


class UpdateRepository(OpenBody):
    description: str | None = None
    labels: list[str] | None = Field(default_factory=list)
    labels_to_delete: list[str] | None = Field(default_factory=list)


class FavoriteInput(OpenBody):
    favorite: bool


class DeleteRepositories(OpenBody):
    repository_ids: list[UUID]


class DeleteImages(OpenBody):
    image_ids: list[UUID]


class DeleteTags(OpenBody):
    tag_ids: list[UUID]


class CreateTag(OpenBody):
    image_id: UUID
    name: str
    color: str | None = None


class UpdateTag(OpenBody):
    """``UpdateTag`` recolours; ``name`` (beyond the spec) renames the tag in place."""

    color: str | None = None
    name: str | None = None


class RepositoriesQuery(Query):
    """One page of the repositories (beyond the spec: ``mlspace-plugin`` sends them)."""

    page: Annotated[int, Field(ge=1)] = 1
    page_size: Annotated[int | None, Field(ge=1)] = None


class ImagesQuery(Query):
    repository_id: UUID


class TagsQuery(Query):
    image_id: UUID
