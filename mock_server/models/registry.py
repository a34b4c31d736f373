"""Bodies of the Docker registry operations (``UpdateRepository``, ``FavoriteInput``,
``DeleteRepositories``, ``DeleteImages``, ``CreateTag``, ``UpdateTag``, ``DeleteTags`` of spec
v2.8.1). Unknown keys are ignored, as the platform's FastAPI models ignore them."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from mock_server.models import OpenBody


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
