"""AI Services: the marketplace of artifacts (models, images, datasets, apps) and its moderation.

A workspace publishes an artifact by creating it: it goes ``on_moderation`` with an application
(the request to publish); a moderator approves it (``published``) or refuses it (``rejected``),
which closes the application. Changing a published or rejected artifact sends it back to
moderation with a new application. Everyone sees published artifacts; the others only their own
workspace, and moderators every artifact on moderation. The spec (v2.8.1, where these operations
are deprecated and their answers untyped) names no statuses beyond its operations' own words, so
these three come from them. Ids are drawn from (seed, what, a counter), so the same commands give
the same marketplace; the engine keeps it, so a reset empties it and a state file replays it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from simulator.errors import Conflict, NotFound, Refused
from simulator.randomness import derive_bits, uuid4_str

ON_MODERATION, PUBLISHED, REJECTED = "on_moderation", "published", "rejected"
STATUSES = (ON_MODERATION, PUBLISHED, REJECTED)
DECISIONS = (PUBLISHED, REJECTED)
OPEN, CLOSED = "open", "closed"
KINDS = ("model", "image", "dataset", "notebook", "application")
ACTIONS = ("download", "pull", "deploy", "swagger", "connect")  # the spec's ``Action``
REGISTRY_TYPES = ("docker", "s3", "huggingface")
# fields the marketplace keeps itself: a change that sends them back (as read) leaves them be
OWN_FIELDS = frozenset({"id_", "slug", "owner_id", "created_at", "updated_at"})


@dataclass
class Application:
    """A request to publish an artifact (or a change of it), and the moderator's answer."""

    id: str
    artifact_id: str
    created_at: float
    status: str = OPEN
    decision: str | None = None
    comment: str | None = None
    decided_at: float | None = None


@dataclass
class Artifact:
    id: str
    slug: str
    workspace: str
    owner_id: str
    fields: dict[str, Any]  # what the workspace described it with (the create/update body)
    created_at: float
    updated_at: float
    status: str = ON_MODERATION
    applications: list[Application] = field(default_factory=list)


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "artifact"


class Marketplace:
    """Every workspace's artifacts and their applications."""

    def __init__(self, seed: int, now_epoch: Callable[[], float]) -> None:
        self.seed = seed
        self.now_epoch = now_epoch
        self.artifacts: dict[str, Artifact] = {}
        self._applications: list[Application] = []  # in the order they were made
        self._minted = 0

    def _new_id(self, what: str) -> str:
        self._minted += 1
        return uuid4_str(derive_bits(self.seed, "ai-services", what, self._minted))

    def _apply(self, artifact: Artifact) -> None:
        """Send ``artifact`` to moderation with a new application."""
        now = self.now_epoch()
        artifact.status, artifact.updated_at = ON_MODERATION, now
        app = Application(self._new_id("application"), artifact.id, now)
        artifact.applications.append(app)
        self._applications.append(app)

    # ---- lookups ----------------------------------------------------------------------------
    def visible(self, workspace: str) -> list[Artifact]:
        """Published artifacts and the workspace's own, oldest first."""
        return [
            a for a in self.artifacts.values() if a.status == PUBLISHED or a.workspace == workspace
        ]

    def get(self, workspace: str, artifact_id: str) -> Artifact:
        found = self.artifacts.get(artifact_id)
        if found is None or (found.status != PUBLISHED and found.workspace != workspace):
            raise NotFound(f"Artifact {artifact_id} not found")
        return found

    def by_slug(self, workspace: str, slug: str) -> Artifact:
        for a in self.visible(workspace):
            if a.slug == slug:
                return a
        raise NotFound(f"Artifact {slug} not found")

    def on_moderation(self) -> list[Artifact]:
        return [a for a in self.artifacts.values() if a.status == ON_MODERATION]

    def applications(self) -> list[Application]:
        """Every application, newest first."""
        return self._applications[::-1]

    def tags(self, workspace: str) -> dict[str, list[Any]]:
        """Each tag key of the visible artifacts with the values used, in first-seen order."""
        out: dict[str, list[Any]] = {}
        for a in self.visible(workspace):
            for key, value in (a.fields.get("tags") or {}).items():
                values = out.setdefault(str(key), [])
                if value not in values:
                    values.append(value)
        return out

    # ---- changes ----------------------------------------------------------------------------
    def create(self, workspace: str, owner_id: str, fields: dict[str, Any]) -> Artifact:
        """A new artifact of ``workspace``, on moderation; its slug is its name's, made unique."""
        now = self.now_epoch()
        base = slugify(str(fields["name"]))
        taken = {a.slug for a in self.artifacts.values()}
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        artifact = Artifact(self._new_id("artifact"), slug, workspace, owner_id, fields, now, now)
        self.artifacts[artifact.id] = artifact
        self._apply(artifact)
        return artifact

    def update(self, workspace: str, artifact_id: str, changes: dict[str, Any]) -> Artifact:
        """Change the workspace's own artifact; a decided one goes back to moderation."""
        artifact = self.artifacts.get(artifact_id)
        if artifact is None or artifact.workspace != workspace:
            raise NotFound(f"Artifact {artifact_id} not found")
        artifact.fields.update({k: v for k, v in changes.items() if k not in OWN_FIELDS})
        if artifact.status == ON_MODERATION:
            artifact.updated_at = self.now_epoch()
        else:
            self._apply(artifact)
        return artifact

    def decide(self, artifact_id: str, status: str, comment: str | None = None) -> Artifact:
        """A moderator's answer to the artifact's open application."""
        if status not in DECISIONS:
            raise Refused(f"status must be one of {', '.join(DECISIONS)}", value=status)
        artifact = self.artifacts.get(artifact_id)
        if artifact is None:
            raise NotFound(f"Artifact {artifact_id} not found")
        if artifact.status != ON_MODERATION:
            raise Conflict(f"Artifact {artifact_id} is not on moderation ({artifact.status})")
        now = self.now_epoch()
        app = artifact.applications[-1]
        app.status, app.decision, app.comment, app.decided_at = CLOSED, status, comment, now
        artifact.status, artifact.updated_at = status, now
        return artifact

    def search(
        self, workspace: str, *, kinds: Iterable[str] = (), statuses: Iterable[str] = ()
    ) -> list[Artifact]:
        wanted_kinds, wanted_statuses = set(kinds), set(statuses)
        return [
            a
            for a in self.visible(workspace)
            if (not wanted_kinds or a.fields.get("kind") in wanted_kinds)
            and (not wanted_statuses or a.status in wanted_statuses)
        ]
