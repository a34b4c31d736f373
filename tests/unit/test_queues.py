"""Allocations and queues as scheduling units, through the World: names are checked, a queue's
GPU limit and dedicated nodes decide where and when its work runs."""

from __future__ import annotations

import pytest

from simulator import Conflict, NotFound, Refused
from tests.unit.builders import gpu_pool, job, world

WS = "ws"


def small(*node_gpus: int):
    return world({"pools": [gpu_pool("region", *node_gpus)]})


def alloc_id(w, region: str = "DGX2-MT") -> str:
    return next(a.id for a in w.allocations(WS) if a.region == region)


def node_of(w, j) -> list[str]:
    pool = j.pool.pool
    return [pool.nodes[i].name for i, _ in j.placement]


def test_every_region_has_one_allocation_with_a_default_queue():
    w = small(8)
    allocs = w.allocations(WS)
    assert {a.region for a in allocs} == set(w.config.catalog.regions)
    dgx = next(a for a in allocs if a.region == "DGX2-MT")
    assert dgx.name == "payg-dgx2-mt"
    assert [(q.name, q.type) for q in w.queues(WS, dgx.id)] == [("default-dgx2-mt", "default")]
    j = w.submit_job(job(), workspace=WS)
    assert j.queue.allocation == dgx


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"allocation_name": "no-such-allocation"}, "Allocation 'no-such-allocation' not found"),
        ({"queue_name": "no-such-queue"}, "Queue 'no-such-queue' not found"),
        ({"allocation_name": "payg-a100-mt"}, "not found in region DGX2-MT"),
    ],
)
def test_an_unknown_allocation_or_queue_is_refused_and_nothing_is_created(names, message):
    w = small(8)
    with pytest.raises(Refused) as caught:
        w.submit_job(job(**names), workspace=WS)
    assert message in caught.value.message and caught.value.error_code == 1
    assert w.list_jobs(WS) == []
    with pytest.raises(Refused):
        w.create_notebook(
            workspace=WS, name="nb", region="DGX2-MT", instance_type="v100.1gpu", extra=names
        )
    assert w.list_notebooks(WS) == []


def test_a_queue_at_its_gpu_limit_holds_its_own_work_back_but_not_other_queues():
    w = small(8, 8)
    q = w.create_queue(WS, alloc_id(w), "team", gpu_limit=4)
    first = w.submit_job(job("v100.4gpu", queue_name="team", runtime_s=100), workspace=WS)
    held = w.submit_job(job("v100.2gpu", queue_name="team", runtime_s=100), workspace=WS)
    later = w.submit_job(job("v100.1gpu", queue_name="team", runtime_s=100), workspace=WS)
    other = w.submit_job(job("v100.8gpu", runtime_s=100), workspace=WS)
    assert first.placed_at and other.placed_at
    assert (held.status, later.status) == ("Pending", "Pending")  # FIFO inside the queue
    assert q.held_gpus == 4
    w.advance(130)
    assert first.status == "Completed"
    assert held.placed_at == first.completed_at and later.placed_at == first.completed_at
    assert q.held_gpus == 3


def test_work_larger_than_its_queues_limit_is_refused_at_once():
    w = small(8)
    w.create_queue(WS, alloc_id(w), "tiny", gpu_limit=2)
    with pytest.raises(Refused, match="limit 2 GPUs"):
        w.submit_job(job("v100.4gpu", queue_name="tiny"), workspace=WS)


def test_raising_a_limit_lets_waiting_work_start_now():
    w = small(8)
    q = w.create_queue(WS, alloc_id(w), "team", gpu_limit=2)
    w.submit_job(job("v100.2gpu", queue_name="team", runtime_s=1000), workspace=WS)
    waiting = w.submit_job(job("v100.2gpu", queue_name="team"), workspace=WS)
    w.advance(10)
    assert not waiting.placed_at
    w.update_queue(WS, q.id, gpu_limit=4)
    assert waiting.placed_at == w.now_epoch()


