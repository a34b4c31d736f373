"""Training jobs: what was asked (JobSpec) and what happened (Job timeline and status)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.catalog import InstanceType
from simulator.pools import Demand, Placement
from simulator.randomness import uuid4_str

PENDING, RUNNING, RESTARTING = "Pending", "Running", "Restarting"
COMPLETED, SUCCEEDED, FAILED, DELETED = "Completed", "Succeeded", "Failed", "Deleted"
TERMINATED = "Terminated"  # preempted
UID_SALT = 0x5BD1E9955BD1E9955BD1E9955BD1E995  # uid = the name's bits with this xor
TERMINAL = frozenset({COMPLETED, SUCCEEDED, FAILED, DELETED, TERMINATED, "Stopped"})
NODE_FAILURE = "node_failure"
JOB_TYPES = (
    "binary",
    "horovod",
    "pytorch",
    "pytorch2",
    "torchrun",
    "pytorch_elastic",
    "nogpu",
    "binary_exp",
    "cce",
    "spark",
)


@dataclass(slots=True)
class JobSpec:
    """A submission, as the Public API's RunJobRequest carries it (``params`` keeps every field)."""

    script: str
    base_image: str
    instance_type: str
    region: str = "DGX2-MT"
    type: str = "horovod"
    n_workers: int = 1
    priority_class: str | None = None
    job_desc: str | None = None
    env_variables: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> JobSpec:
        """Build from a RunJobRequest-shaped dict (unknown keys stay in ``params``)."""
        return cls(
            script=params.get("script") or "",
            base_image=params.get("base_image") or "",
            instance_type=params.get("instance_type") or "",
            region=params.get("region") or "DGX2-MT",
            type=params.get("type") or "horovod",
            n_workers=int(params.get("n_workers") or 1),
            priority_class=params.get("priority_class"),
            job_desc=params.get("job_desc"),
            env_variables=dict(params.get("env_variables") or {}),
            flags=dict(params.get("flags") or {}),
            params=dict(params),
        )


@dataclass(slots=True)
class Attempt:
    """A run of a job that a node failure cut short and that was restarted from scratch."""

    placed_at: float
    start_at: float
    ready_at: float
    running_at: float  # 0 if the node failed before the job was Running
    ended_at: float
    node: str
    line: Any  # its ledger line, None if it never ran


class JobShape:
    """What every job of one shape (region, instance type, job type, workers, priority) has
    alike, worked out once when the shape is first validated: ``text`` is the shape's part of
    the text a job's name is drawn from, ``startup_s`` the time from containers started to
    Running (it depends on the job type)."""

    __slots__ = (
        "demand",
        "gpu_count",
        "itype",
        "priority_class",
        "priority_rank",
        "sched",
        "startup_s",
        "text",
    )

    def __init__(
        self,
        itype: InstanceType,
        priority_class: str,
        priority_rank: int,
        sched: Any,
        n_workers: int,
        text: str,
        startup_s: float,
    ) -> None:
        self.itype, self.sched = itype, sched
        self.priority_class, self.priority_rank = priority_class, priority_rank
        self.demand = Demand.of(itype)
        self.gpu_count = n_workers * itype.gpus
        self.text = text
        self.startup_s = startup_s


class Job:
    """One training job and its timeline. Timestamps are epoch seconds, 0 until reached; the
    placement and run timestamps are those of the current attempt (see ``history``)."""

    __slots__ = (
        "author",
        "bits",
        "cancelled",
        "completed_at",
        "created_at",
        "demand",
        "fail_reason",
        "fault_node",
        "gpu_count",
        "history",
        "itype",
        "line",
        "n_workers",
        "name",
        "pending_at",
        "placed_at",
        "placement",
        "plan",
        "pool",
        "preemptors",
        "priority_class",
        "priority_rank",
        "queue",
        "ready_at",
        "restarted_from",
        "running_at",
        "seq",
        "spec",
        "start_at",
        "startup_s",
        "status",
        "token",
        "updated_at",
        "workspace",
    )

    def __init__(
        self,
        name: str,
        bits: int,
        seq: int,
        workspace: str,
        author: str,
        spec: JobSpec,
        shape: JobShape,
        now: float,
    ) -> None:
        self.name, self.bits, self.seq = name, bits, seq
        self.workspace, self.author, self.spec, self.itype = workspace, author, spec, shape.itype
        self.n_workers = spec.n_workers
        self.gpu_count, self.demand = shape.gpu_count, shape.demand
        self.priority_class, self.priority_rank = shape.priority_class, shape.priority_rank
        self.startup_s = shape.startup_s
        self.cancelled = False
        self.status = PENDING
        self.created_at = self.pending_at = self.updated_at = now
        self.running_at = self.completed_at = 0.0
        self.placed_at = self.start_at = self.ready_at = 0.0
        self.placement: Placement | None = None
        self.pool: Any = None
        self.queue: Any = None  # its simulator.tenancy.Queue
        self.plan: Any = None
        self.line: Any = None
        self.fail_reason = ""
        self.restarted_from: str | None = None
        self.token = 0  # bumped whenever the steps scheduled for the job become void
        self.history: tuple[Attempt, ...] = ()
        self.fault_node = ""  # the node whose failure ended the job
        self.preemptors: tuple[dict[str, Any], ...] = ()

    @property
    def uid(self) -> str:
        """The job's UUID (the API's ``uid``), derived from the bits its name came from."""
        return uuid4_str(self.bits ^ UID_SALT)

    @property
    def region(self) -> str:
        return self.spec.region

    @property
    def cpu_only(self) -> bool:
        return self.itype.gpus == 0

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def first_placed_at(self) -> float:
        """When the job first got capacity (0 if never)."""
        return self.history[0].placed_at if self.history else self.placed_at

    def run_seconds(self, now: float) -> float:
        """Time spent Running so far, over every attempt (the API's ``duration``)."""
        ran = sum(a.ended_at - a.running_at for a in self.history if a.running_at)
        if not self.running_at:
            return ran
        end = self.completed_at or now
        return ran + max(0.0, end - self.running_at)
