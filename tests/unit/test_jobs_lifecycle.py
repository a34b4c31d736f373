"""Training jobs: timestamps, statuses, start-up, kill at any moment, restart, names."""

from __future__ import annotations

import re
import uuid

import pytest

from simulator import NotFound
from tests.unit.builders import PULL_2S, START, gpu_pool, job, used_gpus, world

NAME = re.compile(
    r"^lm-mpi-job-([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$"
)
WORKER_WAIT_S = 15.02
BANNER_S = 0.08


def stamps(j):
    return (j.created_at, j.pending_at, j.running_at, j.completed_at)


def test_timestamps_are_zero_until_reached():
    w = world(PULL_2S)
    w.advance(5)
    j = w.submit_job(job(runtime_s=60), workspace="ws")
    assert stamps(j) == (START + 5, START + 5, 0, 0)
    w.advance(10)
    assert j.status == "Pending"
    assert (j.running_at, j.completed_at) == (0, 0)
    w.advance(10)
    assert j.status == "Running"
    assert j.running_at == pytest.approx(START + 5 + 2 + BANNER_S + WORKER_WAIT_S)
    assert j.completed_at == 0
    w.advance(60)
    assert j.status == "Completed"
    assert j.completed_at == pytest.approx(j.running_at + 60)
    assert stamps(j)[:2] == (START + 5, START + 5)


def test_start_up_is_image_pull_plus_the_15_02_s_worker_wait():
    w = world(seed=3)
    jobs = [w.submit_job(job(runtime_s=1), workspace="ws") for _ in range(20)]
    w.run_until_idle()
    startups = [j.running_at - j.placed_at for j in jobs]
    floor = BANNER_S + WORKER_WAIT_S
    assert all(floor + 2 - 1e-6 <= s <= floor + 6 + 1e-6 for s in startups)
    assert len({round(s, 6) for s in startups}) > 1, "image pull time varies per job"


def test_queued_job_stays_pending_until_placed():
    w = world({"pools": [gpu_pool("small", 8)], **PULL_2S})
    blocker = w.submit_job(job("v100.8gpu", runtime_s=100), workspace="ws")
    queued = w.submit_job(job("v100.8gpu", runtime_s=50), workspace="ws")
    w.advance(110)
    assert queued.status == "Pending"
    assert not queued.placed_at
    w.advance(30)
    assert queued.placed_at == blocker.completed_at
    assert queued.status == "Running"


@pytest.mark.parametrize(
    ("itype", "region", "outcome", "final"),
    [
        ("v100.2gpu", "DGX2-MT", "success", "Completed"),
        ("cpu.8C.32G", "CCE-MT", "success", "Succeeded"),
        ("v100.2gpu", "DGX2-MT", "failure", "Failed"),
        ("cpu.8C.32G", "CCE-MT", "failure", "Failed"),
    ],
)
def test_terminal_status_depends_on_gpu_or_cpu_and_outcome(itype, region, outcome, final):
    w = world()
    j = w.submit_job(job(itype, region=region, runtime_s=30, outcome=outcome), workspace="ws")
    w.run_until_idle()
    assert j.status == final
    assert j.completed_at == pytest.approx(j.running_at + 30)


def test_kill_while_queued_ends_deleted_and_leaves_the_queue():
    w = world({"pools": [gpu_pool("small", 8)]})
    w.submit_job(job("v100.8gpu", runtime_s=100), workspace="ws")
    queued = w.submit_job(job("v100.8gpu"), workspace="ws")
    w.advance(3)
    w.kill_job(queued.name)
    assert queued.status == "Deleted"
    assert queued.completed_at == START + 3
    assert queued.running_at == 0
    assert w.pending() == []
    w.run_until_idle()
    assert queued.status == "Deleted"
    assert not queued.placed_at


def test_kill_during_start_up_frees_capacity_at_once_and_never_runs():
    w = world({"pools": [gpu_pool("small", 8)]})
    starting = w.submit_job(job("v100.8gpu", runtime_s=100), workspace="ws")
    queued = w.submit_job(job("v100.8gpu", runtime_s=100), workspace="ws")
    w.advance(10)
    assert starting.placed_at and starting.status == "Pending"
    w.kill_job(starting.name)
    assert starting.status == "Deleted"
    assert queued.placed_at == START + 10, "freed GPUs go to the queue at the same instant"
    w.advance(60)
    assert starting.status == "Deleted"
    assert starting.running_at == 0
    assert w.billing_report()["lines"][0]["item"] == queued.name


def test_kill_while_running_frees_capacity_and_stops_the_meter():
    w = world({"pools": [gpu_pool("small", 8)]})
    j = w.submit_job(job("v100.8gpu", runtime_s=1000), workspace="ws")
    w.advance(100)
    assert j.status == "Running"
    w.kill_job(j.name)
    now = w.now_epoch()
    assert (j.status, j.completed_at) == ("Deleted", now)
    assert used_gpus(w, "small") == 0
    cost = w.job_cost(j)
    w.advance(500)
    assert w.job_cost(j) == cost
    assert j.run_seconds(w.now_epoch()) == pytest.approx(now - j.running_at)


def test_kill_after_the_end_changes_nothing():
    w = world()
    j = w.submit_job(job(runtime_s=10), workspace="ws")
    w.run_until_idle()
    done_at = j.completed_at
    assert w.kill_job(j.name) is j
    assert (j.status, j.completed_at) == ("Completed", done_at)


def test_kill_of_an_unknown_or_foreign_job_finds_nothing():
    w = world()
    j = w.submit_job(job(runtime_s=10), workspace="ws")
    assert w.kill_job("lm-mpi-job-00000000-0000-4000-8000-000000000000") is None
    assert w.kill_job(j.name, workspace="other") is None
    assert j.status == "Pending"


def test_restart_creates_a_new_job_with_the_same_parameters():
    w = world()
    spec = job("v100.4gpu", n_workers=2, runtime_s=50, priority_class="low", job_desc="exp 1")
    old = w.submit_job(spec, workspace="ws", author="ann")
    w.run_until_idle()
    new = w.restart_job(old.name, workspace="ws")
    assert new.name != old.name
    assert new.status == "Pending"
    assert new.created_at == w.now_epoch()
    assert new.spec.params == old.spec.params == spec
    assert (new.workspace, new.author, new.priority_class) == ("ws", "ann", "low")
    assert old.status == "Completed"
    w.run_until_idle()
    assert new.status == "Completed"
    assert new.completed_at - new.running_at == pytest.approx(50)


def test_restart_of_an_unknown_job_is_not_found():
    w = world()
    with pytest.raises(NotFound):
        w.restart_job("lm-mpi-job-00000000-0000-4000-8000-000000000000")


def test_job_names_are_lm_mpi_job_uuid4_from_the_seeded_stream():
    def names(seed):
        w = world(seed=seed)
        return [w.submit_job(job(), workspace="ws").name for _ in range(5)]

    first = names(11)
    for name in first:
        match = NAME.match(name)
        assert match, name
        assert uuid.UUID(match.group(1)).version == 4
    assert len(set(first)) == 5
    assert names(11) == first
    assert set(names(12)).isdisjoint(first)


def test_list_and_get_are_scoped_to_the_workspace():
    w = world()
    mine = w.submit_job(job(runtime_s=10), workspace="ws")
    w.submit_job(job(runtime_s=10, outcome="failure"), workspace="other")
    assert w.get_job(mine.name, "other") is None
    assert w.list_jobs("ws") == [mine]
    w.run_until_idle()
    assert [j.status for j in w.list_jobs(statuses=["Failed"])] == ["Failed"]
