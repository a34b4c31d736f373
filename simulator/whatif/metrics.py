"""What one replay cost and how it queued, read from the engine after the run.

Capacity is held by a job from placement to its end and by a Jupyter Server while a ledger line
of it is open; money is the ledger's, in kopecks (Decimal). A session's idle part is the billed
time after its active time, in kopecks per line. A job's wait runs from its first submission, so
time spent in a quota retry loop counts (and is also reported apart). Refusals are counted by
reason and value. Time series are averaged over equal bins of the run (step functions are
integrated, not sampled), so plots stay small at any scale.

The workload's horizon (a month of arrivals, say) splits the bill: what was incurred inside it,
and what draining the backlog left at its end costs after it. Without that split a configuration
that cannot keep up looks cheapest, its "month" covering every day it needed to catch up.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from decimal import Decimal
from typing import Any

import numpy as np

from simulator.billing import SECONDS_PER_HOUR, ZERO, LedgerLine, kopecks
from simulator.config import TARIFFS
from simulator.engine import Engine
from simulator.jobs import COMPLETED, DELETED, FAILED, SUCCEEDED, Job
from simulator.pools import Pool
from simulator.whatif.replay import Replay

QUANTILES = np.linspace(0.0, 1.0, 101)
SUMMARY_STATS = ("mean", "p50", "p95", "p99", "max")


def integral_at(
    starts: np.ndarray, ends: np.ndarray, weights: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """``∫_0^x (sum of weights of the intervals covering t) dt`` for each ``x`` in ``at``."""
    if not len(starts):
        return np.zeros(len(at))
    times = np.concatenate([starts, ends])
    deltas = np.concatenate([weights, -weights])
    order = np.argsort(times, kind="stable")
    times, level = times[order], np.cumsum(deltas[order])
    area = np.concatenate([[0.0], np.cumsum(level[:-1] * np.diff(times))])
    return np.interp(at, times, area, left=0.0, right=float(area[-1]))


def stats(values: Any, prefix: str) -> dict[str, float]:
    """Mean, p50, p95, p99 and max of ``values`` (zeros when there are none)."""
    arr = np.asarray(values, dtype=float)
    if not len(arr):
        return {f"{prefix}_{k}_s": 0.0 for k in SUMMARY_STATS}
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    found = (arr.mean(), p50, p95, p99, arr.max())
    return {f"{prefix}_{k}_s": float(v) for k, v in zip(SUMMARY_STATS, found, strict=True)}


class Spans:
    """Weighted intervals (seconds from start), integrated over time on demand; added a column
    at a time, kept in the order added (ties in time sum in that order)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, starts: np.ndarray, ends: np.ndarray, weights: np.ndarray) -> None:
        self.parts.append((starts, ends, np.broadcast_to(weights, np.shape(starts))))

    def integral_at(self, at: np.ndarray) -> np.ndarray:
        columns = zip(*self.parts, strict=True) if self.parts else ((), (), ())
        return integral_at(*(np.concatenate([*c, np.empty(0)]) for c in columns), at)


def metered_seconds_of(elapsed: np.ndarray, tariff: str) -> np.ndarray:
    """:func:`simulator.billing.metered_seconds` of each element (int64)."""
    seconds = np.where(elapsed > 0, np.ceil(elapsed - 1e-6), 0.0)
    if tariff == "per_minute_ceil":
        seconds = np.ceil(seconds / 60) * 60
    return seconds.astype(np.int64)


