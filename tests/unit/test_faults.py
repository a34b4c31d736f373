"""Faults in virtual time: node failures (restart within max_retry, or fail), preemption of
lower-priority jobs, slow image pulls; seeded, reproducible, off by default."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from mock_server.app import create_app
from simulator import Rejected, World
from simulator.faults import FaultConfigError
from tests.support.openapi import validate_response
from tests.unit.builders import PULL_2S, START, gpu_pool, job, pool, used_gpus, world

WS = "33333333-3333-4333-8333-333333333333"  # the workspace of the HTTP checks

STARTED_S = 2 + 0.08 + 15.02  # placement -> Running with PULL_2S
TWO_NODES = {"pools": [gpu_pool("region", 8, 8), gpu_pool("direct", 16, serves=("notebook",))]}
ONE_NODE = {"pools": [gpu_pool("region", 8), gpu_pool("direct", 16, serves=("notebook",))]}
PREEMPT = {"faults": {"preemption": {"enabled": True}}}


def faulty(base: dict, faults: dict | None = None, *, seed: int = 0) -> World:
    return world({**base, **PULL_2S, "faults": faults or {}}, seed=seed)


def node_of(w: World, j) -> str:
    nodes = pool(w, "region")["nodes"]
    return nodes[j.placement[0][0]]["name"]


def job_lines(w: World, j) -> list[dict]:
    return [ln for ln in w.billing_report()["lines"] if ln["item"] == j.name]


# ---- settings -----------------------------------------------------------------------------------
def test_faults_are_off_by_default_and_configurable_at_run_time():
    w = world()
    assert w.faults() == {
        "node_failures": {"rate_per_node_hour": 0.0, "repair_s": 600.0},
        "preemption": {"enabled": False, "notebooks": False},
        "slow_pulls": {"probability": 0.0, "factor": 10.0},
    }
    now = w.configure_faults({"preemption": {"enabled": True}, "slow_pulls": {"factor": 3}})
    assert now["preemption"] == {"enabled": True, "notebooks": False}
    assert now["slow_pulls"] == {"probability": 0.0, "factor": 3.0}
    assert w.faults() == now
    w.reset()
    assert w.faults() == now, "run-time fault settings survive a reset, like runtime models"


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"node_failures": {"rate_per_node_hour": -1}}, "node_failures.rate_per_node_hour"),
        ({"node_failures": {"repair_s": "soon"}}, "node_failures.repair_s"),
        ({"slow_pulls": {"probability": 1.5}}, "slow_pulls.probability"),
        ({"slow_pulls": {"factor": 0.5}}, "slow_pulls.factor"),
        ({"preemption": {"enabled": "yes"}}, "preemption.enabled"),
        ({"preemption": {"everyone": True}}, "preemption.everyone"),
        ({"node_failure": {}}, "node_failure"),
    ],
)
def test_bad_fault_settings_are_refused_and_change_nothing(changes, loc):
    w = world()
    before = w.faults()
    with pytest.raises(FaultConfigError) as info:
        w.configure_faults(changes)
    assert info.value.loc == ["faults", *loc.split(".")]
    assert w.faults() == before


def test_the_config_file_section_is_validated_and_leaves_api_rules_alone():
    w = world({"faults": {"rules": [{"name": "x"}], "slow_pulls": {"probability": 0.5}}})
    assert w.faults()["slow_pulls"]["probability"] == 0.5
    with pytest.raises(ValueError, match="rate_per_node_hour"):
        world({"faults": {"node_failures": {"rate_per_node_hour": float("nan")}}})


# ---- node failures ------------------------------------------------------------------------------
def test_a_job_on_a_failed_node_restarts_within_max_retry_and_completes():
    w = faulty(TWO_NODES)
    j = w.submit_job(job("v100.8gpu", runtime_s=100, max_retry=3), workspace="ws")
    w.advance(STARTED_S + 40)
    failed_at = w.now_epoch()
    lost = node_of(w, j)
    w.fail_node(lost)
    assert j.status == "Restarting"
    assert j.placed_at == failed_at and node_of(w, j) != lost, "placed again on the healthy node"
    assert (j.running_at, j.completed_at) == (0, 0)
    w.advance(STARTED_S + 100)
    assert j.status == "Completed"
    assert j.completed_at == pytest.approx(failed_at + STARTED_S + 100)
    assert j.run_seconds(w.now_epoch()) == pytest.approx(40 + 100)
    first, second = job_lines(w, j)
    assert first["end"] == failed_at and first["seconds"] == 40
    assert second["start"] == j.running_at and second["seconds"] == 100
    assert w.job_cost(j) == Decimal(first["cost"]) + Decimal(second["cost"])
    log = w.job_logs(j)
    assert f"Node {lost} failed (NodeNotReady): the job's pods on it were lost" in log
    assert f"Restarting job {j.name} (retry 1 of 3)..." in log
    assert sum("is starting..." in line for line in log) == 2
    assert log[-2].startswith("[1,0]<stdout>:Test set: Average loss: "), "the rerun finished"


def test_without_max_retry_a_job_on_a_failed_node_fails_and_its_log_says_why():
    w = faulty(TWO_NODES)
    j = w.submit_job(job("v100.8gpu", runtime_s=100), workspace="ws")
    w.advance(STARTED_S + 40)
    node = node_of(w, j)
    w.fail_node(node)
    assert (j.status, j.fail_reason, j.completed_at) == ("Failed", "node_failure", w.now_epoch())
    assert used_gpus(w, "region") == 8, "its node is down, the other one is free"
    assert w.job_logs(j)[-2:] == [
        f"Node {node} failed (NodeNotReady): the job's pods on it were lost",
        f"Job {j.name} failed: node failure",
    ]
    w.advance(1000)
    assert job_lines(w, j)[0]["seconds"] == 40, "billing stopped at the failure"


@pytest.mark.parametrize(
    ("job_type", "status"),
    [("binary", "Restarting"), ("horovod", "Restarting"), ("pytorch_elastic", "Failed"),
     ("binary_exp", "Failed"), ("nogpu", "Failed")],
)  # fmt: skip
def test_max_retry_applies_to_the_platforms_types_only(job_type, status):
    w = faulty(TWO_NODES)
    j = w.submit_job(job("v100.8gpu", runtime_s=100, max_retry=5, type=job_type), workspace="ws")
    w.advance(1)
    w.fail_node(node_of(w, j))
    assert j.status == status


def test_a_job_fails_once_its_retries_are_used_up():
    w = faulty(TWO_NODES, {"node_failures": {"repair_s": 0}})
    j = w.submit_job(job("v100.8gpu", runtime_s=100, max_retry=2), workspace="ws")
    for _ in range(3):
        w.advance(STARTED_S + 10)
        w.fail_node(node_of(w, j))
    assert j.status == "Failed" and len(j.history) == 2
    assert [ln["seconds"] for ln in job_lines(w, j)] == [10, 10, 10]


def test_a_failed_node_is_down_for_repair_s_and_shown_in_the_pools_report():
    w = faulty(ONE_NODE, {"node_failures": {"repair_s": 300}})
    first = w.submit_job(job("v100.4gpu", runtime_s=1000, max_retry=3), workspace="ws")
    w.advance(30)
    w.fail_node("region-000.region")
    region = pool(w, "region")
    assert region["down_nodes"] == 1 and region["nodes"][0]["down"] is True
    assert region["gpus"] == {"total": 8, "used": 8}, "a down node's capacity is unavailable"
    late = w.submit_job(job("v100.4gpu", runtime_s=10), workspace="ws")
    assert (first.status, late.status) == ("Restarting", "Pending")
    with pytest.raises(Rejected, match="already down"):
        w.fail_node("region-000.region")
    w.advance(299)
    assert not first.placed_at and not late.placed_at
    w.advance(1)
    assert first.placed_at == late.placed_at == START + 330
    assert pool(w, "region")["down_nodes"] == 0
    with pytest.raises(Rejected, match="No node"):
        w.fail_node("nowhere")


def test_a_jupyter_server_on_a_failed_node_goes_to_error_and_can_resume():
    w = faulty(TWO_NODES)
    book = w.create_notebook(workspace="ws", name="nb", region="DGX2-MT", instance_type="v100.4gpu")
    w.advance(100)
    assert book.status == "running"
    w.fail_node("direct-000.direct")
    assert book.status == "error"
    assert used_gpus(w, "direct") == 16, "the direct pool's only node is down"
    w.advance(1000)
    lines = [ln for ln in w.billing_report()["lines"] if ln["item"] == book.uid]
    assert [ln["seconds"] for ln in lines] == [100], "billing stopped at the failure"
    w.resume_notebook(book.uid, "DGX2-MT", "v100.4gpu")
    assert book.status == "resuming" and used_gpus(w, "direct") == 4, "repaired: it runs again"


def test_random_failures_are_reproducible_under_a_seed():
    def run(seed):
        w = faulty(TWO_NODES, {"node_failures": {"rate_per_node_hour": 2}}, seed=seed)
        jobs = [
            w.submit_job(job("v100.4gpu", runtime_s=3600, max_retry=100), workspace="ws")
            for _ in range(4)
        ]
        w.run_until_idle()
        history = [[(a.running_at, a.ended_at, a.node) for a in j.history] for j in jobs]
        return history, [j.completed_at for j in jobs], w.billing_report()

    first = run(7)
    assert first == run(7)
    assert first[0] != run(8)[0]
    assert any(first[0]), "at 2 failures per node-hour, some of 4 hour-long jobs restart"
    assert all(len(h) <= 100 for h in first[0])


def test_failures_strike_only_busy_nodes_and_run_until_idle_still_ends():
    w = faulty(TWO_NODES, {"node_failures": {"rate_per_node_hour": 50, "repair_s": 60}})
    w.advance(3 * 3600)
    assert w.engine.idle(), "idle nodes schedule no failures"
    assert all(not n["down"] for p in w.pools_report() for n in p["nodes"])
    jobs = [
        w.submit_job(job("v100.8gpu", runtime_s=60, max_retry=100), workspace="ws")
        for _ in range(6)
    ]
    end = w.run_until_idle()
    assert {j.status for j in jobs} <= {"Completed", "Failed"}
    assert sum(len(j.history) for j in jobs) > 0
    assert end <= max(j.completed_at for j in jobs) + 60, "nothing past the last repair"


def test_a_running_server_under_failures_ends_in_error_so_run_until_idle_ends():
    w = faulty(TWO_NODES, {"node_failures": {"rate_per_node_hour": 1}})
    book = w.create_notebook(workspace="ws", name="nb", region="DGX2-MT", instance_type="v100.1gpu")
    w.run_until_idle()
    assert book.status == "error"
    assert w.engine.idle()


def test_turning_failures_on_covers_work_that_is_already_placed():
    w = faulty(TWO_NODES)
    j = w.submit_job(job("v100.8gpu", runtime_s=10 * 3600), workspace="ws")
    w.advance(60)
    w.configure_faults({"node_failures": {"rate_per_node_hour": 5}})
    w.run_until_idle()
    assert (j.status, j.fail_reason) == ("Failed", "node_failure")
    w.configure_faults({"node_failures": {"rate_per_node_hour": 0}})
    k = w.submit_job(job("v100.8gpu", runtime_s=10 * 3600), workspace="ws")
    w.run_until_idle()
    assert k.status == "Completed"


# ---- preemption ---------------------------------------------------------------------------------
def test_a_higher_priority_job_evicts_the_lowest_class_newest_first():
    w = faulty(ONE_NODE, PREEMPT["faults"])
    low_old = w.submit_job(job("v100.2gpu", runtime_s=900, priority_class="low"), workspace="ws")
    w.advance(1)
    low_new = w.submit_job(job("v100.2gpu", runtime_s=900, priority_class="low"), workspace="ws")
    w.advance(1)
    shared = w.submit_job(
        job("v100.2gpu", runtime_s=900, priority_class="shared-low"), workspace="ws"
    )
    medium = w.submit_job(job("v100.2gpu", runtime_s=900, priority_class="medium"), workspace="ws")
    w.advance(60)
    high = w.submit_job(job("v100.4gpu", runtime_s=60, priority_class="high"), workspace="ws")
    assert [j.status for j in (low_old, low_new, shared, medium)] == [
        "Running", "Terminated", "Terminated", "Running"
    ]  # fmt: skip
    assert high.placed_at == w.now_epoch()
    expected = {"id": high.uid, "name": high.name, "priority": "high", "type": "job"}
    assert low_new.preemptors == shared.preemptors == (expected,)
    assert low_old.preemptors == ()
    assert low_new.completed_at == w.now_epoch()
    assert w.job_logs(low_new)[-1] == (
        f"Job {low_new.name} was preempted by job {high.name} (priority high) and terminated"
    )
    w.advance(3600)
    assert job_lines(w, low_new)[0]["end"] == low_new.completed_at, "billing stopped"


def test_preemption_evicts_no_more_than_needed():
    w = faulty(ONE_NODE, PREEMPT["faults"])
    low_old = w.submit_job(job("v100.2gpu", runtime_s=900, priority_class="low"), workspace="ws")
    w.advance(1)
    low_new = w.submit_job(job("v100.4gpu", runtime_s=900, priority_class="low"), workspace="ws")
    shared = w.submit_job(
        job("v100.2gpu", runtime_s=900, priority_class="shared-low"), workspace="ws"
    )
    high = w.submit_job(job("v100.4gpu", runtime_s=60, priority_class="high"), workspace="ws")
    assert [j.status for j in (low_old, low_new, shared)] == ["Pending", "Terminated", "Pending"]
    assert high.placed_at, "evicting the 4-GPU job alone makes room; the shared-low one stays"


def test_no_preemption_of_equal_classes_or_when_evicting_all_would_not_do():
    w = faulty(ONE_NODE, PREEMPT["faults"])
    medium = w.submit_job(job("v100.4gpu", runtime_s=900), workspace="ws")
    low = w.submit_job(job("v100.4gpu", runtime_s=900, priority_class="low"), workspace="ws")
    same = w.submit_job(job("v100.8gpu", runtime_s=60), workspace="ws")
    assert (medium.status, low.status, same.status) == ("Pending", "Pending", "Pending")
    assert not same.placed_at and low.placed_at, "the medium job in its way is not evicted"
    assert w.pending() == [same]


def test_preemption_is_off_by_default():
    w = faulty(ONE_NODE)
    low = w.submit_job(job("v100.8gpu", runtime_s=900, priority_class="low"), workspace="ws")
    high = w.submit_job(job("v100.8gpu", runtime_s=60, priority_class="high"), workspace="ws")
    assert (low.placed_at, high.placed_at) == (START, 0)
    w.configure_faults(PREEMPT["faults"])
    assert low.status == "Terminated" and high.placed_at == START, "switched on: it acts now"


def test_servers_preempt_jobs_only_when_allowed_and_sharing_a_pool():
    shared = {"pools": [gpu_pool("shared", 8, serves=("job", "notebook"))]}
    w = faulty(shared, PREEMPT["faults"])
    low = w.submit_job(job("v100.8gpu", runtime_s=900, priority_class="low"), workspace="ws")
    book = w.create_notebook(workspace="ws", name="nb", region="DGX2-MT", instance_type="v100.4gpu")
    assert (low.status, book.status) == ("Pending", "waiting")
    w.configure_faults({"preemption": {"notebooks": True}})
    assert low.status == "Terminated" and book.status == "creating"
    assert low.preemptors == (
        {"id": book.uid, "name": "nb", "priority": "medium", "type": "notebook"},
    )


# ---- slow pulls ---------------------------------------------------------------------------------
def test_slow_pulls_take_factor_times_longer_seeded_per_job():
    def pulls(seed, probability):
        faults = {"slow_pulls": {"probability": probability, "factor": 10}}
        w = faulty({}, faults, seed=seed)
        jobs = [w.submit_job(job(runtime_s=10), workspace="ws") for _ in range(40)]
        w.run_until_idle()
        return [round(j.start_at - j.placed_at, 6) for j in jobs]

    assert set(pulls(1, 1.0)) == {20.0}
    assert set(pulls(1, 0.0)) == {2.0}
    mixed = pulls(1, 0.3)
    assert mixed == pulls(1, 0.3)
    assert 4 <= mixed.count(20.0) <= 20 and mixed.count(20.0) + mixed.count(2.0) == 40


# ---- the API ------------------------------------------------------------------------------------
def test_the_api_lists_preemptors_and_keeps_lowercase_statuses_in_the_spec():
    w = faulty(ONE_NODE, PREEMPT["faults"])
    app = create_app(w)
    client = app.test_client()
    token = client.post(
        "/public/v2/service_auth", json={"client_id": "k", "client_secret": "s"}
    ).get_json()["token"]["access_token"]
    headers = {"authorization": token, "x-workspace-id": WS, "x-api-key": "key"}

    def get(path, **query):
        r = client.get(f"/public/v2/{path}", headers=headers, query_string=query)
        body = json.loads(r.get_data())
        validate_response("GET", path, r.status_code, body)
        return body

    body = {"script": "/home/jovyan/t.py", "base_image": "img", "instance_type": "v100.8gpu",
            "region": "DGX2-MT", "type": "pytorch2", "max_retry": 3}  # fmt: skip
    low = client.post("/public/v2/jobs", headers=headers, json={**body, "priority_class": "low"})
    low_name = low.get_json()["job_name"]
    high = client.post("/public/v2/jobs", headers=headers, json={**body, "priority_class": "high"})
    high_name = high.get_json()["job_name"]
    assert get(f"jobs/{low_name}")["status"] == "terminated"
    assert get(f"jobs/{low_name}/preemptors")["preemptors"] == [
        {
            "id": get(f"jobs/{high_name}")["uid"],
            "name": high_name,
            "priority": "high",
            "type": "job",
        }
    ]
    assert get(f"jobs/{high_name}/preemptors") == {"preemptors": []}
    assert get("jobs/lm-mpi-job-nope/preemptors") == {"preemptors": []}
    w.advance(30)
    w.fail_node("region-000.region")
    assert get(f"jobs/{high_name}")["status"] == "pending", (
        "Restarting is not in the lowercase enum"
    )
    listed = get("jobs", region="DGX2-MT")["jobs"]
    assert {j["job_name"]: j["status"] for j in listed} == {
        low_name: "Terminated",
        high_name: "Restarting",
    }
    text = client.get(f"/public/v2/jobs/{high_name}/logs", headers=headers).get_data(as_text=True)
    assert text.rstrip("\n").endswith(f"Restarting job {high_name} (retry 1 of 3)...")
