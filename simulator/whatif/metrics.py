"""What one replay cost and how it queued, computed with numpy from a tally's columns (each
ledger line and job, taken while the run goes or from the engine after it: see
:mod:`simulator.whatif.tally`). Money stays exact: kopecks are integers, each line rounded half
up as the ledger's Decimal does, and float totals are summed in the engine's order of lines and
jobs, so the figures are the same to the last bit whichever way the tally was fed.

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
from simulator.pools import Pool
from simulator.whatif.replay import Replay
from simulator.whatif.tally import (
    COMPLETED_,
    FAILED_,
    KILLED_,
    KINDS,
    LineShape,
    TalliedJobShape,
    Tally,
)

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


def _sorted(ints: array, times: array, fields: int) -> tuple[np.ndarray, np.ndarray]:
    """(shapes, times as rows) in the engine's order (of line ids, of job seqs)."""
    pairs = np.frombuffer(ints, dtype=np.int64).reshape(-1, 2)
    order = np.argsort(pairs[:, 0], kind="stable")
    return pairs[order, 1], np.frombuffer(times, dtype=float).reshape(-1, fields)[order].T


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
        shapes, (start, stop) = _sorted(tally.line_ints, tally.line_times, 2)
        job_shapes, job_times = _sorted(tally.job_ints, tally.job_times, 3)
        self.end = float(max(self.t0, stop.max(initial=self.t0), job_times[2].max(initial=self.t0)))
        self._lines(shapes, start, stop, tally.line_table, engine.ledger.tariff)
        self._sessions(sorted(tally.notebook_lines, key=lambda lg: lg[0].line_id), engine)
        self._jobs(job_shapes, *job_times, tally.job_table, tally.busy)
        self._notebook_waits()

    def _lines(
        self,
        shapes: np.ndarray,
        start: np.ndarray,
        stop: np.ndarray,
        table: list[LineShape],
        tariff: str,
    ) -> None:
        """Every line metered under each tariff (inference always per second), in kopecks."""
        gpus = np.array([s.gpus for s in table], dtype=np.int64)[shapes]
        prices = [s.price for s in table]
        deployment = KINDS.index("deployment")
        per_second = np.array([s.kind == deployment for s in table], dtype=bool)[shapes]

        def cost(until: np.ndarray, under: str) -> tuple[np.ndarray, np.ndarray]:
            elapsed = until - start
            seconds = np.where(
                per_second,
                metered_seconds_of(elapsed, "per_second"),
                metered_seconds_of(elapsed, under),
            )
            return seconds, kopecks_of(seconds, prices, shapes)

        for other in TARIFFS:
            seconds, kopecks = cost(stop, other)
            self.by_tariff[other] = _money(kopecks.sum())
            if other == tariff:
                billed, costs = seconds, kopecks
        inside = stop <= self.horizon
        cut = ~inside & (start < self.horizon)  # metered as if it had stopped at the horizon
        at_horizon = cost(np.full(len(start), self.horizon), tariff)[1]
        self.in_horizon = _money(costs[inside].sum() + at_horizon[cut].sum())
        by_shape = np.zeros(len(table), dtype=costs.dtype)
        np.add.at(by_shape, shapes, costs)  # every shape of the table has lines
        money: dict[str, int] = {}
        per_ws: dict[str, int] = {}
        for shape, total in zip(table, by_shape.tolist(), strict=True):
            kind = KINDS[shape.kind]
            money[kind] = money.get(kind, 0) + total
            per_ws[shape.workspace] = per_ws.get(shape.workspace, 0) + total
        self.money = {kind: _money(total) for kind, total in money.items()}
        self.per_ws = {ws: _money(total) for ws, total in per_ws.items()}
        self.hours["used"] = _running_sum(gpus * (stop - start) / 3600)
        self.hours["billed"] = _running_sum(gpus * billed / 3600)
        self.hours["replicas"] = _running_sum((stop - start)[per_second] / 3600)
        rates = np.array([float(p) / 3600 for p in prices])[shapes]
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

    def _jobs(
        self,
        shapes: np.ndarray,
        submitted: np.ndarray,
        placed: np.ndarray,
        stop: np.ndarray,
        table: list[TalliedJobShape],
        pools: list[Pool],
    ) -> None:
        t0, horizon = self.t0, self.horizon
        gpus, busy, end = np.array(table, dtype=np.int64).reshape(-1, 3)[shapes].T
        ran = placed != 0
        self.waiting.add(submitted - t0, np.where(ran, placed, stop) - t0, np.ones(1))
        self.waits = (placed - submitted)[ran]
        for i, pool in enumerate(pools):
            mine = ran & (busy == i)
            self.busy[pool.name].add(placed[mine] - t0, stop[mine] - t0, gpus[mine].astype(float))
        late = (submitted < horizon) & (horizon < stop)  # unfinished at the horizon: draining
        self.backlog = {
            "jobs": int(late.sum()),
            "queued": int((late & (~ran | (placed >= horizon))).sum()),
            "gpu_hours": _running_sum(
                (gpus * (stop - np.maximum(placed, horizon)) / 3600)[late & ran]
            ),
        }
        ends = np.bincount(end, minlength=4)
        self.counts = {
            "completed": int(ends[COMPLETED_]),
            "failed": int(ends[FAILED_]),
            "killed": int(ends[KILLED_]),
        }
        self.jobs = len(submitted)
        self.turnaround = (stop - submitted)[end != KILLED_]

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
