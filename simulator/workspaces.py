"""Workspaces made and ended through the API (bootstrap, debootstrap), in virtual time.

Workspaces that come into being on first use, or from the configuration, have no record here:
they are active from the world's start. A bootstrapped one is active from its request (the
mock's bootstrap workflow finishes at once) and gets its pay-as-you-go allocations and default
queues then; a debootstrapped one is ``disabled`` from its request and ``deleted`` once its
grace period (``delay_hours``) has passed. Ids are drawn from (seed, project, name, how many
were made before), so the same commands give the same workspaces; the engine keeps the records,
so a reset forgets them and a state file replays them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.errors import NotFound, Refused
from simulator.randomness import derive_bits, uuid4_str

ACTIVE, DISABLED, DELETED = "active", "disabled", "deleted"
MIN_DELAY_HOURS = 96  # the spec's least grace period before a debootstrapped workspace goes


@dataclass
class WorkspaceRecord:
    """A workspace bootstrapped through the API."""

    id: str
    project_id: str
    name: str
    created_at: float
    run_id: str
    workflow_id: str
    description: str | None = None
    meta: str | None = None
    user_ids: list[str] = field(default_factory=list)
    admin_ids: list[str] = field(default_factory=list)


@dataclass
class Ending:
    """A debootstrap: the workspace is disabled from ``disabled_at``, deleted from
    ``deleted_at``; ``run_id``/``workflow_id`` name the debootstrap workflow."""

    disabled_at: float
    deleted_at: float
    run_id: str
    workflow_id: str

    def status(self, now: float) -> str:
        return DELETED if now >= self.deleted_at else DISABLED


class Workspaces:
    """The workspaces bootstrapped and debootstrapped in this world."""

    def __init__(self, seed: int, now_epoch: Callable[[], float]) -> None:
        self.seed = seed
        self.now_epoch = now_epoch
        self.records: dict[str, WorkspaceRecord] = {}
        self.endings: dict[str, Ending] = {}

    def _draw(self, *parts: object) -> str:
        return uuid4_str(derive_bits(self.seed, "workspace", *parts))

    def bootstrap(
        self,
        project_id: str,
        name: str,
        *,
        description: str | None = None,
        meta: str | None = None,
        user_ids: list[str] | None = None,
        admin_ids: list[str] | None = None,
    ) -> WorkspaceRecord:
        """A new active workspace; a name is unique among the project's live workspaces."""
        if not name.strip():
            raise Refused("A workspace needs a name")
        for rec in self.records.values():
            if rec.project_id == project_id and rec.name == name and rec.id not in self.endings:
                raise Refused(f"Workspace {name} already exists in project {project_id}")
        nth = len(self.records)
        rec = WorkspaceRecord(
            id=self._draw(project_id, name, nth, "id"),
            project_id=project_id,
            name=name,
            created_at=self.now_epoch(),
            run_id=self._draw(project_id, name, nth, "run"),
            workflow_id=f"workspace-bootstrap-{self._draw(project_id, name, nth, 'flow')[:8]}",
            description=description,
            meta=meta,
            user_ids=list(user_ids or []),
            admin_ids=list(admin_ids or []),
        )
        self.records[rec.id] = rec
        return rec

    def debootstrap(self, workspace_id: str, delay_hours: int) -> Ending:
        """Disable a workspace now, to be deleted after ``delay_hours``. Raises
        :class:`NotFound` for one already debootstrapped."""
        if delay_hours < MIN_DELAY_HOURS:
            raise Refused(f"delay_hours must be at least {MIN_DELAY_HOURS}")
        if workspace_id in self.endings:
            raise NotFound(f"Workspace {workspace_id} is already debootstrapped")
        now = self.now_epoch()
        run = self._draw(workspace_id, "debootstrap")
        ending = Ending(now, now + delay_hours * 3600, run, f"workspace-debootstrap-{run[:8]}")
        self.endings[workspace_id] = ending
        return ending

    def status(self, workspace_id: str) -> str:
        ending = self.endings.get(workspace_id)
        return ACTIVE if ending is None else ending.status(self.now_epoch())
