"""Properties of the engine over random workloads: jobs of random shapes, classes and fates
arriving at random virtual times on a small, contended topology."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.billing import LedgerLine, metered_seconds
from simulator.logs import format_ts
from tests.property.invariants import (
    TERMINAL,
    Driver,
    assert_kopecks_of,
    small_world,
    snapshot,
    submit,
)
from tests.property.strategies import job_args, waits
from tests.unit.builders import START, job, parse_ts, split, world

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def workloads(draw: st.DrawFn) -> list[tuple]:
    """Submissions in two workspaces, each after a random wait."""
    cmds: list[tuple] = []
    for _ in range(draw(st.integers(1, 16))):
        cmds.append(("advance", draw(waits())))
        cmds.append(submit(draw(job_args()), draw(st.sampled_from(["ws-a", "ws-b"]))))
    return cmds


def play(cmds, *, seed, observe=False, backfill=False, tariff="per_second"):
    overrides = {"scheduler": {"backfill": backfill}, "billing": {"tariff": tariff}}
    driver = Driver(small_world(seed, **overrides), observe=observe, strict_order=not backfill)
    for cmd in cmds:
        driver.apply(cmd)
    driver.apply(("idle",))
    return driver


def assert_drained(driver):
    w = driver.world
    assert all(j.status in TERMINAL for j in driver.jobs)
    assert w.pending() == []
    for rep in w.pools_report():
        assert (rep["gpus"]["used"], rep["cpus"]["used"], rep["waiting"]) == (0, 0, 0), rep
    assert not any(line["running"] for line in w.billing_report()["lines"])


@BOUNDED
@given(cmds=workloads(), seed=st.integers(0, 2**32))
def test_strict_queue_invariants_hold_at_every_event(cmds, seed):
    assert_drained(play(cmds, seed=seed, observe=True))


@BOUNDED
@given(cmds=workloads(), seed=st.integers(0, 2**32))
def test_backfill_never_over_allocates_and_leaves_nothing_that_fits_waiting(cmds, seed):
    assert_drained(play(cmds, seed=seed, observe=True, backfill=True))


@BOUNDED
@given(cmds=workloads(), seed=st.integers(0, 2**32))
def test_same_seed_and_workload_give_the_same_world(cmds, seed):
    first, second = play(cmds, seed=seed), play(cmds, seed=seed)
    assert snapshot(first) == snapshot(second)
    for a, b in zip(first.jobs, second.jobs, strict=True):
        assert first.world.job_logs(a, timestamps=True) == second.world.job_logs(b, timestamps=True)


@BOUNDED
@given(cmds=workloads(), seed=st.integers(0, 2**32))
def test_per_minute_ceil_bills_the_same_schedule_never_less(cmds, seed):
    per_second = play(cmds, seed=seed)
    per_minute = play(cmds, seed=seed, tariff="per_minute_ceil")
    assert snapshot(per_minute, with_bill=False) == snapshot(per_second, with_bill=False)
    fine = per_second.world.billing_report()
    coarse = per_minute.world.billing_report()
    for s, m in zip(fine["lines"], coarse["lines"], strict=True):
        assert (m["item"], m["start"], m["end"]) == (s["item"], s["start"], s["end"])
        assert m["seconds"] >= s["seconds"] and Decimal(m["cost"]) >= Decimal(s["cost"])
    assert Decimal(coarse["total"]) >= Decimal(fine["total"])


FAULTS = {
    "node_failures": {"rate_per_node_hour": 6.0, "repair_s": 120},
    "preemption": {"enabled": True},
    "slow_pulls": {"probability": 0.3, "factor": 4},
}
NODES = ["region-000.region", "region-001.region", "region-002.region", "cpu-000.cpu"]


@st.composite
def faulty_workloads(draw: st.DrawFn) -> list[tuple]:
    """Submissions (some with max_retry) and node failures, each after a random wait."""
    cmds: list[tuple] = []
    for _ in range(draw(st.integers(1, 12))):
        cmds.append(("advance", draw(waits())))
        if draw(st.integers(0, 4)) == 0:
            cmds.append(("fail", draw(st.sampled_from(NODES))))
        args = {**draw(job_args()), "max_retry": draw(st.sampled_from([None, 1, 3]))}
        cmds.append(submit(args, draw(st.sampled_from(["ws-a", "ws-b"]))))
    return cmds


def play_faulty(cmds, *, seed, observe=False):
    world_ = small_world(seed, faults=FAULTS)
    driver = Driver(world_, observe=observe, restarts=True)
    for cmd in cmds:
        driver.apply(cmd)
    driver.apply(("idle",))
    return driver


@BOUNDED
@given(cmds=faulty_workloads(), seed=st.integers(0, 2**32))
def test_with_faults_on_capacity_queues_and_bills_stay_consistent_and_the_world_drains(cmds, seed):
    driver = play_faulty(cmds, seed=seed, observe=True)
    assert_drained(driver)
    for j in driver.jobs:
        lines = [ln for ln in driver.world.billing_report()["lines"] if ln["item"] == j.name]
        ran = [a for a in j.history if a.running_at] + ([j] if j.running_at else [])
        assert len(lines) == len(ran), "one ledger line per span the job ran"


@BOUNDED
@given(cmds=faulty_workloads(), seed=st.integers(0, 2**32))
def test_with_faults_on_the_same_seed_and_workload_give_the_same_world(cmds, seed):
    first, second = play_faulty(cmds, seed=seed), play_faulty(cmds, seed=seed)
    assert snapshot(first) == snapshot(second)
    for a, b in zip(first.jobs, second.jobs, strict=True):
        assert first.world.job_logs(a, timestamps=True) == second.world.job_logs(b, timestamps=True)


@settings(max_examples=200, deadline=None)
@given(
    elapsed=st.floats(0, 10**6),
    price=st.decimals(0, 10_000, places=2),
    tariff=st.sampled_from(["per_second", "per_minute_ceil"]),
)
def test_a_line_costs_metered_seconds_times_its_price(elapsed, price, tariff):
    seconds = metered_seconds(elapsed, tariff)
    step = 60 if tariff == "per_minute_ceil" else 1
    assert seconds % step == 0
    assert elapsed - 1e-6 <= seconds < elapsed + step
    assert metered_seconds(elapsed, "per_minute_ceil") >= metered_seconds(elapsed, "per_second")
    line = LedgerLine(1, "ws", "job", "j", "DGX2-MT", "v100.1gpu", 1, price, START, START + elapsed)
    assert_kopecks_of(line.cost(START, tariff), Decimal(line.seconds(START, tariff)) * price / 3600)


@settings(max_examples=200, deadline=None)
@given(epoch=st.floats(0, 4_000_000_000))
def test_timestamps_are_rfc3339_with_no_trailing_zeros(epoch):
    assert parse_ts(format_ts(epoch)) == pytest.approx(epoch, abs=1e-6)


@BOUNDED
@given(runtime=st.floats(0, 100_000))
def test_the_runtime_override_is_the_run_time(runtime):
    w = world()
    j = w.submit_job(job(runtime_s=runtime), workspace="ws")
    w.run_until_idle()
    assert j.status == "Completed"
    assert j.completed_at - j.running_at == pytest.approx(runtime, abs=1e-5)


@BOUNDED
@given(
    args=job_args(),
    looks=st.lists(st.floats(0, 900), min_size=1, max_size=6),
)
def test_log_lines_are_in_time_order_and_only_the_past_is_shown(args, looks):
    w = world({"runtime": {"gpu": {"median_s": 120}, "cpu": {"median_s": 60}}})
    j = w.submit_job(job(**args), workspace="ws")
    seen: list[str] = []
    for dt in looks:
        w.advance(dt)
        lines = w.job_logs(j, timestamps=True)
        stamps = [split(line)[0] for line in lines]
        assert stamps == sorted(stamps), lines
        assert all(t <= w.now_epoch() + 1e-6 for t in stamps)
        assert lines[: len(seen)] == seen, "a later view extends an earlier one"
        assert w.job_logs(j, tail=3) == [ln.split(" ", 1)[1] for ln in lines[::-1][:3]]
        seen = lines
