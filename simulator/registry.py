"""Each workspace's Docker registry (``cr.ai.cloud.ru/<workspace>``): repositories, images, tags.

Images arrive by push: an image build that succeeds pushes its destination as ``latest`` at the
instant it ends (:mod:`simulator.builds`), and any other producer may call :meth:`Registry.push`.
Users then tag, retag, describe, favour and delete. The store is the engine's, so a reset drops it
and a state file rebuilds it by replaying the commands (builds push again at their instants).
Ids are drawn from (seed, workspace, what, a per-workspace counter): the same commands give the
same ids, and a tag renamed and its old name reused never share one.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from simulator.builds import REGISTRY, Build
from simulator.errors import Conflict, NotFound, Refused
from simulator.randomness import derive_bits, stable_uuid, stream, uuid4_str

TAG_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # Docker's rule for a tag
PASSWORD_CHARS = string.ascii_letters + string.digits
PASSWORD_LENGTH = 32
IMAGE_BYTES = (2_500_000_000, 9_000_000_000)  # CUDA base image plus what pip added


@dataclass(eq=False)
class Tag:
    id: str
    name: str
    image: Image
    pushed_at: float
    color: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.image.repository.full_name}:{self.name}"


@dataclass(eq=False)
class Image:
    id: str
    digest: str
    repository: Repository
    size: int
    pushed_at: float
    tags: list[Tag] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.repository.full_name}@{self.digest}"


@dataclass(eq=False)
class Repository:
    id: str
    name: str
    registry: WorkspaceRegistry
    created_at: float
    updated_at: float
    description: str | None = None
    labels: list[str] = field(default_factory=list)
    favorite: bool = False
    images: list[Image] = field(default_factory=list)  # oldest push first

    @property
    def full_name(self) -> str:
        return f"{self.registry.host}/{self.name}"

    @property
    def tags(self) -> list[Tag]:
        return [t for image in self.images for t in image.tags]

    @property
    def recent_image(self) -> Image | None:
        return self.images[-1] if self.images else None


@dataclass(eq=False)
class WorkspaceRegistry:
    """One workspace's registry; it exists from the world's start."""

    id: str
    workspace: str
    created_at: float
    repositories: dict[str, Repository] = field(default_factory=dict)  # by name
    minted: int = 0  # ids drawn so far

    @property
    def host(self) -> str:
        return f"{REGISTRY}/{self.workspace}"

    @property
    def updated_at(self) -> float:
        return max([self.created_at, *(r.updated_at for r in self.repositories.values())])


class Registry:
    """Every workspace's registry, in virtual time (``now_epoch``)."""

    def __init__(self, seed: int, start_epoch: float, now_epoch: Callable[[], float]) -> None:
        self.seed = seed
        self.start_epoch = start_epoch
        self.now_epoch = now_epoch
        self._registries: dict[str, WorkspaceRegistry] = {}

    def of(self, workspace: str) -> WorkspaceRegistry:
        reg = self._registries.get(workspace)
        if reg is None:
            reg_id = stable_uuid(workspace, "docker-registry")
            reg = self._registries[workspace] = WorkspaceRegistry(
                reg_id, workspace, self.start_epoch
            )
        return reg

    def _new_id(self, reg: WorkspaceRegistry, what: str) -> str:
        reg.minted += 1
        return uuid4_str(derive_bits(self.seed, "docker-registry", reg.workspace, what, reg.minted))

    # ---- pushes -----------------------------------------------------------------------------
    def push(self, workspace: str, repository: str, tag: str, digest: str) -> Image:
        """``repository:tag`` now points at the image ``digest`` (pushed now; a tag of that name
        on another image of the repository moves here, as ``docker push`` moves it; pushed
        again where it already is, it stays the same tag)."""
        now = self.now_epoch()
        reg = self.of(workspace)
        repo = reg.repositories.get(repository)
        if repo is None:
            repo = reg.repositories[repository] = Repository(
                self._new_id(reg, "repository"), repository, reg, now, now
            )
        image = next((i for i in repo.images if i.digest == digest), None)
        if image is None:
            size = stream(self.seed, "docker-image", workspace, digest).randint(*IMAGE_BYTES)
            image = Image(self._new_id(reg, "image"), digest, repo, size, now)
            repo.images.append(image)
        if not any(t.name == tag for t in image.tags):
            for other in repo.images:
                other.tags = [t for t in other.tags if t.name != tag]
            image.tags.append(Tag(self._new_id(reg, "tag"), tag, image, now))
        repo.updated_at = now
        return image

    def push_build(self, build: Build) -> None:
        """A build that succeeded pushed its destination as ``latest``."""
        if build.digest is not None:
            self.push(build.workspace, build.destination.rsplit("/", 1)[1], "latest", build.digest)

    # ---- lookups ----------------------------------------------------------------------------
    def repositories(self, workspace: str) -> list[Repository]:
        """The workspace's repositories, most recently changed first."""
        repos = self.of(workspace).repositories.values()
        return sorted(repos, key=lambda r: (-r.updated_at, r.name))

    def repository(self, workspace: str, repository_id: str) -> Repository:
        for repo in self.of(workspace).repositories.values():
            if repo.id == repository_id:
                return repo
        raise NotFound(f"Repository {repository_id} not found")

    def _images(self, workspace: str) -> Iterable[Image]:
        for repo in self.of(workspace).repositories.values():
            yield from repo.images

    def image(self, workspace: str, image_id: str) -> Image:
        found = next((i for i in self._images(workspace) if i.id == image_id), None)
        if found is None:
            raise NotFound(f"Image {image_id} not found")
        return found

    def tag(self, workspace: str, tag_id: str) -> Tag:
        tags = (t for image in self._images(workspace) for t in image.tags)
        found = next((t for t in tags if t.id == tag_id), None)
        if found is None:
            raise NotFound(f"Tag {tag_id} not found")
        return found

    def tag_count(self) -> int:
        """Tags in every registry (what pushes and tag commands change)."""
        regs = self._registries.values()
        return sum(len(i.tags) for reg in regs for r in reg.repositories.values() for i in r.images)

    # ---- changes ----------------------------------------------------------------------------
    def update_repository(
        self,
        repo: Repository,
        *,
        description: str | None,
        set_description: bool,
        labels: Iterable[str] = (),
        labels_to_delete: Iterable[str] = (),
    ) -> Repository:
        """Describe a repository, add labels, remove labels (a label both added and removed is
        removed)."""
        if set_description:
            repo.description = description
        dropped = set(labels_to_delete)
        merged = [*repo.labels, *(x for x in labels if x not in repo.labels)]
        repo.labels = list(dict.fromkeys(x for x in merged if x not in dropped))
        repo.updated_at = self.now_epoch()
        return repo

    def set_favorite(self, repo: Repository, favorite: bool) -> Repository:
        repo.favorite = favorite
        return repo

    def create_tag(self, workspace: str, image_id: str, name: str, color: str | None) -> Tag:
        """A new tag on an image; its name must be free in the repository."""
        image = self.image(workspace, image_id)
        self._check_tag_name(image.repository, name)
        tag = Tag(self._new_id(self.of(workspace), "tag"), name, image, self.now_epoch(), color)
        image.tags.append(tag)
        image.repository.updated_at = tag.pushed_at
        return tag

    def update_tag(
        self, tag: Tag, *, name: str | None = None, color: str | None, set_color: bool
    ) -> Tag:
        """Recolour a tag, or rename it (same image, same id, the name must be free)."""
        if name is not None and name != tag.name:
            self._check_tag_name(tag.image.repository, name)
            tag.name = name
            tag.image.repository.updated_at = self.now_epoch()
        if set_color:
            tag.color = color
        return tag

    def _check_tag_name(self, repo: Repository, name: str) -> None:
        if not TAG_NAME.match(name):
            raise Refused(
                f"Tag name {name!r} is not a valid Docker tag: up to 128 letters, digits, "
                "'_', '.' and '-', not starting with '.' or '-'"
            )
        if any(t.name == name for t in repo.tags):
            raise Conflict(f"Tag {name} already exists in repository {repo.name}")

    def delete_repositories(self, workspace: str, ids: Iterable[str]) -> list[str]:
        """Delete these repositories with their images and tags; the ids deleted (others are
        not the workspace's: skipped)."""
        reg = self.of(workspace)
        wanted = set(ids)
        gone = [r for r in reg.repositories.values() if r.id in wanted]
        for repo in gone:
            del reg.repositories[repo.name]
        return [r.id for r in gone]

    def delete_images(self, workspace: str, ids: Iterable[str]) -> list[str]:
        """Delete these images with their tags (their repositories stay); the ids deleted."""
        wanted = set(ids)
        gone = [i for i in self._images(workspace) if i.id in wanted]
        now = self.now_epoch()
        for image in gone:
            image.repository.images.remove(image)
            image.repository.updated_at = now
        return [i.id for i in gone]

    def delete_tags(self, workspace: str, ids: Iterable[str]) -> list[str]:
        """Delete these tags (their images stay, untagged); the ids deleted."""
        wanted = set(ids)
        gone = [t for image in self._images(workspace) for t in image.tags if t.id in wanted]
        now = self.now_epoch()
        for tag in gone:
            tag.image.tags.remove(tag)
            tag.image.repository.updated_at = now
        return [t.id for t in gone]

    # ---- credentials ------------------------------------------------------------------------
    def password(self, workspace: str) -> str:
        """A fresh password for the workspace's registry: a function of the seed, the workspace
        and the instant, so a later call rotates it and nothing hidden changes on a read."""
        rng = stream(self.seed, "docker-password", workspace, round(self.now_epoch(), 6))
        return "".join(rng.choices(PASSWORD_CHARS, k=PASSWORD_LENGTH))
