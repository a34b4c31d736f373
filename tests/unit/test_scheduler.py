"""Gang placement, priority classes, FIFO, backfill, and refusal of requests that can never fit."""

from __future__ import annotations

import pytest

from simulator import Refused, Rejected
from tests.unit.builders import gpu_pool, job, pool, used_gpus, world

CLASSES = ["high", "medium", "low", "shared-medium", "shared-low"]


def node_gpus(w, name="small"):
    return [n["gpus"]["used"] for n in pool(w, name)["nodes"]]


def test_each_worker_is_placed_whole_on_one_node():
    w = world({"pools": [gpu_pool("small", 8, 8)]})
    w.submit_job(job("v100.6gpu"), workspace="ws")
    w.submit_job(job("v100.6gpu"), workspace="ws")
    waiting = w.submit_job(job("v100.4gpu"), workspace="ws")
    assert node_gpus(w) == [6, 6]
    assert not waiting.placed_at, "4 GPUs are free in total, but on no single node"
    assert waiting.status == "Pending"


def test_a_gang_may_spread_workers_over_nodes():
    w = world({"pools": [gpu_pool("small", 8, 8)]})
    w.submit_job(job("v100.6gpu"), workspace="ws")
    w.submit_job(job("v100.6gpu"), workspace="ws")
    spread = w.submit_job(job("v100.2gpu", n_workers=2), workspace="ws")
    assert spread.placed_at
    assert node_gpus(w) == [8, 8]


def test_all_workers_start_at_once_or_none_do():
    w = world({"pools": [gpu_pool("small", 8, 8, 8)]})
    blocker = w.submit_job(job("v100.8gpu", runtime_s=100), workspace="ws")
    gang = w.submit_job(job("v100.8gpu", n_workers=3, runtime_s=1000), workspace="ws")
    assert not gang.placed_at
    assert used_gpus(w, "small") == 8, "no partial placement while the gang waits"
    w.advance(200)
    assert blocker.status == "Completed"
    assert gang.placed_at == blocker.completed_at
    assert node_gpus(w) == [8, 8, 8]


def test_priority_classes_launch_high_medium_low_shared_medium_shared_low():
    w = world({"pools": [gpu_pool("small", 16)]})
    w.submit_job(job("v100.16gpu", runtime_s=100), workspace="ws")
    queued = {
        cls: w.submit_job(job("v100.16gpu", runtime_s=10, priority_class=cls), workspace="ws")
        for cls in reversed(CLASSES)
    }
    assert [j.priority_class for j in w.pending()] == CLASSES
    w.run_until_idle()
    launch_order = sorted(queued, key=lambda cls: queued[cls].placed_at)
    assert launch_order == CLASSES


def test_fifo_within_a_class_and_medium_is_the_default():
    w = world({"pools": [gpu_pool("small", 16)]})
    w.submit_job(job("v100.16gpu", runtime_s=100), workspace="ws")
    low = w.submit_job(job("v100.16gpu", runtime_s=10, priority_class="low"), workspace="ws")
    first = w.submit_job(job("v100.16gpu", runtime_s=10, priority_class="medium"), workspace="ws")
    second = w.submit_job(job("v100.16gpu", runtime_s=10), workspace="ws")
    third = w.submit_job(job("v100.16gpu", runtime_s=10, priority_class="medium"), workspace="ws")
    assert second.priority_class == "medium"
    assert w.pending() == [first, second, third, low]
    w.run_until_idle()
    assert first.placed_at < second.placed_at < third.placed_at < low.placed_at


def test_a_later_high_job_overtakes_waiting_ones_but_preempts_nothing():
    w = world({"pools": [gpu_pool("small", 16)]})
    running = w.submit_job(job("v100.16gpu", runtime_s=100), workspace="ws")
    medium = w.submit_job(job("v100.16gpu", runtime_s=10), workspace="ws")
    w.advance(30)
    high = w.submit_job(job("v100.16gpu", runtime_s=10, priority_class="high"), workspace="ws")
    assert running.status == "Running"
    assert not high.placed_at
    w.run_until_idle()
    assert running.status == "Completed"
    assert running.completed_at == high.placed_at < medium.placed_at


