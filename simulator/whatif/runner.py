"""Run one workload against configurations x seeds and gather the results.

A task is (workload, configuration, seed): a generated workload is drawn afresh for each seed
(same spec), a fixed one (a file, a trace, a journal) is the same for every seed and the seed
only moves the engine's own randomness. Each task is a pure function of its inputs, so results
do not depend on the executor or on the order runs finish in.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from tqdm import tqdm

from simulator.billing import ZERO, kopecks
from simulator.collector import fewer_collections
from simulator.engine import Engine
from simulator.focus import focus_rows, write_focus
from simulator.whatif.configs import Configuration, base_config, engine_config
from simulator.whatif.executors import Executor, SerialExecutor, make_executor, runs_in_process
from simulator.whatif.lean import LeanReplay, lean_fits
from simulator.whatif.metrics import measure
from simulator.whatif.replay import Replay
from simulator.whatif.sweep import (
    RunCache,
    RunTimeout,
    estimate,
    task_key,
    time_limit,
    workload_fingerprint,
)
from simulator.whatif.tally import Tally
from simulator.workload.generate import GeneratorSpec, stream_workload
from simulator.workload.model import WorkloadItem
from simulator.world import World

START_EPOCH = 1_735_689_600.0  # 2025-01-01T00:00:00Z: virtual t=0 of every replay
DEFAULT_BINS = 400

Workload = Sequence[WorkloadItem] | GeneratorSpec


@dataclass(frozen=True)
class Task:
    """One run: everything it needs travels with it (picklable)."""

    workload: Workload = field(repr=False)
    configuration: Configuration
    seed: int
    base_path: str | None = None
    bins: int = DEFAULT_BINS
    horizon_s: float | None = None  # money is split here: incurred inside, spent draining after
    timeout_s: float | None = None  # wall-clock limit of the run (not part of its cache key)


def workload_for(workload: Workload, seed: int) -> Iterable[WorkloadItem]:
    """The records to replay; a generated workload's are built one at a time as replayed."""
    if isinstance(workload, GeneratorSpec):
        return stream_workload(replace(workload, seed=seed))
    return workload


def replay_task(
    task: Task, tally: bool = False, lean: bool = True
) -> tuple[Engine, Replay, Tally | None]:
    """Replay the task's workload on a fresh engine, run to the end. With ``tally`` the run is
    measured as it goes and lets finished jobs and closed lines go (see :class:`Tally`); else
    every job and ledger line is kept, to be read afterwards. A measured run's plain jobs take
    the lean path (:mod:`simulator.whatif.lean`) where it applies, unless ``lean`` is False."""
    conf = task.configuration
    config = engine_config(base_config(task.base_path), conf.engine)
    world = World(config, seed=task.seed, start_epoch=START_EPOCH)
    items = workload_for(task.workload, task.seed)
    if tally and lean and lean_fits(world.engine):
        meter = Tally(world.engine, Replay(()))
        replay: Replay = LeanReplay(
            items, world.engine, meter, conf.jupyter_to_region, conf.quota_retry_s
        )
        meter.replay = replay
    else:
        replay = Replay(items, conf.jupyter_to_region, conf.quota_retry_s)
        meter = Tally(world.engine, replay) if tally else None
    if meter is not None:
        meter.attach()
    return world.run_batch(replay.arrivals()), replay, meter


def focus_export(task: Task, path: str | Path) -> tuple[Path, int, Decimal]:
    """The ledger of ``task``'s run as FinOps FOCUS rows in ``path`` (CSV or .parquet): the run
    is replayed here (a pure function of the task, so it is the run the report shows). Returns
    the path, the row count and the rows' total BilledCost."""
    engine, _replay, _tally = replay_task(task)
    rows = focus_rows(engine)
    total = sum((r["BilledCost"] for r in rows), ZERO)
    return write_focus(rows, path), len(rows), total


def run_task(task: Task) -> dict[str, Any]:
    """One run's metrics and series (what every executor returns), or a note that it hit its
    wall-clock limit (``timed_out``)."""
    head = {"configuration": task.configuration.name, "seed": task.seed}
    try:
        with time_limit(task.timeout_s), fewer_collections():
            engine, replay, tally = replay_task(task, tally=True)
            result = measure(engine, replay, task.bins, task.horizon_s, tally)
    except RunTimeout:
        return {**head, "timed_out": True, "timeout_s": task.timeout_s}
    return {**head, **result}


@dataclass
class WhatIfResult:
    """Every run, and per configuration the mean over seeds."""

    configurations: list[Configuration]
    seeds: list[int]
    runs: list[dict[str, Any]]
    workload: dict[str, Any]
    executor: str
    timed_out: list[dict[str, Any]] = field(default_factory=list)  # runs over the time limit
    computed: int = 0  # runs run by this sweep (the rest came from the cache)
    cached: int = 0

    def runs_of(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.runs if r["configuration"] == name]

    def summary(self) -> list[dict[str, Any]]:
        """Per configuration: mean (and standard deviation) of each metric over the seeds, and
        the mean count of each refusal."""
        out = []
        for conf in self.configurations:
            runs = self.runs_of(conf.name)
            if not runs:  # every seed of it timed out
                continue
            keys = runs[0]["metrics"].keys()
            workspaces = sorted({ws for r in runs for ws in r["cost_by_workspace"]})
            out.append(
                {
                    "configuration": conf.name,
                    "mean": {k: _mean([r["metrics"][k] for r in runs]) for k in keys},
                    "sd": {k: _sd([r["metrics"][k] for r in runs]) for k in keys},
                    "cost_by_workspace": {
                        ws: _mean([r["cost_by_workspace"].get(ws, ZERO) for r in runs])
                        for ws in workspaces
                    },
                    "rejections": _mean_rejections(runs),
                    "currency": runs[0]["currency"],
                }
            )
        return out


