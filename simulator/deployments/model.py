"""Inference deployments as data: what was asked for, its replicas, and how it reports itself.

Statuses are the summary the console and the API show; ``model_state`` uses KServe's model
states (Pending, Loading, Loaded, Standby), the serving stack the platform's manifests are.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from simulator.billing import LedgerLine
from simulator.catalog import InstanceType
from simulator.pools import Demand, Placement, Pool

PENDING, LOADING, RUNNING, SCALED_TO_ZERO, DELETED = (
    "Pending",
    "Loading",
    "Running",
    "ScaledToZero",
    "Deleted",
)
QUEUED, STARTING, READY = "queued", "starting", "ready"  # a replica's own states


@dataclass(frozen=True)
class DeploymentSpec:
    """What a user asks for: an image served from ``instance_type`` replicas in ``region``."""

    region: str
    instance_type: str
    image: str
    min_replicas: int = 0
    max_replicas: int = 3
    daily_rps: tuple[float, ...] = ()  # 24 hourly synthetic rps values (UTC hours), or none
    alias: str | None = None
    description: str | None = None


@dataclass(eq=False)
class Replica:
    """One pod of a deployment: queued for capacity, starting (pull + model load), or ready."""

    deployment: Deployment
    seq: int
    state: str = QUEUED
    placement: Placement | None = None
    ready_at: float = 0.0  # epoch; set at placement
    line: LedgerLine | None = None
    token: int = 0  # bumped when the replica goes away, voiding its scheduled steps


@dataclass(eq=False)
class Deployment:
    """One inference service and everything the engine tracks about it (epoch seconds)."""

    name: str
    workspace: str
    spec: DeploymentSpec
    itype: InstanceType
    pool: Pool
    demand: Demand
    bits: int
    seq: int
    created_at: float
    updated_at: float
    target: int = 0  # replicas the autoscaler wants now
    replicas: list[Replica] = field(default_factory=list)
    lines: list[LedgerLine] = field(default_factory=list)
    predicts: deque[float] = field(default_factory=deque)  # env times of recent predicts
    last_predict: float | None = None  # env time
    served: int = 0
    cold_starts: int = 0
    ever_ready: bool = False
    deleted_at: float | None = None
    pending_up: bool = False  # a scale-up decision is scheduled
    pending_down: bool = False  # a scale-down decision is scheduled
    checks: set[float] = field(default_factory=set)  # env times of scheduled load checks

    @property
    def region(self) -> str:
        return self.spec.region

    def count(self, state: str) -> int:
        return sum(r.state == state for r in self.replicas)

    @property
    def status(self) -> str:
        if self.deleted_at is not None:
            return DELETED
        if self.count(READY):
            return RUNNING
        if self.count(STARTING):
            return LOADING
        if not self.replicas and self.ever_ready:
            return SCALED_TO_ZERO
        return PENDING

    @property
    def model_state(self) -> str:
        return {RUNNING: "Loaded", LOADING: "Loading", SCALED_TO_ZERO: "Standby"}.get(
            self.status, "Pending"
        )

    def summary(self) -> dict[str, Any]:
        """The deployment as plain data (replica counts by state)."""
        return {
            "name": self.name,
            "workspace": self.workspace,
            "region": self.spec.region,
            "instance_type": self.itype.key,
            "image": self.spec.image,
            "status": self.status,
            "model_state": self.model_state,
            "replicas": {
                "min": self.spec.min_replicas,
                "max": self.spec.max_replicas,
                "target": self.target,
                "ready": self.count(READY),
                "starting": self.count(STARTING),
                "queued": self.count(QUEUED),
            },
            "served": self.served,
            "cold_starts": self.cold_starts,
        }
