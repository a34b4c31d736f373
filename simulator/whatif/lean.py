"""The what-if's lean path: plain training jobs replayed without the engine's per-job objects.

A measured replay (:class:`~simulator.whatif.tally.Tally`) reads of each job only its times,
its shape and its bill. When the workload is training jobs that each carry their run time and
outcome, and the configuration has no GPU quotas, queue limits, dedicated nodes or faults on,
the engine's Job and JobSpec objects, names, tenancy and quota bookkeeping and LedgerLine
objects change nothing the measure reads. This path skips them and does the rest with the
engine's own code: a shape's checks and refusals (the first submission of each shape goes
through them; the rest have their run-time overrides checked), the record's bits and the pull
time drawn from them, the outcome's rule, the startup, the price, and placement and queue order by
:class:`~simulator.scheduler.PoolScheduler` on the engine's pools. Steps are queued in the
engine's order at the engine's times, so the run is the engine's to the last bit
(``tests/whatif/test_lean.py`` compares every metric and series of both paths, on generated
weeks and on Hypothesis' workloads).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from typing import Any

from simulator.engine import Engine, Step
from simulator.errors import Rejected
from simulator.jobs import COMPLETED, FAILED, SUCCEEDED, JobShape, JobSpec
from simulator.pools import Placement
from simulator.runtime import (
    MAX_RUNTIME_S,
    OUTCOME_ENV,
    RUNTIME_ENV,
    bad_script,
    check_overrides,
    succeeds,
)
from simulator.scheduler import PoolScheduler
from simulator.whatif.replay import QUOTA_RETRY_S, Action, Replay, job_spec, record_bits
from simulator.whatif.tally import Tally
from simulator.workload.generate import GeneratorSpec
from simulator.workload.model import DEFAULT_SCRIPT, FAILURE, JOB, SUCCESS, WorkloadItem

DEFAULT_JOB_TYPE = JobSpec.__dataclass_fields__["type"].default


class LeanShape:
    """What the jobs of one (region, type, job type, workers, priority) share, and the indices
    of their tally shapes once known (kept here, so a job's end hashes no tuple to find them)."""

    __slots__ = ("ends", "lines", "sched", "shape", "startup_s")

    def __init__(self, shape: JobShape, sched: PoolScheduler, startup_s: float) -> None:
        self.shape = shape  # the engine's, from its checks of the first such submission
        self.sched = sched  # the lean run's queue of the shape's pool
        self.startup_s = startup_s  # containers started -> Running
        self.ends: list[int] = [-1, -1]  # tally job shape of a failure, of a success
        self.lines: dict[str, int] = {}  # workspace -> tally line shape


class LeanJob:
    """What a job is while it waits and runs: what the scheduler reads, its times, its fate."""

    __slots__ = (
        "cancelled",
        "created_at",
        "demand",
        "item",
        "lean",
        "line_id",
        "n_workers",
        "ok",
        "placed_at",
        "placement",
        "priority_rank",
        "queue",
        "ready_at",
        "running_at",
        "seq",
        "start_at",
    )

    def __init__(
        self,
        item: WorkloadItem,
        lean: LeanShape,
        ok: bool,
        seq: int,
        created_at: float,
        pull_s: float,
    ) -> None:
        self.item, self.lean, self.ok = item, lean, ok  # ok: the run succeeds
        self.seq, self.created_at = seq, created_at
        self.start_at = pull_s  # the pull time, until placed
        self.n_workers, self.demand = item.n_workers, lean.shape.demand
        self.priority_rank = lean.shape.priority_rank
        self.cancelled = False
        self.queue: Any = None  # read only by a gated scheduler, which a lean run never has
        self.placement: Placement | None = None


def plain_job(item: WorkloadItem) -> bool:
    """A training job whose run needs nothing the lean path skips: it carries its run time and
    outcome (no kill, no runtime model) and its script can start."""
    return (
        item.kind == JOB
        and item.run_s is not None
        and item.outcome in (SUCCESS, FAILURE)
        and not bad_script(item.script or DEFAULT_SCRIPT, item.job_type or DEFAULT_JOB_TYPE)
    )


def lean_fits(engine: Engine, workload: GeneratorSpec | Iterable[WorkloadItem]) -> bool:
    """Whether ``workload`` replayed on ``engine`` may take the lean path."""
    if engine.quotas.any or engine._watch is not None or engine._slow_pulls:  # faults on
        return False
    if any(s.preempt is not None for s in engine.schedulers.values()):
        return False
    if any(p.dedicated for p in engine.pools):
        return False
    if any(q.constrained for q in engine.tenancy.all_queues()):
        return False
    if isinstance(workload, GeneratorSpec):  # its jobs are plain; its sessions are not
        return workload.notebooks_per_day == 0
    if not isinstance(workload, Sequence):  # an iterator would be used up by looking
        return False
    return all(plain_job(item) for item in workload)


class LeanReplay(Replay):
    """A :class:`Replay` of plain jobs (see :func:`lean_fits`) that feeds ``tally`` itself."""

    def __init__(
        self,
        items: Iterable[WorkloadItem],
        engine: Engine,
        tally: Tally,
        retry_s: float = QUOTA_RETRY_S,
    ) -> None:
        super().__init__(items, False, retry_s)
        self.engine, self.tally = engine, tally
        self.env, self.t0 = engine.env, engine.start_epoch
        backfill = bool(engine.config.scheduler.get("backfill", False))
        self._scheds = {
            name: PoolScheduler(s.pool, self._placed, backfill)
            for name, s in engine.schedulers.items()
        }
        self._shapes: dict[tuple[Any, ...], LeanShape] = {}
        self._line_ints, self._line_times = tally.line_ints, tally.line_times
        self._job_ints, self._job_times = tally.job_ints, tally.job_times
        self._records: Iterator[tuple[int, WorkloadItem]] = iter(())  # (index, record) to come

    def arrivals(self) -> Iterator[tuple[float, Action]]:
        """The first record, for the engine to feed. From then on each arrival queues the next
        one itself as :meth:`Engine.feed` would (a Step at its time, or at once when due; a
        refusal counted as the engine counts it), without an action, a generator step and
        three calls per record: plain jobs have no follow-ups or retries to merge in."""
        self._records = enumerate(self.items)
        first = next(self._records, None)
        if first is not None:
            yield first[1].submit_s, partial(self._take_first, first)

    def _take_first(self, first: tuple[int, WorkloadItem], _engine: Engine) -> None:
        self._take(first)

    def _arrive(self, event: Step) -> None:
        self._take(event.value)

    def _take(self, current: tuple[int, WorkloadItem]) -> None:
        """Submit ``current`` and every record due with it; queue the next one after them."""
        env, records, rejected = self.env, self._records, self.engine.rejected
        while True:
            try:
                self._submit(*current)
            except Rejected as exc:
                rejected.append((env.now, exc.reason, exc.value))
            upcoming = next(records, None)
            if upcoming is None:
                return
            current = upcoming
            wait = current[1].submit_s - env._now
            if wait > 0:
                Step(env, wait, current, self._arrive)
                return

    def _submit(self, index: int, item: WorkloadItem) -> None:
        """:meth:`Engine.submit_job` of the record's job, as far as the measure can tell: the
        same checks (the first submission of a shape through the engine's own), bits, sequence
        number, pull draw and outcome."""
        engine = self.engine
        key = (item.region, item.instance_type, item.job_type, item.n_workers, item.priority)
        lean = self._shapes.get(key)
        env = {RUNTIME_ENV: item.run_s, OUTCOME_ENV: item.outcome}  # as job_spec sets them
        if lean is None:
            spec = job_spec(item)
            shape = engine._validate_job(spec)
            sched = self._scheds[shape.sched.pool.name]
            lean = LeanShape(shape, sched, engine._startup_s(spec.type))
            self._shapes[key] = lean
        elif not 0.0 <= item.run_s <= MAX_RUNTIME_S:  # type: ignore[operator]  # else valid
            check_overrides(env)  # refuses it as the engine does
        pull = engine._pull_s(record_bits(engine.seed, index))
        job = LeanJob(item, lean, succeeds(env), engine._next_seq(), self.t0 + self.env._now, pull)
        lean.sched.submit(job)

    def _placed(self, job: LeanJob, plan: Placement) -> None:
        job.placement = plan
        now = self.t0 + self.env._now
        job.placed_at = now
        job.start_at = now + job.start_at
        job.ready_at = job.start_at + job.lean.startup_s
        Step(self.env, job.ready_at - now, job, self._running)

    def _running(self, event: Step) -> None:
        job = event.value
        ledger = self.engine.ledger
        ledger.opened += 1  # the line the engine would open now, by its id
        job.line_id = ledger.opened
        job.running_at = self.t0 + self.env._now
        Step(self.env, job.item.run_s, job, self._ended)  # the run time the record gives

    def _ended(self, event: Step) -> None:
        job = event.value
        now = self.t0 + self.env._now
        lean = job.lean
        line = lean.lines.get(job.item.workspace)
        if line is None:
            line = lean.lines[job.item.workspace] = self._line_shape(job)
        self._line_ints.extend((job.line_id, line))
        self._line_times.extend((job.running_at, now))
        ok = job.ok
        end = lean.ends[ok]
        if end < 0:
            end = lean.ends[ok] = self._job_shape(lean.shape, ok)
        self._job_ints.extend((job.seq, end))
        self._job_times.extend((job.created_at, job.placed_at, now))
        sched = lean.sched
        sched.pool.release(job.placement, job.demand)
        job.placement = None
        sched.dispatch()

    def _line_shape(self, job: LeanJob) -> int:
        """The line the engine's ``_job_running`` would open for ``job``, as a tally shape."""
        item, itype = job.item, job.lean.shape.itype
        price = self.engine._job_price(itype, item.n_workers)
        return self.tally.line_shape(
            item.workspace, "job", item.region, itype.key, item.n_workers, price
        )

    def _job_shape(self, shape: JobShape, ok: bool) -> int:
        status = (SUCCEEDED if shape.itype.gpus == 0 else COMPLETED) if ok else FAILED
        return self.tally.job_shape(shape.gpu_count, shape.sched.pool, status)