def _mean(values: list[Any]) -> Any:
    """The mean; money (Decimal) stays in kopecks."""
    if isinstance(values[0], Decimal):
        return kopecks(statistics.mean(values))
    return statistics.fmean(values)


def _sd(values: list[Any]) -> Any:
    if len(values) < 2:
        return ZERO if isinstance(values[0], Decimal) else 0.0
    sd = statistics.stdev(values)
    return kopecks(sd) if isinstance(sd, Decimal) else sd


def _mean_rejections(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each (reason, value)'s count averaged over the runs, most frequent first."""
    totals: Counter[tuple[str, str]] = Counter()
    for run in runs:
        totals.update({(r["reason"], r["value"]): r["count"] for r in run["rejections"]})
    means = [(key, n / len(runs)) for key, n in totals.items()]
    return [
        {"reason": reason, "value": value, "count": int(n) if n.is_integer() else n}
        for (reason, value), n in sorted(means, key=lambda kv: (-kv[1], kv[0]))
    ]


def horizon_of(workload: Workload) -> float | None:
    """The period the workload's arrivals stand for: the generator's days, or a fixed
    workload's submissions rounded up to whole days (None when they all come at once)."""
    if isinstance(workload, GeneratorSpec):
        return workload.days * 86400.0
    return describe(workload)["days"] * 86400.0 or None


def describe(workload: Workload) -> dict[str, Any]:
    """What the report says about the workload."""
    if isinstance(workload, GeneratorSpec):
        return {"source": "generated", "spec": workload.to_dict()}
    jobs = sum(1 for it in workload if it.kind == "job")
    span = max((it.submit_s for it in workload), default=0.0)
    return {
        "source": "fixed",
        "records": len(workload),
        "jobs": jobs,
        "notebooks": len(workload) - jobs,
        "days": math.ceil(span / 86400) if span else 0,
    }


def run_whatif(
    workload: Workload,
    configurations: Sequence[Configuration],
    seeds: Sequence[int] = (0,),
    *,
    base_path: str | None = None,
    executor: Executor | str | None = None,
    workers: int | None = None,
    progress: bool = False,
    bins: int = DEFAULT_BINS,
    horizon_s: float | None = None,
    cache: str | Path | None = None,
    timeout_s: float | None = None,
) -> WhatIfResult:
    """Run every configuration with every seed; results come back in (configuration, seed) order.
    Money is split at ``horizon_s`` (default: the workload's own horizon, :func:`horizon_of`).
    With ``cache`` (a directory) finished runs are kept and reused; ``timeout_s`` limits each
    run's wall-clock time (see :mod:`simulator.whatif.sweep`)."""
    if not configurations or not seeds:
        raise ValueError("need at least one configuration and one seed")
    if len({c.name for c in configurations}) != len(configurations):
        raise ValueError("configuration names must be unique")
    if not isinstance(workload, GeneratorSpec):
        workload = list(workload)
    horizon = horizon_s if horizon_s is not None else horizon_of(workload)
    tasks = [
        Task(workload, conf, int(seed), base_path, bins, horizon, timeout_s)
        for conf in configurations
        for seed in seeds
    ]
    results: list[dict[str, Any] | None] = [None] * len(tasks)
    store = RunCache(cache) if cache else None
    fingerprint = workload_fingerprint(workload) if store else ""
    keys = [task_key(t, fingerprint) for t in tasks] if store else []
    todo = []
    for i in range(len(tasks)):
        results[i] = store.get(keys[i]) if store else None
        if results[i] is None:
            todo.append(i)
    size = _size(workload)
    todo.sort(key=lambda i: -estimate(tasks[i], size))  # longest first; stable among equals
    if isinstance(executor, str) or executor is None:
        in_process = runs_in_process(executor, len(todo))
        executor = SerialExecutor() if in_process else make_executor(executor, workers)
    bar = tqdm(total=len(todo), desc="what-if runs", unit="run", disable=not progress)
    with bar:
        for j, res in executor.run(run_task, [tasks[i] for i in todo]) if todo else ():
            results[todo[j]] = res
            if store and not res.get("timed_out"):
                store.put(keys[todo[j]], res)
            bar.update()
    done = [r for r in results if r is not None]
    return WhatIfResult(
        configurations=list(configurations),
        seeds=[int(s) for s in seeds],
        runs=[r for r in done if not r.get("timed_out")],
        workload={**describe(workload), "horizon_s": horizon},
        executor=executor.name,
        timed_out=[r for r in done if r.get("timed_out")],
        computed=len(todo),
        cached=len(tasks) - len(todo),
    )


def _size(workload: Workload) -> float:
    if isinstance(workload, GeneratorSpec):
        return workload.days * (workload.jobs_per_day + workload.notebooks_per_day)
    return float(len(workload))