def test_backfill_is_off_by_default_so_a_blocked_head_holds_the_line():
    w = world({"pools": [gpu_pool("small", 16)]})
    assert w.config.scheduler["backfill"] is False
    w.submit_job(job("v100.8gpu", runtime_s=100), workspace="ws")
    head = w.submit_job(job("v100.16gpu", runtime_s=10), workspace="ws")
    small = w.submit_job(job("v100.1gpu", runtime_s=10), workspace="ws")
    lower = w.submit_job(job("v100.1gpu", runtime_s=10, priority_class="low"), workspace="ws")
    assert not (head.placed_at or small.placed_at or lower.placed_at)
    assert used_gpus(w, "small") == 8
    w.run_until_idle()
    assert head.placed_at < small.placed_at
    assert small.placed_at <= lower.placed_at


def test_backfill_when_configured_starts_later_requests_that_fit():
    w = world({"pools": [gpu_pool("small", 16)], "scheduler": {"backfill": True}})
    w.submit_job(job("v100.8gpu", runtime_s=100), workspace="ws")
    head = w.submit_job(job("v100.16gpu", runtime_s=10), workspace="ws")
    small = w.submit_job(job("v100.1gpu", runtime_s=10, priority_class="low"), workspace="ws")
    assert not head.placed_at
    assert small.placed_at == w.now_epoch()
    assert used_gpus(w, "small") == 9


@pytest.mark.parametrize(
    ("overrides", "spec", "reason"),
    [
        pytest.param(
            {"pools": [gpu_pool("small", 16, 16, 16, 16)]},
            job("v100.16gpu", n_workers=5),
            "never fit",
            id="more-gpus-than-the-pool",
        ),
        pytest.param(
            {"pools": [gpu_pool("small", 8, 8, 8, 8)]},
            job("v100.16gpu"),
            "never fit",
            id="worker-larger-than-any-node",
        ),
        pytest.param(None, job("a100.8gpu", region="A100-MT", n_workers=126), "1000", id="1008"),
        pytest.param(None, job("v100.1gpu", n_workers=1001), "1000", id="1001-gpus"),
        pytest.param(
            None,
            job("cpu-ai-3xgiant", region="SR003", n_workers=17),
            "never fit",
            id="more-cpu-than-the-pool",
        ),
        pytest.param(
            None, job("a100.1gpu", region="DGX2-MT"), "Can't find instance_type_key", id="type"
        ),
    ],
)
def test_requests_that_can_never_fit_are_rejected_at_submission(overrides, spec, reason):
    w = world(overrides)
    before = w.pools_report()
    with pytest.raises(Refused, match=reason):
        w.submit_job(spec, workspace="ws")
    assert w.list_jobs() == []
    assert w.pending() == []
    assert w.pools_report() == before


def test_a_jupyter_server_over_16_gpus_is_rejected():
    catalog = {
        "regions": [
            {
                "key": "BIG",
                "name": "Big nodes",
                "instance_types": [
                    {
                        "key": "v100.32gpu",
                        "name": "32 x V100",
                        "gpus": 32,
                        "gpu_model": "V100",
                        "cpu": 96,
                        "memory_gi": 2048,
                        "jupyter": True,
                    }
                ],
            }
        ]
    }
    w = world({"catalog": catalog, "pools": [gpu_pool("big", 32, serves=("notebook",))]})
    with pytest.raises(Rejected, match="16 GPUs"):
        w.create_notebook(workspace="ws", name="nb", region="BIG", instance_type="v100.32gpu")
    assert w.list_notebooks("ws") == []
    assert used_gpus(w, "big") == 0
