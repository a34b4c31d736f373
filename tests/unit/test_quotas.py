"""Workspace GPU quotas, through the World: refusals before creation, what counts, freeing."""

from __future__ import annotations

import pytest

from simulator import load_config
from simulator.errors import OverQuota
from simulator.quotas import QuotaConfigError
from tests.unit.builders import gpu_pool, job, world

ONE = "a100plus.1gpu.80vG.12C.96G"
EIGHT = "a100plus.8gpu.80vG.96C.1952G"


def sr006(itype: str = ONE, n_workers: int = 1, runtime_s: float = 600) -> dict:
    return job(itype, region="SR006", n_workers=n_workers, runtime_s=runtime_s, outcome="success")


def refusal(call) -> OverQuota:
    with pytest.raises(OverQuota) as caught:
        call()
    return caught.value


def test_the_issues_check_an_8_gpu_job_runs_a_1_gpu_job_is_refused_then_accepted():
    w = world({"quotas": {"workspace_gpus": 8}})
    first = w.submit_job(sr006(n_workers=8, runtime_s=300), workspace="ws")
    exc = refusal(lambda: w.submit_job(sr006(), workspace="ws"))
    assert (exc.message, exc.error_code, exc.free) == (
        "WORKSPACE_GPU_LIMIT_REACHED_ONLY_0_FREE",
        1,
        0,
    )
    assert [j.name for j in w.list_jobs("ws")] == [first.name]  # nothing was created
    w.run_until_idle()
    assert first.status == "Completed"
    assert w.submit_job(sr006(), workspace="ws").status in ("Pending", "Running")


def test_the_number_is_what_the_limit_still_leaves_free():
    w = world({"quotas": {"workspace_gpus": 16}})
    w.submit_job(sr006(n_workers=10), workspace="ws")
    exc = refusal(lambda: w.submit_job(sr006(EIGHT), workspace="ws"))
    assert exc.message == "WORKSPACE_GPU_LIMIT_REACHED_ONLY_6_FREE"
    assert w.submit_job(sr006(n_workers=6), workspace="ws")  # exactly what is free fits
    assert w.workspace_gpus("ws") == {"used": 16, "limit": 16, "free": 0}


def test_pending_jobs_count_as_much_as_running_ones():
    w = world({"quotas": {"workspace_gpus": 16}, "pools": [gpu_pool("region", 8)]})
    running = w.submit_job(sr006(EIGHT), workspace="ws")
    waiting = w.submit_job(sr006(EIGHT), workspace="ws")
    w.advance(60)
    assert (running.status, waiting.status) == ("Running", "Pending")
    assert refusal(lambda: w.submit_job(sr006(), workspace="ws")).free == 0
    w.kill_job(waiting.name)
    assert w.workspace_gpus("ws")["free"] == 8


def test_per_workspace_overrides_win_and_other_workspaces_are_apart():
    w = world({"quotas": {"workspace_gpus": 8, "workspaces": {"small": 1}}})
    w.submit_job(sr006(), workspace="small")
    assert refusal(lambda: w.submit_job(sr006(), workspace="small")).free == 0
    w.submit_job(sr006(EIGHT), workspace="big")
    assert w.workspace_gpus("other") == {"used": 0, "limit": 8, "free": 8}


def test_no_quota_by_default_and_cpu_work_never_counts():
    w = world()
    assert w.quotas() == {"workspace_gpus": None, "workspaces": {}}
    w.set_quotas({"workspace_gpus": 0})
    cpu = w.submit_job(job("cpu.2C.8G", region="CCE-MT", type="binary"), workspace="ws")
    assert cpu.status in ("Pending", "Running")
    assert refusal(lambda: w.submit_job(sr006(), workspace="ws")).free == 0


def test_servers_count_while_they_hold_or_wait_for_gpus_not_while_paused():
    w = world({"quotas": {"workspace_gpus": 4}})

    def create(name: str, itype: str = "v100.4gpu"):
        return w.create_notebook(workspace="ws", name=name, region="DGX2-MT", instance_type=itype)

    book = create("a")
    assert refusal(lambda: create("b", "v100.1gpu")).free == 0
    assert [b.name for b in w.list_notebooks("ws")] == ["a"]
    assert refusal(lambda: w.submit_job(job("v100.1gpu"), workspace="ws")).free == 0
    w.pause_notebook(book.uid)
    w.submit_job(job("v100.2gpu"), workspace="ws")
    assert refusal(lambda: w.resume_notebook(book.uid, "DGX2-MT", "v100.4gpu")).free == 2
    assert book.paused  # the refused resume changed nothing
    assert w.resume_notebook(book.uid, "DGX2-MT", "v100.2gpu").status == "resuming"
    assert w.workspace_gpus("ws")["used"] == 4


def test_restarting_jobs_keep_their_gpus_counted_and_ended_ones_free_them():
    w = world({"quotas": {"workspace_gpus": 2}})
    j = w.submit_job(job("v100.2gpu", runtime_s=100, outcome="failure"), workspace="ws")
    assert w.workspace_gpus("ws")["free"] == 0
    w.run_until_idle()
    assert j.status == "Failed"
    assert w.workspace_gpus("ws")["free"] == 2


def test_quotas_set_at_run_time_apply_to_new_work_and_survive_a_reset():
    w = world()
    w.submit_job(sr006(EIGHT), workspace="ws")
    assert w.set_quotas({"workspaces": {"ws": 4}}) == {
        "workspace_gpus": None,
        "workspaces": {"ws": 4},
    }
    assert refusal(lambda: w.submit_job(sr006(), workspace="ws")).free == 0  # 8 held > 4
    w.reset()
    assert w.quotas()["workspaces"] == {"ws": 4}
    w.set_quotas({"workspaces": {"ws": None}})
    assert w.quotas()["workspaces"] == {}


@pytest.mark.parametrize(
    ("section", "loc"),
    [
        ({"workspace_gpu": 8}, ("quotas", "workspace_gpu")),
        ({"workspace_gpus": -1}, ("quotas", "workspace_gpus")),
        ({"workspace_gpus": "8"}, ("quotas", "workspace_gpus")),
        ({"workspace_gpus": True}, ("quotas", "workspace_gpus")),
        ({"workspaces": {"ws": 1.5}}, ("quotas", "workspaces", "ws")),
        ({"workspaces": [1]}, ("quotas", "workspaces")),
    ],
)
def test_a_bad_quota_section_is_refused_naming_the_key_and_changes_nothing(section, loc):
    with pytest.raises(QuotaConfigError) as caught:
        load_config(overrides={"quotas": section})
    assert caught.value.loc == loc
    w = world({"quotas": {"workspace_gpus": 8}})
    with pytest.raises(QuotaConfigError):
        w.set_quotas(section)
    assert w.quotas() == {"workspace_gpus": 8, "workspaces": {}}
