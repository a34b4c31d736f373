"""Inference deployments through the World: replicas, autoscaling, scale to zero, predictions,
per-second bills. Prices are the packaged illustrative ones: V100 150.00 per GPU-hour, A100 80GB
300.00, so bills below are computed by hand from them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from simulator import World
from simulator.errors import Conflict, NotFound, Refused
from tests.unit.builders import START, world

WS = "ws-1"
V100 = {"region": "DGX2-INF-001", "instance_type": "v100.1gpu", "image": "cr.ai.cloud.ru/x/srv"}
PINNED = {  # one start-up time and one warm latency, so timings are hand-computable
    "inference": {
        "image_pull_s": [20.0, 20.0],
        "model_start_s": [10.0, 10.0],
        "warm_latency_s": [0.05, 0.05],
    }
}


def deploy(w: World, **spec: Any) -> Any:
    return w.create_deployment({**V100, **spec}, workspace=WS)


def serving() -> tuple[World, Any]:
    """A world with one single-replica deployment that has been serving for a while."""
    w = world(PINNED)
    dep = deploy(w, min_replicas=1, max_replicas=1)
    w.advance(60)
    return w, dep


def total(w: World) -> Decimal:
    return Decimal(w.billing_report(WS)["total"])


def test_one_replica_for_half_an_hour_costs_half_the_hourly_price() -> None:
    w = world(PINNED)
    dep = deploy(w, min_replicas=1, max_replicas=1)
    w.advance(1800)
    w.delete_deployment(dep.name, WS)
    # billed from placement (t=0) to deletion: 1800 s x 150.00 / 3600
    assert w.deployment_cost(dep) == Decimal("75")
    assert total(w) == Decimal("75")
    w.advance(3600)
    assert total(w) == Decimal("75")


def test_a_deployment_loads_then_runs_after_pull_and_model_start() -> None:
    w = world(PINNED)
    dep = deploy(w, min_replicas=1, max_replicas=2)
    assert dep.status == "Loading" and dep.model_state == "Loading"
    w.advance(29.9)
    assert dep.status == "Loading"
    w.advance(0.1)
    assert dep.status == "Running" and dep.model_state == "Loaded"


def test_scaled_to_zero_stops_billing_for_two_idle_hours() -> None:
    w = world(PINNED)
    dep = deploy(w, min_replicas=0, max_replicas=2)
    w.advance(60)
    w.predict(dep.name, "model", {"instances": [[1.0]]}, WS)
    w.run_until_idle()
    assert dep.status == "ScaledToZero" and dep.model_state == "Standby"
    # last predict at 60 s, load leaves the 60 s window at 120 s, idle 900 s, scale-down 300 s
    assert dep.lines[-1].end == START + 1320
    assert total(w) == Decimal(1320) * 150 / 3600
    before = total(w)
    w.advance(7200)
    assert total(w) == before
    gpus = {p["name"]: p["gpus"]["used"] for p in w.pools_report()}
    assert gpus["inference-v100"] == 0


def test_a_request_after_scale_to_zero_is_a_cold_start() -> None:
    w = world(PINNED)
    dep = deploy(w, min_replicas=0, max_replicas=2)
    w.advance(60)
    warm = w.predict(dep.name, "model", {"instances": [[1.0]]}, WS)
    assert not warm.cold and warm.latency_s == pytest.approx(0.05)
    w.run_until_idle()
    cold = w.predict(dep.name, "model", {"instances": [[1.0]]}, WS)
    assert cold.cold and cold.latency_s == pytest.approx(20 + 10 + 0.05)
    assert dep.cold_starts == 1 and dep.status == "Loading"
    assert cold.body == warm.body  # same request, same answer
    w.advance(30)
    assert dep.status == "Running"


def test_predictions_keep_the_request_shape_and_depend_on_the_row() -> None:
    w, dep = serving()
    out = w.predict(dep.name, "m", {"instances": [[1, 2], [3, 4], [1, 2]]}, WS)
    scores = out.body["predictions"]
    assert len(scores) == 3 and scores[0] == scores[2] != scores[1]
    assert all(0 <= s < 1 for s in scores)


def test_same_seed_same_answers_and_bills_other_seed_other_answers() -> None:
    def run(seed: int) -> tuple[Any, ...]:
        w = world(seed=seed)
        dep = deploy(w, min_replicas=0, max_replicas=3)
        w.advance(120)
        answers = [w.predict(dep.name, "m", {"instances": [[i]]}, WS) for i in range(5)]
        w.run_until_idle()
        cold = w.predict(dep.name, "m", {"instances": [[9]]}, WS)
        w.run_until_idle()
        return (
            dep.name,
            [a.body for a in answers],
            [a.latency_s for a in answers],
            cold.latency_s,
            w.billing_report(WS)["lines"],
        )

    assert run(7) == run(7)
    assert run(7)[1] != run(8)[1]


def test_a_deployment_that_has_never_run_refuses_predictions() -> None:
    w = world(PINNED)
    dep = deploy(w, min_replicas=1, max_replicas=1)
    with pytest.raises(Conflict):
        w.predict(dep.name, "m", {"instances": [[1]]}, WS)


def test_replicas_queue_when_the_pool_is_full_and_start_when_it_frees() -> None:
    w = world(PINNED)
    a100 = {"region": "INF-002", "instance_type": "a100.2gpu"}
    first = deploy(w, min_replicas=8, max_replicas=8, **a100)  # 16 GPUs: the whole pool
    second = deploy(w, min_replicas=1, max_replicas=1, **a100)
    w.advance(60)
    assert first.status == "Running" and second.status == "Pending"
    assert second.summary()["replicas"]["queued"] == 1
    pools = {p["name"]: p for p in w.pools_report()}
    assert pools["inference-a100"]["waiting"] == 1
    assert pools["inference-a100"]["gpus"] == {"total": 16, "used": 16}
    with pytest.raises(Conflict):
        w.predict(second.name, "m", {}, WS)
    assert w.deployment_cost(second) == 0
    w.delete_deployment(first.name, WS)
    assert second.status == "Loading"
    w.advance(30)
    assert second.status == "Running"


def test_load_from_predicts_scales_up_after_the_delay_and_down_after_its_delay() -> None:
    fast = {"inference": {**PINNED["inference"], "target_rps_per_replica": 0.05}}
    w = world(fast)  # 3 predicts in the 60 s window call for one replica each
    dep = deploy(w, min_replicas=1, max_replicas=2)
    w.advance(60)
    for i in range(6):
        w.predict(dep.name, "m", {"instances": [[i]]}, WS)
    assert dep.target == 1
    w.advance(29)
    assert dep.target == 1
    w.advance(1)  # scale_up_delay_s = 30
    assert dep.target == 2 and len(dep.replicas) == 2
    w.advance(60 + 300)  # the load leaves the window, then the scale-down delay
    assert dep.target == 1


def test_a_daily_profile_drives_replicas_within_min_and_max() -> None:
    w = world(PINNED)
    hour = int((START % 86400) // 3600)
    profile = [0.0] * 24
    profile[(hour + 1) % 24] = 35.0  # 4 replicas' worth, capped at max 3
    dep = deploy(w, min_replicas=1, max_replicas=3, daily_rps=tuple(profile))
    next_hour = (START // 3600 + 1) * 3600 - START
    w.advance(next_hour + 30)
    assert dep.target == 3
    w.advance(3600 + 300)
    assert dep.target == 1


def test_a_failed_node_loses_its_replicas_and_they_start_again() -> None:
    w, dep = serving()
    node = next(
        n["name"]
        for p in w.pools_report()
        if p["name"] == "inference-v100"
        for n in p["nodes"]
        if n["gpus"]["used"]
    )
    w.fail_node(node)
    assert dep.status == "Loading"  # placed again on the other node, starting
    assert len(dep.lines) == 2 and dep.lines[0].end == START + 60
    w.advance(30)
    assert dep.status == "Running"


def test_async_requests_complete_after_processing() -> None:
    w, dep = serving()
    req = w.submit_async(WS, "DGX2-INF-001", dep.name, "predict", {"instances": [[1]]})
    assert req.status(w.now_epoch()) == "pending"
    with pytest.raises(Conflict):
        w.async_result(req.id, WS)
    w.advance(21)  # async_processing_s at most 20 s, plus the warm latency
    assert w.async_request(req.id, WS).status(w.now_epoch()) == "completed"
    assert (
        w.async_result(req.id, WS)["predictions"]
        == w.predict(dep.name, "predict", {"instances": [[1]]}, WS).body["predictions"]
    )
    assert [r.id for r in w.list_async(WS)] == [req.id]


@pytest.mark.parametrize(
    "spec",
    [
        {"region": "DGX2-MT"},  # a training region
        {"instance_type": "a100.1gpu"},  # not a type of DGX2-INF-001
        {"min_replicas": 3, "max_replicas": 2},
        {"min_replicas": 0, "max_replicas": 0},
        {"max_replicas": 101},
    ],
)
def test_bad_deployments_are_refused_and_change_nothing(spec: dict[str, Any]) -> None:
    w = world()
    with pytest.raises(Refused):
        deploy(w, **spec)
    assert w.list_deployments() == [] and w.billing_report()["lines"] == []


def test_deleted_and_foreign_deployments_are_not_found() -> None:
    w = world()
    dep = deploy(w, min_replicas=1, max_replicas=1)
    with pytest.raises(NotFound):
        w.get_deployment(dep.name, "another-workspace")
    w.delete_deployment(dep.name, WS)
    with pytest.raises(NotFound):
        w.predict(dep.name, "m", {}, WS)
    assert w.list_deployments(WS) == []


def test_jobs_may_not_run_in_an_inference_region() -> None:
    w = world()
    with pytest.raises(Refused):
        w.submit_job(
            {
                "script": "/home/jovyan/a.py",
                "base_image": "img",
                "instance_type": "v100.1gpu",
                "region": "DGX2-INF-001",
                "type": "pytorch2",
                "n_workers": 1,
            },
            workspace=WS,
        )


def test_new_bounds_apply_at_once_and_a_new_image_restarts_every_replica() -> None:
    w, dep = serving()
    w.update_deployment(dep.name, WS, min_replicas=2, max_replicas=3)
    assert dep.target == 2 and dep.summary()["replicas"]["starting"] == 1
    w.advance(30)
    w.update_deployment(dep.name, WS, min_replicas=0, max_replicas=1)
    assert dep.target == 1 and dep.status == "Running"
    w.update_deployment(dep.name, WS, image="cr.ai.cloud.ru/x/srv:v2")
    assert dep.status == "Loading" and dep.spec.image.endswith(":v2")
    w.advance(30)
    assert dep.status == "Running"
    with pytest.raises(Refused):
        w.update_deployment(dep.name, WS, min_replicas=2)  # above max 1
    assert (dep.spec.min_replicas, dep.spec.max_replicas) == (0, 1)


def test_the_console_overview_shows_a_deployment_and_its_timeline() -> None:
    w = world(PINNED)
    dep = deploy(w, min_replicas=0, max_replicas=2, alias="scorer")
    w.advance(60)
    w.predict(dep.name, "m", {"instances": [[1]]}, WS)
    w.run_until_idle()  # scaled to zero at 1320 s
    w.advance(100)
    items = {it["id"]: it for it in w.overview()["work"]["items"]}
    item = items[dep.name]
    assert (item["kind"], item["name"], item["status"]) == ("deployment", "scorer", "ScaledToZero")
    assert (item["workers"], item["gpus"], item["cost"]) == (0, 0, "55.00")
    assert [(p["phase"], p["start"] - START, p["end"] - START) for p in item["phases"]] == [
        ("running", 0, 1320),
        ("paused", 1320, 1420),
    ]
