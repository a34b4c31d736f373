"""A replay's ledger lines and jobs as typed columns, taken while the run goes or after it.

A million-job replay kept as objects (Job, JobSpec, LedgerLine, names) is ~1.2 KB a job. What
the report needs of each is an order (line id, job seq), a shape (an index into a small table
of what many share: workspace, kind, GPUs, price; GPUs, pool, how it ended) and its times: the
tally keeps those, 32-40 bytes, and the engine lets the objects go once they are taken.
"""

from __future__ import annotations

from array import array
from decimal import Decimal
from typing import Any, NamedTuple

from simulator.billing import LedgerLine
from simulator.engine import Engine
from simulator.jobs import COMPLETED, DELETED, FAILED, SUCCEEDED, Job
from simulator.pools import Pool
from simulator.whatif.replay import Replay

KINDS = ("job", "notebook", "deployment", "tensorboard")
COMPLETED_, FAILED_, KILLED_, OTHER_ = range(4)  # a job's end, as the counts read it
ENDS = {COMPLETED: COMPLETED_, SUCCEEDED: COMPLETED_, FAILED: FAILED_, DELETED: KILLED_}
FORGET_AFTER = 4096  # closed lines a ledger keeps at least, before letting them go


class LineShape(NamedTuple):
    """What lines have in common: most of a million lines share a few dozen shapes."""

    workspace: str
    kind: int  # index in KINDS
    gpus: int
    price: Decimal  # per hour, all workers


class TalliedJobShape(NamedTuple):
    gpus: int
    busy: int  # the index of its training pool in Tally.busy, else -1
    end: int  # COMPLETED_ .. OTHER_


class Tally:
    """What the measure reads of each ledger line and each job, as typed columns: an order, a
    shape (an index into a small table) and two or three times, 32-40 bytes, not the objects.
    Attached to a batch run it is fed as lines close and jobs end, and the engine forgets each
    job and ledger line once taken, so a million-job replay never holds a million of them; else
    it reads every line and job after the run. Either way :meth:`finish` adds what is still
    open when the run ends."""

    def __init__(self, engine: Engine, replay: Replay) -> None:
        self.engine, self.replay = engine, replay
        self.attached = False
        self._taken = 0  # lines taken since the ledger last let closed ones go
        self._forget_after = FORGET_AFTER  # ... and how many more it may hold (>= those open)
        self.line_ints, self.line_times = array("q"), array("d")  # (line id, shape), (start, stop)
        self.job_ints, self.job_times = array("q"), array("d")  # (seq, shape), (sub, placed, stop)
        self.line_shapes: dict[tuple[Any, ...], int] = {}
        self.job_shapes: dict[tuple[Any, ...], int] = {}
        self.line_table: list[LineShape] = []
        self.job_table: list[TalliedJobShape] = []
        self.notebook_lines: list[tuple[LedgerLine, int]] = []  # (line, GPUs): few, kept whole
        self.busy = [  # training capacity; inference pools are reported as replica-hours
            p for p in engine.pools if p.resource == "gpu" and "inference" not in p.serves
        ]
        self._gpus: dict[tuple[str, str], int] = {}

    def attach(self) -> None:
        """Be fed by the engine while it runs, and let it forget finished jobs and lines."""
        self.attached = True
        self.engine.ledger.closed = self._closed
        self.engine.ended = self._ended

    def _ended(self, job: Job) -> None:
        self.job(job)
        del self.engine.jobs[job.name]

    def _closed(self, line: LedgerLine) -> None:
        """Take the line; once the ledger holds more taken lines than open ones, let them go
        (amortised O(1) a line)."""
        self.line(line)
        self._taken += 1
        if self._taken > self._forget_after:
            ledger = self.engine.ledger
            ledger.forget_closed()
            self._taken, self._forget_after = 0, max(FORGET_AFTER, len(ledger.lines))

    def finish(self) -> None:
        """Add the lines and jobs not fed yet (all of them when not attached)."""
        engine = self.engine
        engine.ledger.closed = engine.ended = None
        for line in engine.ledger.lines:
            if line.end is None or not self.attached:
                self.line(line)
        for job in engine.jobs.values():
            self.job(job)

    def line(self, line: LedgerLine) -> None:
        shape = self.line_shape(
            line.workspace,
            line.kind,
            line.region,
            line.instance_type,
            line.workers,
            line.price_per_hour,
        )
        end = line.end
        self.line_ints.extend((line.line_id, shape))
        self.line_times.extend((line.start, end if end is not None else self.engine.now_epoch()))
        if line.kind == "notebook":
            self.notebook_lines.append((line, self.line_table[shape].gpus))

    def line_shape(
        self,
        workspace: str,
        kind: str,
        region: str,
        instance_type: str,
        workers: int,
        price: Decimal,
    ) -> int:
        """The index of a line's shape in ``line_table`` (added the first time it is seen)."""
        key = (workspace, kind, region, instance_type, workers, price)
        shape = self.line_shapes.get(key)
        if shape is not None:
            return shape
        if (region, instance_type) not in self._gpus:  # the first kind seen names the lookup
            catalog = self.engine.catalog
            lookup = catalog.inference_type if kind == "deployment" else catalog.instance_type
            self._gpus[region, instance_type] = lookup(region, instance_type).gpus
        gpus = self._gpus[region, instance_type] * workers
        self.line_table.append(LineShape(workspace, KINDS.index(kind), gpus, price))
        shape = self.line_shapes[key] = len(self.line_table) - 1
        return shape

    def job(self, job: Job) -> None:
        shape = self.job_shape(job.gpu_count, job.pool.pool, job.status)
        self.job_ints.extend((job.seq, shape))
        submitted = job.created_at - self.replay.quota_delays.get(job.name, 0.0)
        stop = job.completed_at or self.engine.now_epoch()
        self.job_times.extend((submitted, job.first_placed_at, stop))

    def job_shape(self, gpus: int, pool: Pool, status: str) -> int:
        """The index of a job's shape in ``job_table`` (added the first time it is seen)."""
        key = (gpus, pool, status)
        shape = self.job_shapes.get(key)
        if shape is None:
            busy = self.busy.index(pool) if pool in self.busy else -1
            self.job_table.append(TalliedJobShape(gpus, busy, ENDS.get(status, OTHER_)))
            shape = self.job_shapes[key] = len(self.job_table) - 1
        return shape
