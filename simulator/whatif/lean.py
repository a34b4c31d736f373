"""The what-if's lean path: plain training jobs replayed without the engine's per-job objects.

A measured replay (:class:`~simulator.whatif.tally.Tally`) reads of each job only its times,
its shape and its bill. For a plain job (it carries its run time and a success or failure
outcome, and its script can start) on a configuration with no queue limits, dedicated nodes or
faults on, the engine's Job and JobSpec objects, name and LedgerLine change nothing the
measure reads. This path skips them and does the rest with
the engine's own code: a shape's checks and refusals (the first submission of each shape goes
through them; the rest have their run-time overrides checked), the workspace's GPU quota
(a refused job waits as :class:`Replay` makes it wait), the record's bits and the pull time
drawn from them, the outcome's rule, the startup, the price, the job's queue, and placement and
queue order by the engine's schedulers. Every other record (a Jupyter session, a deployment, a
kill, a quota retry, a job the runtime model times) is replayed as :class:`Replay` replays it,
through the engine, on the same pools and clock. Steps are queued in the engine's order at the
engine's times, so the run is the engine's to the last bit (``tests/whatif/test_lean.py``
compares every metric and series of both paths; ``test_measure_unchanged.py`` holds digests
recorded before this path existed).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from simulator.engine import Engine, Step
from simulator.errors import OverQuota, Rejected
from simulator.jobs import COMPLETED, FAILED, SUCCEEDED, JobShape, JobSpec
from simulator.pools import Placement
from simulator.runtime import (
    MAX_RUNTIME_S,
    OUTCOME_ENV,
    bad_script,
    check_overrides,
    succeeds,
)
from simulator.tenancy import Queue
from simulator.whatif.replay import (
    QUOTA_RETRY_S,
    Action,
    Replay,
    job_env,
    job_spec,
    never_fits_quota,
    record_bits,
)
from simulator.whatif.tally import Tally
from simulator.workload.model import DEFAULT_SCRIPT, FAILURE, JOB, SUCCESS, WorkloadItem

DEFAULT_JOB_TYPE = JobSpec.__dataclass_fields__["type"].default
PLAIN_OUTCOMES = (SUCCESS, FAILURE)
SUCCEEDS = {o: succeeds({OUTCOME_ENV: o}) for o in PLAIN_OUTCOMES}  # the engine's rule, once
Arrival = tuple[int, Any]  # (record index, record), or (-1, follow-up action)


class Due:
    """The first arrival, carried as a Step carries the later ones (``value``)."""

    __slots__ = ("value",)

    def __init__(self, value: Arrival) -> None:
        self.value = value


class LeanShape:
    """What the jobs of one (region, type, job type, workers, priority) share, and what is
    looked up once per workspace (kept here, so a job's end hashes no tuple to find them)."""

    __slots__ = ("ends", "lines", "placed", "queues", "shape")

    def __init__(self, shape: JobShape, placed: Callable[[LeanJob], None]) -> None:
        self.shape = shape  # the engine's, from its checks of the first such submission
        self.placed = placed  # the replay's step for a placed job
        self.ends: list[int] = [-1, -1]  # tally job shape of a failure, of a success
        self.lines: dict[str, int] = {}  # workspace -> tally line shape
        self.queues: dict[str, Queue] = {}  # workspace -> the queue its jobs go through


class LeanJob:
    """What a job is while it waits and runs: what the engine's scheduler and capacity
    bookkeeping read (an :class:`~simulator.engine.PlacedBySelf`), its times, its fate."""

    __slots__ = (
        "cancelled",
        "created_at",
        "demand",
        "gpu_count",
        "item",
        "lean",
        "line_id",
        "n_workers",
        "name",
        "ok",
        "placed",
        "placed_at",
        "placement",
        "pool",
        "priority_rank",
        "queue",
        "ready_at",
        "running_at",
        "seq",
        "start_at",
        "workspace",
    )

    def __init__(
        self,
        item: WorkloadItem,
        lean: LeanShape,
        ok: bool,
        seq: int,
        created_at: float,
        pull_s: float,
        queue: Queue,
    ) -> None:
        self.item, self.lean, self.ok = item, lean, ok  # ok: the run succeeds
        self.seq, self.created_at, self.queue = seq, created_at, queue
        self.start_at = pull_s  # the pull time, until placed
        self.n_workers, self.demand = item.n_workers, lean.shape.demand
        self.priority_rank = lean.shape.priority_rank
        self.pool = lean.shape.sched
        self.placed = lean.placed
        self.cancelled = False
        self.placement: Placement | None = None


def plain_job(item: WorkloadItem, startable: set[tuple[str, str]]) -> bool:
    """A training job whose run needs nothing the lean path skips: it carries its run time and
    outcome (no kill, no runtime model) and its script can start. ``startable`` remembers the
    (script, job type) pairs found able to start, so each is checked once per replay."""
    if item.kind != JOB or item.run_s is None or item.outcome not in PLAIN_OUTCOMES:
        return False
    key = (item.script, item.job_type)
    if key in startable:
        return True
    if bad_script(item.script or DEFAULT_SCRIPT, item.job_type or DEFAULT_JOB_TYPE):
        return False
    startable.add(key)
    return True


def lean_fits(engine: Engine) -> bool:
    """Whether a replay on ``engine`` may take the lean path for its plain jobs: nothing a
    lean job skips (per-queue limits and nodes, faults' tracking) is in force."""
    if engine._watch is not None or engine._slow_pulls:  # faults on
        return False
    if any(s.preempt is not None for s in engine.schedulers.values()):
        return False
    if any(p.dedicated for p in engine.pools):
        return False
    return not any(q.constrained for q in engine.tenancy.all_queues())


class LeanReplay(Replay):
    """A :class:`Replay` (see :func:`lean_fits`) that feeds ``tally`` its plain jobs itself."""

    def __init__(
        self,
        items: Iterable[WorkloadItem],
        engine: Engine,
        tally: Tally,
        jupyter_to_region: bool = False,
        retry_s: float = QUOTA_RETRY_S,
    ) -> None:
        super().__init__(items, jupyter_to_region, retry_s)
        self.engine, self.tally = engine, tally
        self.env, self.t0 = engine.env, engine.start_epoch
        self._shapes: dict[tuple[Any, ...], LeanShape] = {}
        self._line_ints, self._line_times = tally.line_ints, tally.line_times
        self._job_ints, self._job_times = tally.job_ints, tally.job_times
        self._records: Iterator[tuple[int, WorkloadItem]] = iter(())  # (index, record) to come
        self._pending: tuple[int, WorkloadItem] | None = None  # the next record, once read
        self._startable: set[tuple[str, str]] = set()  # (script, job type) a plain job had

    def arrivals(self) -> Iterator[tuple[float, Action]]:
        """The first arrival, for the engine to feed. From then on each arrival queues the next
        itself as :meth:`Engine.feed` would feed :meth:`Replay.arrivals` (the same records
        and follow-ups in the same order; a Step at its time, or at once when due; a refusal
        counted as the engine counts it), without an action and a generator step per record."""
        self._records = enumerate(self.items)
        first = self._upcoming()
        if first is not None:
            yield first[0], partial(self._take_first, Due(first[1]))

    def _upcoming(self) -> tuple[float, Arrival] | None:
        """(time, arrival) of what comes next: a follow-up due by the next record first, as
        :meth:`Replay.arrivals` merges them; None at the end."""
        record = self._pending
        if record is None:
            record = self._pending = next(self._records, None)
        later = self._later
        if later and (record is None or later[0][0] <= record[1].submit_s):
            t, _, action = heapq.heappop(later)
            return t, (-1, action)
        if record is None:
            return None
        self._pending = None
        return record[1].submit_s, record

    def _take_first(self, first: Due, _engine: Engine) -> None:
        self._take(first)

    def _take(self, due: Step | Due) -> None:
        """Act on the arrival ``due`` carries and on every one due with it; queue the next one
        after them (a Step whose callback is this method)."""
        env, engine, rejected = self.env, self.engine, self.engine.rejected
        arrival: Arrival = due.value
        startable, later, records = self._startable, self._later, self._records
        while True:
            index, what = arrival
            try:
                if index < 0:
                    what(engine)  # a follow-up
                elif plain_job(what, startable):
                    self._submit(index, what)
                else:
                    self._start(what, index, engine)
            except Rejected as exc:
                rejected.append((env.now, exc.reason, exc.value))
            if later or self._pending is not None:
                upcoming = self._upcoming()
                if upcoming is None:
                    return
                t, arrival = upcoming
            else:  # no follow-up waits: the next record is what comes (_upcoming, faster)
                record = next(records, None)
                if record is None:
                    return
                t, arrival = record[1].submit_s, record
            wait = t - env._now
            if wait > 0:
                Step(env, wait, arrival, self._take)
                return

    def _submit(self, index: int, item: WorkloadItem) -> None:
        """:meth:`Engine.submit_job` of the record's job, as far as the measure can tell: the
        same checks (the first submission of a shape through the engine's own), queue, bits,
        sequence number, pull draw and outcome."""
        engine = self.engine
        key = (item.region, item.instance_type, item.job_type, item.n_workers, item.priority)
        lean = self._shapes.get(key)
        if lean is None:
            lean = LeanShape(engine._validate_job(job_spec(item)), self._placed)
            self._shapes[key] = lean
        elif not 0.0 <= item.run_s <= MAX_RUNTIME_S:  # type: ignore[operator]  # else valid
            check_overrides(job_env(item))  # refuses it as the engine does
        queue = lean.queues.get(item.workspace)
        if queue is None:
            queue = engine.tenancy.resolve(item.workspace, item.region, None, None)
            lean.queues[item.workspace] = queue
        quotas = engine.quotas
        if quotas.any:
            try:
                engine.holdings.check(quotas, item.workspace, lean.shape.gpu_count)
            except OverQuota:
                if never_fits_quota(item, engine):
                    raise
                self._wait_for_quota(item, index, engine)  # its retries take the full path
                return
        pull = engine._pull_s(record_bits(engine.seed, index))
        seq, now = engine._next_seq(), self.t0 + self.env._now
        job = LeanJob(item, lean, SUCCEEDS[item.outcome], seq, now, pull, queue)
        if quotas.any:  # it counts against its workspace's limit while it lives
            job.name, job.workspace, job.gpu_count = seq, item.workspace, lean.shape.gpu_count
            engine.holdings.job_started(job)
        queue.members += 1
        job.pool.submit(job)

    def _placed(self, job: LeanJob) -> None:
        now = self.t0 + self.env._now
        job.placed_at = now
        job.start_at = now + job.start_at
        job.ready_at = job.start_at + job.lean.shape.startup_s
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
        if self.engine.quotas.any:  # as Engine._end: waiting jobs of the workspace try again
            self.engine.holdings.job_ended(job)
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
        job.queue.members -= 1
        self.engine._release(job)  # type: ignore[arg-type]  # a PlacedBySelf

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