def test_dedicated_nodes_run_only_their_queues_work():
    w = small(8, 8, 8)
    names = [n["name"] for n in w.pools_report()[0]["nodes"]]
    q = w.create_queue(WS, alloc_id(w), "own")
    w.add_queue_nodes(WS, q.id, [names[2]])
    mine = [w.submit_job(job("v100.4gpu", queue_name="own"), workspace=WS) for _ in range(3)]
    assert [node_of(w, j) for j in mine[:2]] == [[names[2]], [names[2]]]
    assert mine[2].status == "Pending"  # its node is full though others are empty
    others = [w.submit_job(job("v100.8gpu"), workspace="other") for _ in range(3)]
    assert [node_of(w, j) for j in others[:2]] == [[names[0]], [names[1]]]
    assert others[2].status == "Pending"  # the queue's node is not for others
    with pytest.raises(Refused, match="can never fit"):
        w.submit_job(job("v100.4gpu", queue_name="own", n_workers=3), workspace=WS)


def test_nodes_are_checked_before_any_is_added():
    w = small(8, 8)
    names = [n["name"] for n in w.pools_report()[0]["nodes"]]
    a = w.create_queue(WS, alloc_id(w), "a")
    b = w.create_queue(WS, alloc_id(w), "b")
    with pytest.raises(NotFound):
        w.add_queue_nodes(WS, a.id, [names[0], "no-such-node"])
    assert a.nodes == ()
    w.add_queue_nodes(WS, a.id, [names[0]])
    with pytest.raises(Conflict):
        w.add_queue_nodes(WS, b.id, [names[0]])


def test_queue_names_are_unique_default_queues_stay_and_busy_queues_are_kept():
    w = small(8)
    q = w.create_queue(WS, alloc_id(w), "team")
    with pytest.raises(Conflict):
        w.create_queue(WS, alloc_id(w), "team")
    with pytest.raises(Conflict):
        w.delete_queue(WS, w.queues(WS, alloc_id(w))[0].id)
    j = w.submit_job(job(queue_name="team", runtime_s=10), workspace=WS)
    with pytest.raises(Conflict):
        w.delete_queue(WS, q.id)
    w.kill_job(j.name)
    w.delete_queue(WS, q.id)
    with pytest.raises(NotFound):
        w.queue(WS, q.id)
    with pytest.raises(NotFound):
        w.create_queue(WS, "not-an-allocation", "x")


def test_a_server_is_placed_through_its_queue_and_leaves_it_when_deleted():
    w = world()
    q = w.create_queue(WS, alloc_id(w), "nb-queue", gpu_limit=1)
    book, second = (
        w.create_notebook(
            workspace=WS,
            name=name,
            region="DGX2-MT",
            instance_type="v100.1gpu",
            extra={"queue_name": "nb-queue"},
        )
        for name in ("nb", "nb2")
    )
    assert (book.queue, q.held_gpus, second.status) == (q, 1, "waiting")
    w.delete_notebook(book.uid)
    assert second.status == "creating"
    w.delete_notebook(second.uid)
    w.advance(10)
    w.delete_queue(WS, q.id)


def test_a_chosen_default_queue_takes_the_unnamed_work_of_its_kind_only():
    w = world()
    q = w.create_queue(WS, alloc_id(w), "jobs-here")
    w.choose_default_queue(WS, q.id, "job")

    assert w.submit_job(job(), workspace=WS).queue is q
    book = w.create_notebook(
        workspace=WS, name="nb", region="DGX2-MT", instance_type="v100.1gpu", extra={}
    )
    assert book.queue.type == "default"
    with pytest.raises(Refused):
        w.choose_default_queue(WS, q.id, "pipeline")


def test_a_deleted_or_unchosen_default_queue_hands_work_back_to_the_default():
    w = world()
    q = w.create_queue(WS, alloc_id(w), "jobs-here")
    w.choose_default_queue(WS, q.id, "job")
    w.choose_default_queue(WS, q.id, "job", chosen=False)
    assert w.default_queue(WS, alloc_id(w), "job").type == "default"

    w.choose_default_queue(WS, q.id, "job")
    w.delete_queue(WS, q.id)
    assert w.submit_job(job(), workspace=WS).queue.type == "default"
