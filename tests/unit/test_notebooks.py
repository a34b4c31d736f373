"""Jupyter Servers: direct-pool capacity, create/run/pause/resume/delete, free servers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator import Conflict, NotFound, Rejected
from tests.unit.builders import gpu_pool, pool, used_gpus, world


def create(w, itype="v100.1gpu", name="nb", region="DGX2-MT", **kwargs):
    return w.create_notebook(
        workspace="ws", name=name, region=region, instance_type=itype, **kwargs
    )


def running_lines(w):
    return [ln for ln in w.billing_report()["lines"] if ln["running"]]


def test_a_server_takes_direct_pool_gpus_and_runs_after_start_up():
    w = world()
    book = create(w, "v100.4gpu")
    assert book.status == "creating"
    assert used_gpus(w, "direct") == 4
    assert used_gpus(w, "region") == 0
    w.advance(41)
    assert book.status == "running"
    assert 20 <= book.status_updated_at - book.created_at <= 40


def test_a_server_waits_while_the_direct_pool_is_full():
    w = world()
    big = create(w, "v100.16gpu", name="big")
    small = create(w, "v100.1gpu", name="small")
    assert small.status == "waiting"
    assert pool(w, "direct")["waiting"] == 1
    w.advance(100)
    assert small.status == "waiting"
    assert w.notebook_cost(small) == 0
    w.delete_notebook(big.uid)
    assert small.status == "creating"
    assert used_gpus(w, "direct") == 1
    w.advance(41)
    assert small.status == "running"


def test_pause_frees_gpus_and_stops_billing_at_once():
    w = world()
    book = create(w, "v100.2gpu")
    w.advance(600)
    w.pause_notebook(book.uid)
    assert book.status == "pausing"
    assert used_gpus(w, "direct") == 0
    assert running_lines(w) == []
    cost = w.notebook_cost(book)
    assert cost == Decimal(600) * 300 / 3600
    w.advance(5)
    assert book.status == "paused"
    w.advance(3600)
    assert w.notebook_cost(book) == cost


def test_resume_takes_capacity_again_possibly_on_another_type():
    w = world()
    book = create(w, "v100.2gpu")
    w.advance(60)
    w.pause_notebook(book.uid)
    w.advance(10)
    w.resume_notebook(book.uid, "DGX2-MT", "v100.8gpu")
    assert book.status == "resuming"
    assert used_gpus(w, "direct") == 8
    w.advance(41)
    assert book.status == "running"
    lines = w.billing_report()["lines"]
    assert [(ln["instance_type"], ln["running"]) for ln in lines] == [
        ("v100.2gpu", False),
        ("v100.8gpu", True),
    ]


def test_resume_of_a_running_server_is_a_conflict():
    w = world()
    book = create(w)
    w.advance(60)
    with pytest.raises(Conflict, match="Can't resume") as caught:
        w.resume_notebook(book.uid, "DGX2-MT", "v100.1gpu")
    assert caught.value.error_code == 3


def test_delete_frees_capacity_and_the_server_disappears():
    w = world()
    book = create(w, "v100.4gpu")
    w.advance(60)
    w.delete_notebook(book.uid)
    assert book.status == "deleting"
    assert used_gpus(w, "direct") == 0
    assert running_lines(w) == []
    with pytest.raises(Conflict, match="deletion is already in progress"):
        w.delete_notebook(book.uid)
    w.advance(10)
    assert w.get_notebook(book.uid, "ws") is None
    assert w.list_notebooks("ws") == []
    with pytest.raises(NotFound, match="does not found"):
        w.pause_notebook(book.uid)


def test_free_server_needs_no_gpu_even_when_the_pool_is_full():
    w = world()
    create(w, "v100.16gpu", name="big")
    free = create(w, "free.0gpu", name="free")
    assert free.status == "creating"
    w.advance(41)
    assert free.status == "running"
    assert used_gpus(w, "direct") == 16
    assert pool(w, "cpu")["cpus"]["used"] == 0
    assert w.notebook_cost(free) == 0


def test_instance_types_not_offered_for_jupyter_are_refused():
    w = world()
    with pytest.raises(Rejected, match="not available"):
        create(w, "a100.1gpu", region="SR003")
    assert w.list_notebooks("ws") == []


def test_pausing_a_waiting_server_drops_it_from_the_queue():
    w = world()
    create(w, "v100.16gpu", name="big")
    waiting = create(w, "v100.1gpu", name="small")
    w.pause_notebook(waiting.uid)
    assert pool(w, "direct")["waiting"] == 0
    w.advance(10)
    assert waiting.status == "paused"
    assert w.notebook_cost(waiting) == 0


def test_a_waiting_server_paused_and_resumed_is_queued_once():
    w = world()
    big = create(w, "v100.16gpu", name="big")
    small = create(w, "v100.1gpu", name="small")
    w.pause_notebook(small.uid)
    w.advance(10)
    w.resume_notebook(small.uid, "DGX2-MT", "v100.1gpu")
    assert small.status == "waiting"
    w.delete_notebook(big.uid)
    assert used_gpus(w, "direct") == 1
    assert pool(w, "direct")["waiting"] == 0
    assert small.status == "resuming"
    w.advance(60)
    w.delete_notebook(small.uid)
    assert used_gpus(w, "direct") == 0
    assert running_lines(w) == []


def test_deleting_a_paused_server_does_not_hold_up_the_next_one():
    w = world()
    old = create(w, "v100.1gpu", name="old")
    w.advance(60)
    w.pause_notebook(old.uid)
    w.advance(10)
    w.delete_notebook(old.uid)
    assert pool(w, "direct")["waiting"] == 0
    new = create(w, "v100.1gpu", name="new")
    w.advance(60)
    assert (new.status, used_gpus(w, "direct")) == ("running", 1)


def test_a_server_that_can_never_fit_is_refused_without_a_trace():
    w = world({"pools": [gpu_pool("direct", 8, serves=("notebook",))]})
    with pytest.raises(Rejected, match="never fit"):
        create(w, "v100.16gpu")
    assert w.list_notebooks("ws") == []
    assert w.pending() == []


def test_a_refused_resume_leaves_the_paused_server_unchanged():
    w = world({"pools": [gpu_pool("direct", 8, serves=("notebook",))]})
    book = create(w, "v100.2gpu")
    w.advance(60)
    w.pause_notebook(book.uid)
    w.advance(10)
    with pytest.raises(Rejected):
        w.resume_notebook(book.uid, "DGX2-MT", "v100.16gpu")
    assert (book.status, book.itype.key) == ("paused", "v100.2gpu")


def test_tensorboards_are_listed_apart_from_servers():
    w = world()
    create(w, "free.0gpu", name="nb")
    board = create(w, "free.0gpu", name="tb", kind="tensorboard")
    assert [b.name for b in w.list_notebooks("ws")] == ["nb"]
    assert w.list_notebooks("ws", kind="tensorboard") == [board]
