"""Jupyter Servers (and TensorBoards, which the platform runs the same way) as engine objects."""

from __future__ import annotations

from typing import Any

from simulator.catalog import InstanceType
from simulator.pools import Demand, Placement

CREATING, WAITING, RUNNING = "creating", "waiting", "running"
PAUSING, PAUSED, RESUMING, DELETING = "pausing", "paused", "resuming", "deleting"
TIMER_PAUSED = "paused_by_timer"
ERROR = "error"  # its node failed


class Ticket:
    """A server's place in a pool's queue: one per request for capacity, so a server that is
    paused while waiting and resumed later can never be queued twice."""

    __slots__ = ("book", "cancelled", "demand", "n_workers", "placement", "priority_rank", "queue")

    def __init__(self, book: Notebook) -> None:
        self.book = book
        self.queue = book.queue
        self.n_workers = 1
        self.demand = book.demand
        self.priority_rank = book.priority_rank
        self.cancelled = False
        self.placement: Placement | None = None


class Notebook:
    """One server: where it runs, its status, and the capacity, meter and timer it holds."""

    n_workers = 1  # a server is one worker
    priority_rank = 1  # medium, the platform's default for notebooks

    __slots__ = (
        "author",
        "created_at",
        "deleted",
        "demand",
        "extra",
        "image",
        "itype",
        "kind",
        "line",
        "name",
        "placement",
        "pool",
        "queue",
        "region",
        "seq",
        "spans",
        "status",
        "status_updated_at",
        "ticket",
        "timer_s",
        "timer_status",
        "timer_token",
        "uid",
        "workspace",
    )

    def __init__(
        self,
        *,
        uid: str,
        seq: int,
        name: str,
        workspace: str,
        author: str,
        kind: str,
        region: str,
        itype: InstanceType,
        image: str,
        now: float,
        extra: dict[str, Any],
    ) -> None:
        self.uid, self.seq, self.name = uid, seq, name
        self.workspace, self.author, self.kind = workspace, author, kind
        self.image, self.extra = image, extra
        self.created_at = self.status_updated_at = now
        self.status = CREATING
        self.deleted = False
        self.pool: Any = None
        self.queue: Any = None  # its simulator.tenancy.Queue
        self.ticket: Ticket | None = None
        self.placement: Placement | None = None
        self.line: Any = None
        self.spans = 0
        self.timer_s: float | None = None
        self.timer_status = TIMER_PAUSED
        self.timer_token = 0
        self.region = region
        self.itype = itype
        self.demand = Demand.of(itype)

    def set_type(self, region: str, itype: InstanceType) -> None:
        self.region, self.itype, self.demand = region, itype, Demand.of(itype)

    @property
    def noun(self) -> str:
        """How the platform's messages name it: "Notebook" or "Tensorboard"."""
        return "Tensorboard" if self.kind == "tensorboard" else "Notebook"

    @property
    def paused(self) -> bool:
        return self.status == PAUSING or self.status.startswith(PAUSED)

    @property
    def gpus(self) -> int:
        return self.itype.gpus
