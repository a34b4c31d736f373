"""The lean what-if path: a measured replay of plain jobs gives, to the last bit, what the engine's
full path gives for the same task; it is taken only where it can; and a replay names each
record's job by the record, so a job keeps its name and pull time in every configuration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.randomness import unit_interval
from simulator.whatif import Configuration
from simulator.whatif.configs import base_config, from_entry
from simulator.whatif.lean import LeanReplay
from simulator.whatif.metrics import measure
from simulator.whatif.replay import record_bits
from simulator.whatif.runner import Task, replay_task
from simulator.workload import GeneratorSpec, WorkloadItem
from tests.whatif.helpers import config, job, notebook

WEEK = GeneratorSpec(days=7, jobs_per_day=400, notebooks_per_day=0)


def both_paths(task: Task) -> tuple[dict, dict, type]:
    """The measure of ``task`` by the full path and by the default one, and the replay type the
    default one took."""
    engine, replay, tally = replay_task(task, tally=True, lean=False)
    full = measure(engine, replay, task.bins, task.horizon_s, tally)
    engine, replay, tally = replay_task(task, tally=True)
    return full, measure(engine, replay, task.bins, task.horizon_s, tally), type(replay)


def _configurations() -> list[Configuration]:
    base = base_config()
    return [
        Configuration("default"),
        config("strict, small", [8, 8, 4]),
        config("backfill, best fit", [8, 8, 4], placement="best_fit", backfill=True),
        config("per minute", [16, 8], tariff="per_minute_ceil"),
        from_entry({"name": "64 GPUs", "region_gpus": 64}, base, 0),
    ]


@pytest.mark.parametrize("conf", _configurations(), ids=lambda c: c.name)
@pytest.mark.parametrize("seed", [0, 5])
def test_a_week_of_generated_jobs_measures_the_same_on_both_paths(
    conf: Configuration, seed: int
) -> None:
    full, lean, kind = both_paths(Task(WEEK, conf, seed, horizon_s=3 * 86400.0, bins=60))
    assert kind is LeanReplay
    assert full["metrics"]["jobs"] > 2000
    assert lean == full


def test_refused_jobs_are_counted_alike() -> None:
    """Unknown types, jobs over the pool and bad run times are refused by the engine's own
    checks on both paths, each time they come."""
    items = [
        job(0.0, 100.0, workers=4, gpus_per_worker=8),
        job(1.0, 50.0, gpus_per_worker=32),  # no such instance type
        job(2.0, 50.0, gpus_per_worker=32),
        job(3.0, 60.0, workers=9, gpus_per_worker=8),  # never fits 8 x 8 GPUs
        job(4.0, -5.0),  # a run time below 0 (on a shape already accepted)
        job(5.0, 70.0, priority="urgent"),
        job(6.0, 80.0, outcome="failure", workers=2),
    ]
    full, lean, kind = both_paths(Task(items, config("small", [8] * 8), 0))
    assert kind is LeanReplay
    assert full["metrics"]["rejected"] == 5
    assert lean == full


SHAPES = st.sampled_from([(1, 1), (2, 1), (1, 2), (4, 1), (1, 8), (2, 8), (3, 4)])


@st.composite
def plain_jobs(draw: st.DrawFn) -> list[WorkloadItem]:
    n = draw(st.integers(1, 40))
    gaps = draw(st.lists(st.sampled_from([0.0, 0.5, 3.0, 60.0]), min_size=n, max_size=n))
    items, t = [], 0.0
    for gap in gaps:
        t += gap
        workers, gpus = draw(SHAPES)
        items.append(
            job(
                t,
                draw(st.sampled_from([0.0, 1.0, 30.0, 600.0, 3600.0])),
                workers=workers,
                gpus_per_worker=gpus,
                priority=draw(st.sampled_from(["medium", "high", "low"])),
                outcome=draw(st.sampled_from(["success", "failure"])),
                workspace=draw(st.sampled_from(["ws", "other"])),
            )
        )
    return items


def shared_pool(backfill: bool) -> Configuration:
    """One pool serving jobs and Jupyter Servers alike: lean jobs and the engine's own wait in
    the same queues."""

    def node(gpus: int) -> dict:
        return {"count": 1, "gpus": gpus, "cpus": 16 * gpus, "memory_gi": 256 * gpus}

    pool = {"name": "shared", "serves": ["job", "notebook"], "resource": "gpu"}
    return Configuration(
        "shared",
        {
            "pools": [{**pool, "nodes": [node(8), node(8), node(4)]}],
            "scheduler": {"placement": "best_fit", "backfill": backfill},
            "timings": {"image_pull_s": [1.0, 40.0], "worker_wait_s": 15},  # draws
        },
    )


@st.composite
def mixed(draw: st.DrawFn) -> list[WorkloadItem]:
    """Plain jobs with what the lean path hands to the engine mixed in: sessions, kills (before
    and after placement), jobs the runtime model times, scripts that cannot start."""
    items = draw(plain_jobs())
    for _ in range(draw(st.integers(0, 8))):
        t = draw(st.sampled_from([0.0, 0.5, 3.0, 40.0, 200.0]))
        kind = draw(st.sampled_from(["session", "kill", "model", "bad script"]))
        if kind == "session":
            item = notebook(t, draw(st.sampled_from([0.0, 50.0, 900.0])), 100.0, gpus=4)
        elif kind == "kill":
            item = job(t, 600.0, gpus_per_worker=8, outcome="killed", kill_s=t + 30.0)
        elif kind == "model":
            item = job(t, None, gpus_per_worker=2, outcome="")  # type: ignore[arg-type]
        else:
            item = job(t, 60.0, script="/tmp/train.py")
        items.append(item)
    return sorted(items, key=lambda it: it.submit_s)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=plain_jobs(), backfill=st.booleans(), seed=st.integers(0, 3))
def test_any_plain_workload_measures_the_same_on_both_paths(
    items: list[WorkloadItem], backfill: bool, seed: int
) -> None:
    conf = config("pool", [8, 8, 4], backfill=backfill)
    conf.engine["timings"] = {"image_pull_s": [1.0, 40.0], "worker_wait_s": 15}  # draws
    full, lean, kind = both_paths(Task(items, conf, seed))
    assert kind is LeanReplay
    assert lean == full


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=mixed(),
    backfill=st.booleans(),
    move=st.booleans(),
    quota=st.sampled_from([None, 4, 8, 16]),
    seed=st.integers(0, 3),
)
def test_plain_jobs_mixed_with_the_engines_own_measure_the_same_on_both_paths(
    items: list[WorkloadItem], backfill: bool, move: bool, quota: int | None, seed: int
) -> None:
    """Including GPU quotas per workspace: refused jobs wait for a release and try again (on
    the full path), jobs larger than the limit are refused."""
    conf = shared_pool(backfill)
    engine = {**conf.engine, "quotas": {"workspace_gpus": quota}}
    conf = Configuration(conf.name, engine, jupyter_to_region=move)
    full, lean, kind = both_paths(Task(items, conf, seed, bins=30))
    assert kind is LeanReplay
    assert lean == full


@pytest.mark.parametrize(
    "conf",
    [
        Configuration("slow pulls", {"faults": {"slow_pulls": {"probability": 0.5}}}),
        Configuration("preemption", {"faults": {"preemption": {"enabled": True}}}),
        Configuration("node failures", {"faults": {"node_failures": {"rate_per_node_hour": 0.1}}}),
    ],
    ids=lambda c: c.name,
)
def test_faults_take_the_full_path(conf: Configuration) -> None:
    _engine, replay, _tally = replay_task(Task([job(0.0, 10.0)], conf, 0), tally=True)
    assert type(replay) is not LeanReplay


def test_a_stream_of_records_is_replayed_whole() -> None:
    items = [job(0.0, 10.0), notebook(0.5, 5.0, 5.0), job(1.0, 20.0)]
    stream = iter(items)
    engine, replay, tally = replay_task(Task(stream, Configuration("default"), 0), True)  # type: ignore[arg-type]
    result = measure(engine, replay, tally=tally)["metrics"]
    assert (result["jobs"], result["notebooks"]) == (2, 1)


def test_a_lean_run_keeps_no_job_objects() -> None:
    engine, _replay, tally = replay_task(Task(WEEK, Configuration("default"), 0), tally=True)
    assert not engine.jobs and not engine.ledger.lines
    assert tally is not None and len(tally.job_ints) == 2 * engine._seq


def test_a_record_keeps_its_job_name_and_pull_time_whatever_the_configuration() -> None:
    """Common random numbers: a quota that delays a job does not change its draws."""
    items = [job(float(i), 300.0, gpus_per_worker=8, workspace="ws") for i in range(4)]
    free = Task(items, Configuration("default"), 3)
    quota = from_entry({"name": "q", "quotas": {"workspace_gpus": 8}}, base_config(), 0)
    runs = [replay_task(Task(items, conf, 3))[0] for conf in (free.configuration, quota)]
    pulls = [{name: j.start_at - j.placed_at for name, j in engine.jobs.items()} for engine in runs]
    assert len(pulls[0]) == 4 and pulls[0] == pulls[1]
    delayed = [j.created_at for j in runs[1].jobs.values()]
    assert max(delayed) - min(delayed) > 900  # the quota did move when they were submitted


def test_record_bits_name_every_record_apart_and_draw_pull_times_evenly() -> None:
    """Distinct records, distinct names; the pull draw (bits 64-116) is uniform on [0, 1):
    chi-square over 10 bins under its 0.1 % critical value (9 degrees of freedom)."""
    bits = [record_bits(7, i) for i in range(50_000)]
    assert len(set(bits)) == len(bits)
    assert len({record_bits(seed, 0) for seed in range(1000)}) == 1000
    draws = np.array([unit_interval(b >> 64) for b in bits])
    counts = np.histogram(draws, bins=10, range=(0.0, 1.0))[0]
    assert ((counts - 5000) ** 2 / 5000).sum() < 27.88
