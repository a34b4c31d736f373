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

from array import array
from collections import Counter, defaultdict
from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np

from simulator.billing import (
    SECONDS_PER_HOUR,
    ZERO,
    LedgerLine,
    kopecks,
    metered_seconds,
    seconds_cost,
)
from simulator.catalog import InstanceType
from simulator.config import TARIFFS
from simulator.engine import Engine
from simulator.jobs import COMPLETED, DELETED, FAILED, SUCCEEDED
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


def stats(values: array, prefix: str) -> dict[str, float]:
    """Mean, p50, p95, p99 and max of ``values`` (zeros when there are none)."""
    arr = np.frombuffer(values, dtype=float)
    if not len(arr):
        return {f"{prefix}_{k}_s": 0.0 for k in SUMMARY_STATS}
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    found = (arr.mean(), p50, p95, p99, arr.max())
    return {f"{prefix}_{k}_s": float(v) for k, v in zip(SUMMARY_STATS, found, strict=True)}


class Spans:
    """Weighted intervals (seconds from start), integrated over time on demand.

    Kept in typed arrays (8 bytes a number, not a Python float each): a million-job replay
    collects several million of them.
    """

    def __init__(self) -> None:
        self.starts, self.ends, self.weights = array("d"), array("d"), array("d")

    def add(self, start: float, end: float, weight: float) -> None:
        self.starts.append(start)
        self.ends.append(end)
        self.weights.append(weight)

    def integral_at(self, at: np.ndarray) -> np.ndarray:
        arrays = (np.frombuffer(a, dtype=float) for a in (self.starts, self.ends, self.weights))
        return integral_at(*arrays, at)


