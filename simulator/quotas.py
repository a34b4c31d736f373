"""Workspace GPU quotas: how many GPUs a workspace may hold or wait for at once.

The platform refuses a job or Jupyter Server before it exists when its GPUs exceed what the
workspace's limit leaves free (``WORKSPACE_GPU_LIMIT_REACHED_ONLY_<n>_FREE``). What counts against
the limit: the GPUs of the workspace's pending, restarting and running jobs, and of its servers
that hold or wait for capacity (paused, failed and deleted servers hold none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.errors import OverQuota

KEYS = ("workspace_gpus", "workspaces")


class QuotaConfigError(ValueError):
    """A ``quotas`` section that cannot be used; ``loc`` is the key's path."""

    def __init__(self, loc: tuple[str, ...], msg: str) -> None:
        super().__init__(f"{'.'.join(loc)}: {msg}")
        self.loc = loc
        self.msg = msg


@dataclass(frozen=True)
class Quotas:
    """The default limit (None: no limit) and per-workspace overrides."""

    workspace_gpus: int | None = None
    workspaces: dict[str, int] = field(default_factory=dict)
    any: bool = field(init=False, repr=False, compare=False)  # some workspace has a limit

    def __post_init__(self) -> None:
        # a field, not a property: the engine reads it once per submission
        object.__setattr__(self, "any", self.workspace_gpus is not None or bool(self.workspaces))

    def limit(self, workspace: str) -> int | None:
        return self.workspaces.get(workspace, self.workspace_gpus)

    def to_dict(self) -> dict[str, Any]:
        return {"workspace_gpus": self.workspace_gpus, "workspaces": dict(self.workspaces)}


def _count(value: Any, loc: tuple[str, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise QuotaConfigError(loc, f"must be a whole number of GPUs, not {value!r}")
    if value < 0:
        raise QuotaConfigError(loc, f"must be 0 or more, not {value}")
    return value


def parse_quotas(raw: Any, base: Quotas | None = None) -> Quotas:
    """``raw`` (the config's ``quotas:`` shape) over ``base``: an absent key keeps ``base``'s
    value, ``workspace_gpus: null`` lifts the default limit, a workspace mapped to null loses its
    override. Raises :class:`QuotaConfigError` naming the key for anything else."""
    base = base or Quotas()
    if raw is None:
        return base
    if not isinstance(raw, dict):
        raise QuotaConfigError(("quotas",), "must be a mapping")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise QuotaConfigError(("quotas", str(unknown[0])), f"unknown key; expected one of {KEYS}")
    default = base.workspace_gpus
    if "workspace_gpus" in raw:
        value = raw["workspace_gpus"]
        default = None if value is None else _count(value, ("quotas", "workspace_gpus"))
    overrides = dict(base.workspaces)
    per_ws = raw.get("workspaces") or {}
    if not isinstance(per_ws, dict):
        raise QuotaConfigError(
            ("quotas", "workspaces"), "must be a mapping of workspace id to GPUs"
        )
    for ws, value in per_ws.items():
        if value is None:
            overrides.pop(str(ws), None)
        else:
            overrides[str(ws)] = _count(value, ("quotas", "workspaces", str(ws)))
    return Quotas(default, overrides)


class Holdings:
    """Who counts against each workspace's limit: its live jobs and its servers (kept per
    workspace so a check reads one workspace's entities, not the whole world)."""

    def __init__(self) -> None:
        self._jobs: dict[str, dict[str, Any]] = {}
        self._servers: dict[str, dict[str, Any]] = {}
        # told the workspace when a job ends or a server stops holding or awaiting capacity
        # (the what-if's retry loops wait for it instead of polling)
        self.released: Callable[[str], None] | None = None

    def job_started(self, job: Any) -> None:
        self._jobs.setdefault(job.workspace, {})[job.name] = job

    def job_ended(self, job: Any) -> None:
        jobs = self._jobs.get(job.workspace)  # no empty dict made per call
        if jobs is not None:
            jobs.pop(job.name, None)
        if self.released is not None:
            self.released(job.workspace)

    def server_created(self, book: Any) -> None:
        self._servers.setdefault(book.workspace, {})[book.uid] = book

    def server_gone(self, book: Any) -> None:
        self._servers.get(book.workspace, {}).pop(book.uid, None)
        self.server_stopped(book)

    def server_stopped(self, book: Any) -> None:
        """``book`` gave back its capacity or its place in the queue: it counts no more."""
        if self.released is not None:
            self.released(book.workspace)

    def gpus(self, workspace: str) -> int:
        """GPUs the workspace's live jobs and its servers holding or awaiting capacity ask for."""
        jobs = sum(j.gpu_count for j in self._jobs.get(workspace, {}).values())
        return jobs + sum(
            b.gpus
            for b in self._servers.get(workspace, {}).values()
            if b.placement is not None or b.ticket is not None
        )

    def check(self, quotas: Quotas, workspace: str, gpus: int) -> None:
        """Raise :class:`OverQuota` if ``gpus`` more do not fit under the workspace's limit."""
        limit = quotas.limit(workspace)
        if limit is None or gpus == 0:
            return
        free = max(0, limit - self.gpus(workspace))
        if gpus > free:
            raise OverQuota(free)