def kopecks_of(seconds: np.ndarray, prices: list[Decimal], which: np.ndarray) -> np.ndarray:
    """:func:`simulator.billing.seconds_cost` of each element in whole kopecks, exactly: line i
    costs ``seconds[i]`` at ``prices[which[i]]`` per hour, rounded half up. In 64-bit integers
    when they cannot overflow, else in Python's."""
    ratios = [p.as_integer_ratio() for p in prices]  # kopecks = s x 100 num / (3600 den)
    pairs = [(100 * num, 3600 * den) for num, den in ratios]
    pairs = [(a // math.gcd(a, d), d // math.gcd(a, d)) for a, d in pairs]
    top = max((2 * a * int(seconds.max(initial=0)) + d for a, d in pairs), default=0)
    dtype = np.int64 if top < 2**63 else object
    num = np.array([a for a, _d in pairs], dtype=dtype)[which]
    den = np.array([d for _a, d in pairs], dtype=dtype)[which]
    return (2 * num * seconds.astype(dtype) + den) // (2 * den)


def _money(kopecks: int | np.integer) -> Decimal:
    return Decimal(int(kopecks)).scaleb(-2)


def _running_sum(values: np.ndarray) -> float:
    """Sum in order, as a float accumulated term by term (so the last bit does not move)."""
    return float(np.cumsum(values)[-1]) if len(values) else 0.0


KINDS = ("job", "notebook", "deployment", "tensorboard")
COMPLETED_, FAILED_, KILLED_, OTHER_ = range(4)  # a job's end, as the counts read it
ENDS = {COMPLETED: COMPLETED_, SUCCEEDED: COMPLETED_, FAILED: FAILED_, DELETED: KILLED_}
FORGET_AFTER = 4096  # closed lines a ledger keeps at least, before letting them go
LINE_COLUMNS = ("order", "q"), ("start", "d"), ("stop", "d"), ("gpus", "q"), ("price", "q")
LINE_COLUMNS += ("kind", "b"), ("ws", "q")  # price, workspace: indexes into the tally's lists
JOB_COLUMNS = ("seq", "q"), ("submitted", "d"), ("placed", "d"), ("stop", "d"), ("gpus", "q")
JOB_COLUMNS += ("busy", "q"), ("end", "b")  # busy: the index of its training pool, else -1


class Tally:
    """What the measure reads of each ledger line and each job, as typed columns (8 bytes a
    field, not objects). Attached to a batch run it is fed as lines close and jobs end, and the
    engine forgets each job and ledger line once taken, so a million-job replay never holds a
    million of them; else it reads every line and job after the run. Either way :meth:`finish`
    adds what is still open when the run ends."""

    def __init__(self, engine: Engine, replay: Replay) -> None:
        self.engine, self.replay = engine, replay
        self.attached = False
        self._taken = 0  # lines taken since the ledger last let closed ones go
        self.lines = {k: array(t) for k, t in LINE_COLUMNS}
        self.jobs = {k: array(t) for k, t in JOB_COLUMNS}
        self.notebook_lines: list[tuple[LedgerLine, int]] = []  # (line, GPUs): few, kept whole
        self.prices: dict[Decimal, int] = {}
        self.workspaces: dict[str, int] = {}
        self.busy = [  # training capacity; inference pools are reported as replica-hours
            p for p in engine.pools if p.resource == "gpu" and "inference" not in p.serves
        ]
        self._busy = {p.name: i for i, p in enumerate(self.busy)}
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
        """Take the line; once most of the ledger is taken, let it go (amortised O(1))."""
        self.line(line)
        self._taken += 1
        ledger = self.engine.ledger
        if self._taken > max(FORGET_AFTER, len(ledger.lines) // 2):
            ledger.forget_closed()
            self._taken = 0

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
        cols = self.lines
        cols["order"].append(line.line_id)
        cols["start"].append(line.start)
        cols["stop"].append(line.end if line.end is not None else self.engine.now_epoch())
        gpus = self._line_gpus(line)
        cols["gpus"].append(gpus)
        prices = self.prices
        cols["price"].append(prices.setdefault(line.price_per_hour, len(prices)))
        cols["kind"].append(KINDS.index(line.kind))
        cols["ws"].append(self.workspaces.setdefault(line.workspace, len(self.workspaces)))
        if line.kind == "notebook":
            self.notebook_lines.append((line, gpus))

    def _line_gpus(self, line: LedgerLine) -> int:
        key = (line.region, line.instance_type)
        if key not in self._gpus:
            catalog = self.engine.catalog
            lookup = catalog.inference_type if line.kind == "deployment" else catalog.instance_type
            self._gpus[key] = lookup(*key).gpus
        return self._gpus[key] * line.workers

    def job(self, job: Job) -> None:
        cols = self.jobs
        cols["seq"].append(job.seq)
        cols["submitted"].append(  # before any quota refusal
            job.created_at - self.replay.quota_delays.get(job.name, 0.0)
        )
        cols["placed"].append(job.first_placed_at)
        cols["stop"].append(job.completed_at or self.engine.now_epoch())
        cols["gpus"].append(job.gpu_count)
        cols["busy"].append(self._busy.get(job.pool.pool.name, -1))
        cols["end"].append(ENDS.get(job.status, OTHER_))

    def columns(self, of: dict[str, array], key: str) -> dict[str, np.ndarray]:
        """``of``'s columns as arrays, in the order of ``key`` (the engine's order)."""
        arrays = {k: np.frombuffer(v, dtype=np.dtype(v.typecode)) for k, v in of.items()}
        order = np.argsort(arrays[key], kind="stable")
        return {k: v[order] for k, v in arrays.items()}


class _Run:
    """The report's totals, spans and samples, from a tally's columns."""

    def __init__(self, tally: Tally, horizon_s: float | None) -> None:
        engine, self.replay = tally.engine, tally.replay
        self.t0, self.now = engine.start_epoch, engine.now_epoch()
        self.horizon = self.now if horizon_s is None else self.t0 + horizon_s
        self.gpu_pools = {p.name: p.total_gpus for p in tally.busy}
        self.busy = {name: Spans() for name in self.gpu_pools}
        self.waiting, self.accrual = Spans(), Spans()
        self.money: dict[str, Decimal] = {}
        self.per_ws: dict[str, Decimal] = {}
        self.hours = {"used": 0.0, "billed": 0.0, "idle": 0.0, "replicas": 0.0}
        self.idle_cost = ZERO
        self.by_tariff: dict[str, Decimal] = {}
        self.served_at: dict[str, float] = {}  # notebook uid -> when its server got capacity
        lines = tally.columns(tally.lines, "order")
        jobs = tally.columns(tally.jobs, "seq")
        self.end = max(self.t0, *(float(c["stop"].max(initial=self.t0)) for c in (lines, jobs)))
        self._lines(lines, engine.ledger.tariff, list(tally.prices), list(tally.workspaces))
        self._sessions(sorted(tally.notebook_lines, key=lambda lg: lg[0].line_id), engine)
        self._jobs(jobs, tally.busy)
        self._notebook_waits()

    def _lines(
        self, c: dict[str, np.ndarray], tariff: str, prices: list[Decimal], workspaces: list[str]
    ) -> None:
        """Every line metered under each tariff (inference always per second), in kopecks."""
        start, stop, gpus, which = c["start"], c["stop"], c["gpus"], c["price"]
        per_second = c["kind"] == KINDS.index("deployment")

        def cost(until: np.ndarray, under: str) -> tuple[np.ndarray, np.ndarray]:
            elapsed = until - start
            seconds = np.where(
                per_second,
                metered_seconds_of(elapsed, "per_second"),
                metered_seconds_of(elapsed, under),
            )
            return seconds, kopecks_of(seconds, prices, which)

        for other in TARIFFS:
            seconds, kopecks = cost(stop, other)
            self.by_tariff[other] = _money(kopecks.sum())
            if other == tariff:
                billed, costs = seconds, kopecks
        inside = stop <= self.horizon
        cut = ~inside & (start < self.horizon)  # metered as if it had stopped at the horizon
        at_horizon = cost(np.full(len(start), self.horizon), tariff)[1]
        self.in_horizon = _money(costs[inside].sum() + at_horizon[cut].sum())
        for i, kind in enumerate(KINDS):
            if (c["kind"] == i).any():
                self.money[kind] = _money(costs[c["kind"] == i].sum())
        by_ws = np.zeros(len(workspaces), dtype=costs.dtype)
        np.add.at(by_ws, c["ws"], costs)  # every workspace of the tally has lines
        self.per_ws = {ws: _money(total) for ws, total in zip(workspaces, by_ws, strict=True)}
        self.hours["used"] = _running_sum(gpus * (stop - start) / 3600)
        self.hours["billed"] = _running_sum(gpus * billed / 3600)
        self.hours["replicas"] = _running_sum((stop - start)[per_second] / 3600)
        rates = np.array([float(p) / 3600 for p in prices])[which]
        self.accrual.add(start - self.t0, stop - self.t0, rates)

    def _sessions(self, lines: list[tuple[LedgerLine, int]], engine: Engine) -> None:
        """A Jupyter Server's lines: its capacity, and the billed time after its active time."""
        t0, idle_hours = self.t0, []
        busy: dict[str, list[tuple[float, float, int]]] = {name: [] for name in self.busy}
        for line, gpus in lines:
            session = self.replay.sessions.get(line.item)
            if session is None:
                continue
            stop = line.end if line.end is not None else self.now
            self.served_at.setdefault(line.item, line.start)
            itype = engine.catalog.instance_type(line.region, line.instance_type)
            serving = (p.name for p in engine.pools if p.matches("notebook", line.region, itype))
            pool = next(serving, None)  # the engine's rule: the first pool that matches
            if pool in busy:
                busy[pool].append((line.start - t0, stop - t0, gpus))
            idle = max(0.0, stop - max(line.start, t0 + session.submit_s + session.active_s))
            idle_hours.append(gpus * idle / 3600)
            self.idle_cost += kopecks(Decimal(idle) * line.price_per_hour / SECONDS_PER_HOUR)
        self.hours["idle"] = _running_sum(np.array(idle_hours))
        for name, spans in busy.items():
            self.busy[name].add(*np.array(spans, dtype=float).reshape(-1, 3).T)

    def _jobs(self, c: dict[str, np.ndarray], pools: list[Pool]) -> None:
        t0, horizon = self.t0, self.horizon
        submitted, placed, stop, gpus = c["submitted"], c["placed"], c["stop"], c["gpus"]
        ran = placed != 0
        self.waiting.add(submitted - t0, np.where(ran, placed, stop) - t0, np.ones(1))
        self.waits = (placed - submitted)[ran]
        for i, pool in enumerate(pools):
            mine = ran & (c["busy"] == i)
            self.busy[pool.name].add(placed[mine] - t0, stop[mine] - t0, gpus[mine].astype(float))
        late = (submitted < horizon) & (horizon < stop)  # unfinished at the horizon: draining
        self.backlog = {
            "jobs": int(late.sum()),
            "queued": int((late & (~ran | (placed >= horizon))).sum()),
            "gpu_hours": _running_sum(
                (gpus * (stop - np.maximum(placed, horizon)) / 3600)[late & ran]
            ),
        }
        ends = np.bincount(c["end"], minlength=4)
        self.counts = {
            "completed": int(ends[COMPLETED_]),
            "failed": int(ends[FAILED_]),
            "killed": int(ends[KILLED_]),
        }
        self.jobs = len(submitted)
        self.turnaround = (stop - submitted)[c["end"] != KILLED_]

    def _notebook_waits(self) -> None:
        sessions = self.replay.sessions.items()
        served = [self.served_at.get(uid, self.t0 + s.end_s) for uid, s in sessions]
        self.waiting.add(  # a server not given capacity waited until deleted
            np.array([s.submit_s for _uid, s in sessions], dtype=float),
            np.array(served, dtype=float) - self.t0,
            np.ones(1),
        )


def rejections(refused: list[tuple[float, str, str]]) -> list[dict[str, Any]]:
    """How many requests were refused for each (reason, offending value), most frequent first."""
    counts = Counter((reason, value) for _t, reason, value in refused)
    return [
        {"reason": reason, "value": value, "count": n}
        for (reason, value), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def measure(
    engine: Engine,
    replay: Replay,
    bins: int = 400,
    horizon_s: float | None = None,
    tally: Tally | None = None,
) -> dict[str, Any]:
    """Metrics and binned time series of one finished replay (plain floats, JSON-ready); money
    is split at ``horizon_s`` (seconds from the start; None: the whole run is the horizon).
    ``tally``: the one attached to the run, if any (else the engine is read now)."""
    tally = tally or Tally(engine, replay)
    tally.finish()
    run = _Run(tally, horizon_s)
    makespan = run.end - run.t0
    horizon = makespan if makespan > 0 else 1.0
    edges = np.linspace(0.0, horizon, bins + 1)
    width = np.diff(edges)
    utilisation, util_series, busy_total = {}, {}, 0.0
    for name, spans in run.busy.items():
        area = spans.integral_at(edges)
        busy_total += float(area[-1])
        utilisation[f"utilisation_{name}"] = float(area[-1]) / (run.gpu_pools[name] * horizon)
        util_series[name] = (np.diff(area) / width / run.gpu_pools[name]).tolist()
    total = sum(run.money.values(), ZERO)
    metrics = {
        "horizon_s": run.horizon - run.t0,
        "cost_horizon": run.in_horizon,
        "backlog_jobs": run.backlog["jobs"],
        "backlog_jobs_queued": run.backlog["queued"],
        "backlog_gpu_hours": run.backlog["gpu_hours"],
        "cost_drain": total - run.in_horizon,
        "cost_total": total,
        "cost_jobs": run.money.get("job", ZERO),
        "cost_notebooks": run.money.get("notebook", ZERO),
        "cost_active_notebooks": run.money.get("notebook", ZERO) - run.idle_cost,
        "cost_idle_notebooks": run.idle_cost,
        "cost_inference": run.money.get("deployment", ZERO),
        "inference_replica_hours": run.hours["replicas"],
        **{f"cost_if_{t}": v for t, v in run.by_tariff.items()},
        "gpu_hours_used": run.hours["used"],
        "gpu_hours_billed": run.hours["billed"],
        "gpu_hours_idle_notebooks": run.hours["idle"],
        **stats(run.waits, "wait"),
        "quota_delayed_jobs": len(replay.quota_delays),
        "quota_refusals": replay.quota_retries,
        "quota_stuck": replay.quota_stuck,
        **stats(array("d", replay.quota_delays.values()), "quota_wait"),
        **stats(run.turnaround, "jct"),
        "utilisation": busy_total / ((sum(run.gpu_pools.values()) or 1) * horizon),
        **utilisation,
        "makespan_s": makespan,
        "jobs": run.jobs,
        "jobs_completed": run.counts["completed"],
        "jobs_failed": run.counts["failed"],
        "jobs_killed": run.counts["killed"],
        "notebooks": len(replay.sessions),
        "notebooks_moved": len(replay.moved),
        "rejected": len(engine.rejected),
    }
    return {
        "metrics": metrics,
        "rejections": rejections(engine.rejected),
        "cost_by_workspace": dict(sorted(run.per_ws.items())),
        "currency": engine.prices.currency,
        "series": {
            "edges_s": edges.tolist(),
            "utilisation": util_series,
            "queue": (np.diff(run.waiting.integral_at(edges)) / width).tolist(),
            "cost": np.round(run.accrual.integral_at(edges), 2).tolist(),
            "wait_quantiles_s": (
                np.quantile(run.waits, QUANTILES).tolist() if len(run.waits) else []
            ),
        },
    }