class _Run:
    """One pass over the ledger and one over the jobs, collecting what the report needs."""

    def __init__(self, engine: Engine, replay: Replay, horizon_s: float | None) -> None:
        self.engine, self.replay = engine, replay
        self.t0, self.now = engine.start_epoch, engine.now_epoch()
        self.horizon = self.now if horizon_s is None else self.t0 + horizon_s
        self.gpu_pools = {  # training capacity; inference pools are reported as replica-hours
            p.name: p.total_gpus
            for p in engine.pools
            if p.resource == "gpu" and "inference" not in p.serves
        }
        self.busy = {name: Spans() for name in self.gpu_pools}
        self.waiting, self.accrual = Spans(), Spans()
        self.money: dict[str, Decimal] = defaultdict(Decimal)
        self.per_ws: dict[str, Decimal] = defaultdict(Decimal)
        self.hours = {"used": 0.0, "billed": 0.0, "idle": 0.0, "replicas": 0.0}
        self.idle_cost = ZERO
        self.in_horizon = ZERO
        self.by_tariff = dict.fromkeys(TARIFFS, ZERO)  # the same lines under each tariff
        self.backlog = {"jobs": 0, "queued": 0, "gpu_hours": 0.0}
        self.end = self.t0
        self.served_at: dict[str, float] = {}  # notebook uid -> when its server got capacity
        self._gpus: dict[tuple[str, str], int] = {}
        self._pools: dict[tuple[str, str, str], str | None] = {}
        self.waits, self.turnaround = array("d"), array("d")
        self.counts = {"completed": 0, "failed": 0, "killed": 0}
        for line in engine.ledger.lines:
            self._line(line)
        self._jobs()
        self._notebook_waits()

    def _line_gpus(self, line: LedgerLine) -> int:
        key = (line.region, line.instance_type)
        if key not in self._gpus:
            catalog = self.engine.catalog
            lookup = catalog.inference_type if line.kind == "deployment" else catalog.instance_type
            self._gpus[key] = lookup(*key).gpus
        return self._gpus[key] * line.workers

    def _pool_of(self, kind: str, region: str, itype: InstanceType) -> str | None:
        """The pool serving such requests (the engine's rule: the first that matches)."""
        key = (kind, region, itype.key)
        if key not in self._pools:
            match = (p.name for p in self.engine.pools if p.matches(kind, region, itype))
            self._pools[key] = next(match, None)
        return self._pools[key]

    def _line(self, line: LedgerLine) -> None:
        """One line, metered once under each tariff (a million-job run has a million lines)."""
        tariff, t0 = self.engine.ledger.tariff, self.t0
        gpus = self._line_gpus(line)
        stop = line.end if line.end is not None else self.now
        self.end = max(self.end, stop)
        per_second = line.kind == "deployment"  # inference is always metered per second
        billed, cost = 0, ZERO
        for other in self.by_tariff:
            seconds = metered_seconds(stop - line.start, "per_second" if per_second else other)
            other_cost = seconds_cost(seconds, line.price_per_hour)
            self.by_tariff[other] += other_cost
            if other == tariff:
                billed, cost = seconds, other_cost
        if stop <= self.horizon:
            self.in_horizon += cost
        elif line.start < self.horizon:  # metered as if it had stopped at the horizon
            self.in_horizon += replace(line, end=self.horizon).cost(self.now, tariff)
        self.money[line.kind] += cost
        self.per_ws[line.workspace] += cost
        self.hours["used"] += gpus * (stop - line.start) / 3600
        self.hours["billed"] += gpus * billed / 3600
        if line.kind == "deployment":
            self.hours["replicas"] += (stop - line.start) / 3600
        rate = float(line.price_per_hour) / 3600
        self.accrual.add(line.start - t0, stop - t0, rate)
        session = self.replay.sessions.get(line.item) if line.kind == "notebook" else None
        if session is None:
            return
        self.served_at.setdefault(line.item, line.start)
        itype = self.engine.catalog.instance_type(line.region, line.instance_type)
        pool = self._pool_of("notebook", line.region, itype)
        if pool in self.busy:
            self.busy[pool].add(line.start - t0, stop - t0, gpus)
        idle = max(0.0, stop - max(line.start, t0 + session.submit_s + session.active_s))
        self.hours["idle"] += gpus * idle / 3600
        self.idle_cost += kopecks(Decimal(idle) * line.price_per_hour / SECONDS_PER_HOUR)

    def _jobs(self) -> None:
        t0 = self.t0
        delays = self.replay.quota_delays
        for job in self.engine.jobs.values():
            stop = job.completed_at or self.now
            self.end = max(self.end, stop)
            placed = job.first_placed_at
            submitted = job.created_at - delays.get(job.name, 0.0)  # before any quota refusal
            self.waiting.add(submitted - t0, (placed or stop) - t0, 1.0)
            if placed:
                self.waits.append(placed - submitted)
                pool = self._pool_of("job", job.region, job.itype)
                if pool in self.busy:
                    self.busy[pool].add(placed - t0, stop - t0, float(job.gpu_count))
            if submitted < self.horizon < stop:
                self._backlog(job.gpu_count, placed, stop)
            if job.status in (COMPLETED, SUCCEEDED):
                self.counts["completed"] += 1
            elif job.status == FAILED:
                self.counts["failed"] += 1
            elif job.status == DELETED:
                self.counts["killed"] += 1
                continue
            self.turnaround.append(stop - submitted)

    def _backlog(self, gpus: int, placed: float | None, stop: float) -> None:
        """A job unfinished at the horizon: its GPU-hours after it are what draining costs."""
        self.backlog["jobs"] += 1
        if not placed or placed >= self.horizon:
            self.backlog["queued"] += 1
        if placed:
            self.backlog["gpu_hours"] += gpus * (stop - max(placed, self.horizon)) / 3600

    def _notebook_waits(self) -> None:
        for uid, session in self.replay.sessions.items():
            served = self.served_at.get(uid, self.t0 + session.end_s)  # else waited until deleted
            self.waiting.add(session.submit_s, served - self.t0, 1.0)


def rejections(refused: list[tuple[float, str, str]]) -> list[dict[str, Any]]:
    """How many requests were refused for each (reason, offending value), most frequent first."""
    counts = Counter((reason, value) for _t, reason, value in refused)
    return [
        {"reason": reason, "value": value, "count": n}
        for (reason, value), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def measure(
    engine: Engine, replay: Replay, bins: int = 400, horizon_s: float | None = None
) -> dict[str, Any]:
    """Metrics and binned time series of one finished replay (plain floats, JSON-ready); money
    is split at ``horizon_s`` (seconds from the start; None: the whole run is the horizon)."""
    run = _Run(engine, replay, horizon_s)
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
        "jobs": len(engine.jobs),
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
            "wait_quantiles_s": (np.quantile(run.waits, QUANTILES).tolist() if run.waits else []),
        },
    }
