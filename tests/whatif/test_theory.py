"""The replay agrees with hand arithmetic and with queueing theory."""

from __future__ import annotations

import heapq
import math
import random
from decimal import Decimal

import pytest

from simulator.whatif import run_whatif
from simulator.whatif.configs import base_config, engine_config
from simulator.whatif.replay import Replay
from simulator.whatif.runner import START_EPOCH
from simulator.world import World
from tests.whatif.helpers import config, job, notebook

pytestmark = pytest.mark.usefixtures("instant_start")


def replay(items, conf, seed=0):
    world = World(engine_config(base_config(), conf.engine), seed=seed, start_epoch=START_EPOCH)
    return world.run_batch(Replay(items, conf.jupyter_to_region).arrivals())


def test_three_jobs_on_two_gpus_match_hand_arithmetic():
    items = [job(0.0, 100.0) for _ in range(3)]
    result = run_whatif(items, [config("2 GPUs", [2])], executor="serial", bins=2)
    m, series = result.runs[0]["metrics"], result.runs[0]["series"]
    engine = replay(items, config("2 GPUs", [2]))
    waits = [j.placed_at - j.created_at for j in sorted(engine.jobs.values(), key=lambda j: j.seq)]
    assert waits == [0.0, 0.0, 100.0]
    assert m["makespan_s"] == 200.0
    assert m["gpu_hours_billed"] * 3600 == pytest.approx(300.0, abs=1e-9)
    assert (m["wait_p50_s"], m["wait_max_s"]) == (0.0, 100.0)
    assert m["cost_total"] == Decimal("24.99")  # 3 lines of 100 s x 300/h = 8.333 -> 8.33
    assert m["utilisation_region"] == pytest.approx(300 / (2 * 200))
    # two bins of 100 s: both GPUs busy, then one; one job waiting, then none
    assert series["edges_s"] == [0.0, 100.0, 200.0]
    assert series["utilisation"]["region"] == [1.0, 0.5]
    assert series["queue"] == [1.0, 0.0]
    assert series["cost"] == [0.0, 16.67, 25.0]  # 200 and 300 GPU-s at 300/h, in kopecks


def test_per_minute_ceiling_never_bills_less_than_per_second():
    rng = random.Random(5)
    items = sorted(
        (
            job(rng.uniform(0, 3000), rng.uniform(1, 400), workers=rng.choice([1, 2]))
            for _ in range(60)
        ),
        key=lambda it: it.submit_s,
    )
    items.append(notebook(100.0, 61.0, 30.5, gpus=2))
    confs = [config(t, [8, 8], tariff=t) for t in ("per_second", "per_minute_ceil")]
    per_s, per_min = (r["metrics"] for r in run_whatif(items, confs, executor="serial").runs)
    assert per_min["cost_total"] >= per_s["cost_total"]
    assert per_min["gpu_hours_billed"] >= per_s["gpu_hours_billed"]
    assert per_min["gpu_hours_used"] == per_s["gpu_hours_used"]
    # every job is rounded up to whole minutes: at most 60 s x GPUs more per item
    assert per_min["gpu_hours_billed"] - per_s["gpu_hours_billed"] <= (61 * 2 + 2) * 60 / 3600


def test_idle_jupyter_time_is_the_saving_of_moving_to_region_jobs():
    items = [notebook(0.0, 3600.0, 7200.0, gpus=2), job(10.0, 600.0)]
    kept, moved = (
        run_whatif(items, [config(n, [8], move=m)], executor="serial").runs[0]["metrics"]
        for n, m in (("kept", False), ("moved", True))
    )
    assert kept["cost_notebooks"] == Decimal("1800.00")  # 2 GPUs x 3 h x 300
    assert kept["cost_idle_notebooks"] == Decimal("1200.00")  # 2 GPUs x 2 idle h x 300
    assert kept["gpu_hours_idle_notebooks"] == pytest.approx(4.0)
    assert moved["notebooks_moved"] == 1 and moved["cost_notebooks"] == 0
    assert kept["cost_total"] - moved["cost_total"] == kept["cost_idle_notebooks"]


def erlang_c_mean_wait(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/c (Erlang C)."""
    a = lam / mu
    top = a**c / math.factorial(c) / (1 - a / c)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(c)) + top)
    return p_wait / (c * mu - lam)


def fifo_waits(arrivals: list[float], services: list[float], c: int) -> list[float]:
    """Exact FIFO waits on c identical servers (Kiefer-Wolfowitz recursion)."""
    free = [0.0] * c
    out = []
    for a, s in zip(arrivals, services, strict=True):
        start = max(a, heapq.heappop(free))
        out.append(start - a)
        heapq.heappush(free, start + s)
    return out


def test_mmc_mean_wait_matches_erlang_c():
    """M/M/2 at load 0.6 with 40,000 one-GPU jobs (about 2.5 % standard error at this size)."""
    c, load, mean_s, n = 2, 0.6, 100.0, 40_000
    rng = random.Random(0)
    lam = load * c / mean_s
    t, items = 0.0, []
    for _ in range(n):
        t += rng.expovariate(lam)
        items.append(job(t, rng.expovariate(1 / mean_s)))
    engine = replay(items, config("M/M/2", [c]))
    jobs = sorted(engine.jobs.values(), key=lambda j: j.seq)
    waits = [j.placed_at - j.created_at for j in jobs]
    exact = fifo_waits([it.submit_s for it in items], [it.run_s for it in items], c)
    assert max(abs(w - e) for w, e in zip(waits, exact, strict=True)) < 1e-5
    mean_wait = sum(waits) / n
    realised = erlang_c_mean_wait(c, n / items[-1].submit_s, n / sum(it.run_s for it in items))
    assert mean_wait == pytest.approx(realised, rel=0.05)
    assert mean_wait == pytest.approx(erlang_c_mean_wait(c, lam, 1 / mean_s), rel=0.05)
