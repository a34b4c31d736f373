"""Workloads with inference deployments: inference cost and replica-hours apart from training,
checked against hand arithmetic (V100 at the illustrative 150.00 per GPU-hour)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from simulator.whatif import Configuration, run_whatif
from simulator.workload import WorkloadItem, read_workload, write_workload
from simulator.workload.model import WorkloadError
from tests.whatif.helpers import INSTANT, job, pools

DAY = 86400.0
INFERENCE_POOL = {
    "name": "inference-v100",
    "serves": ["inference"],
    "resource": "gpu",
    "regions": ["DGX2-INF-001"],
    "nodes": [{"count": 1, "gpus": 16, "cpus": 96, "memory_gi": 1536}],
}
PINNED = {"image_pull_s": [0.0, 0.0], "model_start_s": [0.0, 0.0]}
CONF = Configuration(
    "serving",
    {
        "pools": pools([8]),
        "scheduler": {"placement": "count"},
        "timings": INSTANT,
        "inference": {**PINNED, "pools": [INFERENCE_POOL]},
    },
)


def deployment(min_replicas: int, profile: str = "", **kw: object) -> WorkloadItem:
    return WorkloadItem(
        submit_s=0.0,
        workspace="ws",
        author="lead@example.com",
        kind="deployment",
        region="DGX2-INF-001",
        instance_type="v100.1gpu",
        active_s=DAY,
        min_replicas=min_replicas,
        max_replicas=3,
        daily_rps=profile,
        **kw,
    )


def metrics(items: list[WorkloadItem]) -> dict[str, Any]:
    return run_whatif(items, [CONF], executor="serial").runs[0]["metrics"]


def test_an_always_on_replica_for_a_day_costs_24_gpu_hours_apart_from_jobs() -> None:
    m = metrics([deployment(1), job(10.0, 3600.0)])
    assert m["inference_replica_hours"] == pytest.approx(24.0)
    assert m["cost_inference"] == Decimal("3600.00")  # 24 h x 150/h
    assert m["cost_jobs"] == Decimal("300.00")  # one A100-80GB hour
    assert m["cost_total"] == Decimal("3900.00")


def test_scale_to_zero_bills_only_the_busy_hours_of_a_bursty_day() -> None:
    hours = ["0"] * 24
    hours[9] = hours[10] = "25"  # two busy hours at 3 replicas (10 rps each, max 3)
    bursty = ";".join(hours)
    always, scaled = metrics([deployment(1, bursty)]), metrics([deployment(0, bursty)])
    assert scaled["cost_inference"] < always["cost_inference"]
    # min 0: one replica until the idle window (900 s) and the scale-down delay (300 s) pass;
    # 3 replicas from 09:00:30 (scale-up delay) to 11:05 (scale-down delay); then 1 until the
    # idle window and the delay pass again (11:20)
    assert scaled["inference_replica_hours"] == pytest.approx(
        (1200 + (2 * 3600 - 30 + 300) * 3 + 900) / 3600
    )
    assert always["inference_replica_hours"] > 24
    for m in (always, scaled):
        # each replica span is rounded to kopecks on its own: within half a kopeck per span
        assert float(m["cost_inference"]) == pytest.approx(
            m["inference_replica_hours"] * 150.0, abs=0.05
        )


def test_deployment_records_round_trip_through_csv(tmp_path) -> None:
    item = deployment(0, ";".join(["1.5"] * 24), name="scorer")
    path = tmp_path / "w.csv"
    write_workload([item], path)
    assert read_workload(path) == [item]


@pytest.mark.parametrize(
    "change",
    [{"min_replicas": 4}, {"max_replicas": 0}, {"daily_rps": "1;2"}, {"daily_rps": "x"}],
)
def test_bad_deployment_records_are_refused(change: dict[str, object]) -> None:
    item = deployment(0)
    for key, value in change.items():
        setattr(item, key, value)
    with pytest.raises(WorkloadError):
        item.check()
