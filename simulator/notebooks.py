"""Jupyter Servers (and TensorBoards, which the platform runs the same way) as engine objects."""

from __future__ import annotations

from typing import Any

from simulator.catalog import InstanceType
from simulator.pools import Demand, Placement

CREATING, WAITING, RUNNING = "creating", "waiting", "running"
PAUSING, PAUSED, RESUMING, DELETING = "pausing", "paused", "resuming", "deleting"
HOLDING = frozenset({CREATING, RUNNING, RESUMING})  # states that hold capacity and are billed


class Notebook:
    """One server: where it runs, its status, and the capacity and meter it holds."""

    __slots__ = (
        "author",
        "cancelled",
        "created_at",
        "deleted",
        "demand",
        "extra",
        "image",
        "itype",
        "kind",
        "line",
        "n_workers",
        "name",
        "placement",
        "pool",
        "priority_rank",
        "region",
        "seq",
        "status",
        "status_updated_at",
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
        self.n_workers = 1
        self.priority_rank = 1
        self.cancelled = False
        self.pool: Any = None
        self.placement: Placement | None = None
        self.line: Any = None
        self.region = region
        self.itype = itype
        self.demand = Demand.of(itype)

    def set_type(self, region: str, itype: InstanceType) -> None:
        self.region, self.itype, self.demand = region, itype, Demand.of(itype)

    @property
    def gpus(self) -> int:
        return self.itype.gpus
