"""Sweeps that behave like practitioners' tools: an interrupted sweep resumes from its cache of
finished runs, runs start longest first, and a run over its time limit is reported, not kept."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from mlspace_sim.cli import main
from simulator.whatif import run_whatif
from simulator.whatif.executors import ProcessExecutor, SerialExecutor
from simulator.workload import GeneratorSpec
from tests.whatif.helpers import config, job

SPEC = GeneratorSpec(days=1, jobs_per_day=120, notebooks_per_day=3)
CONFIGS = [config("8", [8]), config("16", [8, 8]), config("64", [8] * 8)]
SEEDS = [0, 1]


class Interrupted(SerialExecutor):
    """Serial, but killed (KeyboardInterrupt) after ``after`` runs; remembers the task order."""

    def __init__(self, after: int | None = None) -> None:
        self.after, self.order = after, []

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        self.order = [(t.configuration.name, t.seed) for t in tasks]
        for n, (i, res) in enumerate(super().run(fn, tasks)):
            if n == self.after:
                raise KeyboardInterrupt
            yield i, res


def test_a_killed_sweep_resumes_computing_only_the_missing_runs(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        run_whatif(SPEC, CONFIGS, SEEDS, executor=Interrupted(after=2), cache=cache)
    assert len(list(cache.glob("*.pickle"))) == 2  # each run is kept as it finishes
    again = Interrupted()
    resumed = run_whatif(SPEC, CONFIGS, SEEDS, executor=again, cache=cache)
    assert (resumed.cached, resumed.computed, len(again.order)) == (2, 4, 4)
    fresh = run_whatif(SPEC, CONFIGS, SEEDS, executor="serial")
    assert resumed.runs == fresh.runs  # cached runs are the runs, in (configuration, seed) order
    third = run_whatif(SPEC, CONFIGS, SEEDS, executor=ProcessExecutor(2), cache=cache)
    assert (third.cached, third.computed, third.runs) == (6, 0, fresh.runs)


def test_a_changed_configuration_or_workload_is_not_served_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    run_whatif(SPEC, CONFIGS[:1], [0], executor="serial", cache=cache)
    other_gpus = run_whatif(SPEC, [config("8", [4, 4])], [0], executor="serial", cache=cache)
    busier = GeneratorSpec(days=1, jobs_per_day=130, notebooks_per_day=3)
    other_load = run_whatif(busier, CONFIGS[:1], [0], executor="serial", cache=cache)
    assert (other_gpus.computed, other_load.computed) == (1, 1)


def test_runs_start_longest_first_and_report_in_sweep_order():
    recorder = Interrupted()
    result = run_whatif(SPEC, list(reversed(CONFIGS)), [0], executor=recorder)
    assert recorder.order == [("8", 0), ("16", 0), ("64", 0)]  # fewest GPUs: longest queues
    assert [r["configuration"] for r in result.runs] == ["64", "16", "8"]


def test_a_run_over_its_time_limit_is_reported_and_not_cached(tmp_path):
    heavy = GeneratorSpec(days=30, jobs_per_day=2000, notebooks_per_day=0)
    cache = tmp_path / "cache"
    result = run_whatif(
        heavy, [config("8", [8])], [0], executor="serial", cache=cache, timeout_s=0.5
    )
    assert result.runs == [] and result.timed_out == [
        {"configuration": "8", "seed": 0, "timed_out": True, "timeout_s": 0.5}
    ]
    assert list(cache.glob("*.pickle")) == []
    items = [job(0.0, 100.0) for _ in range(3)]
    limited = run_whatif(items, CONFIGS, [0], executor="serial", timeout_s=60)
    assert limited.timed_out == [] and limited.runs == run_whatif(items, CONFIGS, [0]).runs


def test_the_cli_resumes_from_its_cache_and_says_so(tmp_path, capsys):
    args = ["whatif", "--days", "1", "--jobs-per-day", "40", "--gpus", "8,16", "--seeds", "2"]
    args += ["--executor", "serial", "--no-progress", "--no-plots", "--out", str(tmp_path)]
    assert main([*args[:6], "8", *args[7:]]) == 0  # an earlier, smaller sweep
    capsys.readouterr()
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "runs: 2 from the cache, 2 computed" in printed
    assert re.search(r"8 GPUs\s+16 GPUs", printed)


def test_the_time_limit_holds_on_every_executor():
    """The limit interrupts the run's own thread: the main one, a worker process's, or a Dask
    worker thread's."""
    heavy = GeneratorSpec(days=30, jobs_per_day=2000, notebooks_per_day=0)
    confs, light = [config("8", [8]), config("light", [8] * 8)], GeneratorSpec(days=0.1)
    expected = {"configuration": "8", "seed": 0, "timed_out": True, "timeout_s": 0.5}
    result = run_whatif(heavy, confs[:1], [0], executor=ProcessExecutor(2), timeout_s=0.5)
    assert result.timed_out == [expected]
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        result = run_whatif(heavy, confs[:1], [0], executor=f"dask://{address}", timeout_s=0.5)
        assert result.timed_out == [expected]
        quick = run_whatif(light, confs, [0], executor=f"dask://{address}", timeout_s=60)
    assert quick.runs == run_whatif(light, confs, [0], executor="serial").runs
