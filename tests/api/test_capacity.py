"""Capacity as users see it: a job's nodes and parameters, node load, a region's nodes and what
can start there, allocations and their resources (Flask test client, manual virtual clock),
every answer checked against the spec."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.operations import OPERATIONS
from mock_server.testing import DEFAULT_START_EPOCH
from tests.api.test_resources import EIGHT_GPU, ONE_GPU, STARTED_S, WS_A, WS_B, Api

NODE_LOAD = "nodes/load?allocation_id={alloc}&node_names={node}"
CAPACITY_AREAS = {"allocations", "queues", "shared_cluster_queues", "nodes", "instance_types"}


@pytest.fixture
def api(app: Any) -> Api:
    return Api(app, WS_A)


@pytest.fixture
def other(app: Any) -> Api:
    return Api(app, WS_B, "key-b")


@pytest.fixture
def started(api: Api, world: Any) -> str:
    """An 8-worker x 1-GPU job in SR006, Running."""
    name = api.submit("SR006", ONE_GPU, workers=8, runtime_s=3600)
    world.advance(STARTED_S)
    assert api.get(f"jobs/{name}")["status"] == "running"
    return name


def test_every_capacity_operation_is_built() -> None:
    ops = [
        op
        for op in OPERATIONS
        if op.area in CAPACITY_AREAS or op.path.endswith(("/nodes", "/params"))
    ]
    # allocations 10, queues 18, shared-cluster 2, nodes 2, instance types 1, jobs' nodes and params
    assert len(ops) == 35
    assert [f"{op.method} {op.path}" for op in ops if op.handler is None] == []


# ---- a job's nodes and parameters ----------------------------------------------------------------
def test_a_running_job_names_its_nodes_and_shows_in_their_load(
    api: Api, other: Api, started: str
) -> None:
    nodes = api.get(f"jobs/{started}/nodes")["node_names"]
    alloc = api.allocation("SR006")["id"]

    assert nodes and all(n in api.get("nodes/SR006/nodes")["masked_nodes"] for n in nodes)
    (load,) = api.get(NODE_LOAD.format(alloc=alloc, node=nodes[0]))["loads"]
    (item,) = load["jobs"]
    assert (load["node_name"], item["name"], item["status"]) == (nodes[0], started, "Running")
    assert item["allocation_label"] == "payg-sr006" and item["workspace"] == WS_A
    together = "&".join(f"node_names={n}" for n in nodes)
    loads = api.get(f"nodes/load?{together}")["loads"]
    assert sum(j["gpu_count"] for load in loads for j in load["jobs"]) == 8
    # another workspace sees the node, not the job
    assert other.get(f"nodes/load?node_names={nodes[0]}")["loads"][0]["jobs"] == []


def test_a_job_has_no_nodes_once_it_ends(api: Api, world: Any, started: str) -> None:
    api.call("DELETE", f"jobs/{started}?region=SR006")
    assert api.get(f"jobs/{started}/nodes") == {"node_names": []}


def test_job_params_are_what_was_submitted_with_the_platforms_defaults(
    api: Api, started: str
) -> None:
    params = api.get(f"jobs/{started}/params")

    assert (params["region"], params["instance_type"], params["n_workers"]) == ("SR006", ONE_GPU, 8)
    assert (params["allocation_name"], params["queue_name"]) == ("payg-sr006", "default-sr006")
    assert params["priority_class"] == "medium" and params["type"] == "binary"
    assert params["script"] == "/home/jovyan/train.py"


def test_another_workspaces_job_has_no_nodes_nor_params(other: Api, started: str) -> None:
    assert other.get(f"jobs/{started}/nodes", status=404, spec=False)["error_code"] == 1
    other.get(f"jobs/{started}/params", status=404, spec=False)


# ---- regions and nodes ---------------------------------------------------------------------------
def test_region_nodes_count_failed_ones(api: Api, world: Any) -> None:
    nodes = api.get("nodes/SR006/nodes")
    assert nodes["failed"] == 0 and len(nodes["masked_nodes"]) > 60

    world.fail_node(nodes["masked_nodes"][0])
    assert api.get("nodes/SR006/nodes")["failed"] == 1


def test_available_counts_follow_running_work(api: Api, world: Any) -> None:
    def count(key: str, query: str = "") -> int:
        types = api.get(f"instance_types/SR006/available{query}")["instance_types"]
        return next(t["count"] for t in types if t["key"] == key)

    before = count(EIGHT_GPU)
    api.submit("SR006", EIGHT_GPU, workers=10)
    assert count(EIGHT_GPU) == before - 10
    assert count(EIGHT_GPU, "?allocation_name=payg-sr006&queue_name=default-sr006") == before - 10


def test_unknown_allocation_or_queue_name_has_no_availability(api: Api) -> None:
    body = api.get("instance_types/SR006/available?allocation_name=nope", status=404)
    assert body == {"detail": "Allocation not found for region 'SR006'"}
    api.get("instance_types/SR006/available?queue_name=nope", status=404)


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("nodes/XX-1/nodes", ["path", "region"]),
        ("instance_types/XX-1/available", ["path", "region"]),
        ("nodes/load", ["query", "node_names"]),
        ("nodes/load?node_names=x&allocation_id=not-a-uuid", ["query", "allocation_id"]),
        ("nodes/load?node_names=x&queue_id=12", ["query", "queue_id"]),
        ("queues/", ["query", "allocation_id"]),
        (
            "queues/?allocation_id=00000000-0000-4000-8000-000000000001&workspace_id=me",
            ["query", "workspace_id"],
        ),
        ("allocations/defaults?regions=SR006", ["query", "region"]),
    ],
)
def test_malformed_capacity_queries_get_fastapi_422(api: Api, path: str, loc: list[str]) -> None:
    assert api.get(path, status=422)["detail"][0]["loc"] == loc


def test_load_of_an_unknown_node_or_allocation_is_404(api: Api, other: Api) -> None:
    node = api.get("nodes/SR006/nodes")["masked_nodes"][0]
    assert api.get("nodes/load?node_names=no-such-node", status=404) == {
        "detail": "Node is not found"
    }
    theirs = other.allocation("SR006")["id"]
    api.get(NODE_LOAD.format(alloc=theirs, node=node), status=404)


# ---- allocations ---------------------------------------------------------------------------------
def test_allocations_list_the_callers_own_per_region(api: Api, other: Api) -> None:
    allocs = api.get("allocations/")

    assert [a["id"] for a in allocs] == [
        a["id"] for a in api.get(f"workspaces/v3/{WS_A}/allocations")
    ]
    assert all(
        a["workspace_access"] == [{"id": WS_A, "name": a["workspace_access"][0]["name"]}]
        for a in allocs
    )
    assert not {a["id"] for a in allocs} & {a["id"] for a in other.get("allocations/")}


def test_resources_status_counts_a_running_jobs_gpus(api: Api, other: Api, started: str) -> None:
    alloc = api.allocation("SR006")["id"]
    status = api.get(f"allocations/{alloc}/resources_status")

    assert status["gpu"]["current"] >= 8
    assert status["gpu"]["available"] == status["gpu"]["all"] - 8  # nobody else runs anything
    assert status["cpu"]["current"] == 8 * 12 and status["ram"]["current"] == 8 * 96
    assert status["nodes_status"]["available"] == status["nodes_status"]["all"]
    assert api.get(f"allocations/{alloc}")["resources"] == status
    theirs = other.allocation("SR006")["id"]
    assert other.get(f"allocations/{theirs}/resources_status")["gpu"]["current"] == 0


def test_resources_status_available_gpus_stop_at_the_workspace_quota(api: Api, world: Any) -> None:
    world.set_quotas({"workspaces": {WS_A: 4}})
    alloc = api.allocation("SR006")["id"]
    api.submit("SR006", ONE_GPU, workers=3)

    assert api.get(f"allocations/{alloc}/resources_status")["gpu"]["available"] == 1


def test_allocation_detail_nodes_and_availability(api: Api, started: str) -> None:
    alloc = api.allocation("SR006")
    detail = api.get(f"allocations/{alloc['id']}")
    nodes = api.get(f"allocations/{alloc['id']}/nodes")
    busy = set(api.get(f"jobs/{started}/nodes")["node_names"])

    assert detail["nodes"] == [n["name"] for n in nodes["nodes"]] and nodes["name"] == alloc["name"]
    assert detail["target_resource"]["gpus"] == detail["resources"]["gpu"]["all"]
    used = {n["name"]: n["resource_usage"]["allocated"]["gpu"] for n in nodes["nodes"]}
    assert {name for name, gpus in used.items() if gpus} == busy
    avail = api.get(f"allocations/{alloc['id']}/instance_types_availability")
    keys = {a["key"]: a["available"] for a in avail}
    assert keys == {k: v for k, v in api.availability("SR006").items()}


def test_assignments_name_the_workspace(api: Api) -> None:
    alloc = api.allocation("SR006")["id"]
    (one,) = api.get(f"allocations/{alloc}/assignments")
    assert one["org_structure"] == {"id": WS_A, "type": "workspace"}


def test_allocation_defaults_can_be_unset_and_set_again(api: Api) -> None:
    alloc = api.allocation("SR006")["id"]
    body = {"org_structure": {"id": WS_A, "type": "workspace"}, "default_for": "job"}

    def kinds() -> set[str]:
        return {d["default_for"] for d in api.get("allocations/defaults?region=SR006")}

    assert "job" in kinds()

    assert api.call("DELETE", f"allocations/{alloc}/defaults", body) == {"success": True}
    assert "job" not in kinds() and not api.allocation("SR006")["default_for_job"]
    api.call("POST", f"allocations/{alloc}/defaults", body)
    assert "job" in kinds() and api.allocation("SR006")["default_for_job"]


def test_bad_allocation_requests_are_refused_and_change_nothing(api: Api, other: Api) -> None:
    alloc = api.allocation("SR006")["id"]
    before = api.get("allocations/defaults?region=SR006")
    bad = {"org_structure": {"id": "nope", "type": "workspace"}, "default_for": "job"}
    assert api.call("DELETE", f"allocations/{alloc}/defaults", bad, status=422)["detail"][0][
        "loc"
    ] == ["body", "org_structure", "id"]
    wrong = {"org_structure": {"id": WS_A, "type": "workspace"}, "default_for": "pipeline"}
    api.call("DELETE", f"allocations/{alloc}/defaults", wrong, status=422)
    theirs = {"org_structure": {"id": WS_B, "type": "workspace"}, "default_for": "job"}
    api.call("DELETE", f"allocations/{alloc}/defaults", theirs, status=404, spec=False)
    api.get("allocations/defaults", status=422)
    assert api.get("allocations/defaults?region=SR006") == before

    api.get("allocations/not-a-uuid", status=422)
    unknown = other.allocation("SR006")["id"]
    for path in ("", "/resources_status", "/nodes", "/instance_types_availability"):
        api.get(f"allocations/{unknown}{path}", status=404, spec=path != "/nodes")


# ---- queues --------------------------------------------------------------------------------------
JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "cr.ai.cloud.ru/aicloud-base-images/py3.11-torch2.4.0:0.0.40",
    "instance_type": ONE_GPU,
    "region": "SR006",
    "type": "binary",
    "env_variables": {"MLSPACE_SIM_RUNTIME_S": "3600"},
}


def make_queue(api: Api, name: str = "team", **extra: Any) -> str:
    alloc = api.allocation("SR006")["id"]
    body = {"name": name, "description": "the team's", "allocation_id": alloc, **extra}
    return api.call("POST", "queues/", body)["id"]


def submit_to(api: Api, queue: str, workers: int = 1, status: int = 200) -> Any:
    body = {**JOB, "n_workers": workers, "queue_name": queue}
    return api.call("POST", "jobs", body, status=status, spec=status == 200)


def statuses(api: Api, names: list[str]) -> list[str]:
    return [api.get(f"jobs/{n}")["status"] for n in names]


def test_a_created_queue_is_listed_and_detailed(api: Api) -> None:
    queue_id = make_queue(api, gpu_limit=2)
    alloc = api.allocation("SR006")["id"]

    listed = api.get(f"queues/?allocation_id={alloc}")
    assert [(q["name"], q["type"]) for q in listed] == [
        ("default-sr006", "default"),
        ("team", "custom"),
    ]
    old_style = api.get(f"workspaces/v3/{WS_A}/allocations/{alloc}/queues")
    assert [q["id"] for q in old_style] == [q["id"] for q in listed]
    detail = api.get(f"queues/{queue_id}")
    assert (detail["name"], detail["gpu_limit"], detail["nodes"]) == ("team", 2, [])
    types = api.get(f"queues/{queue_id}/instance-types")
    assert next(t for t in types if t["key"] == ONE_GPU)["availability"] == 2


def test_a_queues_gpu_limit_holds_its_jobs_back_and_not_others(api: Api, world: Any) -> None:
    queue_id = make_queue(api, gpu_limit=2)
    names = [submit_to(api, "team")["job_name"] for _ in range(3)]
    outside = api.submit("SR006", ONE_GPU)
    world.advance(STARTED_S)

    assert statuses(api, names) == ["running", "running", "pending"]
    assert api.get(f"jobs/{outside}")["status"] == "running"
    assert [j["name"] for j in api.get(f"queues/{queue_id}/jobs")["jobs"]] == names
    pods = api.get(f"queues/{queue_id}/pods")["pods"]
    assert [p["status"] for p in pods] == ["Running", "Running", "Pending"]
    waiting = api.get(
        f"queues/{queue_id}/awaiting-launch-resources?priority=medium&limit=10&offset=0"
    )
    assert [w["name"] for w in waiting["items"]] == names[2:]

    api.call("PUT", f"queues/{queue_id}", {"name": "team", "description": "", "gpu_limit": 3})
    world.advance(STARTED_S)
    assert statuses(api, names) == ["running"] * 3


def test_work_a_queue_can_never_run_is_refused_before_it_exists(api: Api, world: Any) -> None:
    make_queue(api, gpu_limit=2)
    body = submit_to(api, "team", workers=4, status=400)

    assert "limit 2" in body["error_message"]
    assert world.census()["jobs"] == 0
    assert submit_to(api, "no-such-queue", status=400)["error_code"] == 1
    assert world.census()["jobs"] == 0


def test_a_job_naming_an_unknown_allocation_is_refused_and_not_created(
    api: Api, world: Any
) -> None:
    body = {**JOB, "allocation_name": "no-such-allocation"}
    refused = api.call("POST", "jobs", body, status=400)

    assert refused["error_code"] == 1 and "no-such-allocation" in refused["error_message"]
    assert world.census()["jobs"] == 0


def test_nodes_added_to_a_queue_run_only_its_work(api: Api, world: Any) -> None:
    queue_id = make_queue(api)
    node = api.get("nodes/SR006/nodes")["masked_nodes"][7]
    body = {"nodes": [node], "force_withdrawal": False}
    assert api.call("POST", f"queues/{queue_id}/nodes", body) == {"success": True}

    name = submit_to(api, "team", workers=2)["job_name"]
    assert api.get(f"jobs/{name}/nodes")["node_names"] == [node]
    assert api.get(f"queues/{queue_id}")["nodes"] == [node]
    alloc_nodes = api.get(f"allocations/{api.allocation('SR006')['id']}/nodes", spec=False)["nodes"]
    assert next(n for n in alloc_nodes if n["name"] == node)["queue"]["name"] == "team"
    missing = {"nodes": ["no-such-node"], "force_withdrawal": False}
    api.call("POST", f"queues/{queue_id}/nodes", missing, status=404, spec=False)


def test_a_queue_with_live_work_cannot_be_deleted(api: Api, world: Any) -> None:
    queue_id = make_queue(api)
    name = submit_to(api, "team")["job_name"]
    alloc = api.allocation("SR006")["id"]

    assert api.call("DELETE", f"queues/{queue_id}", status=409)["error_message"]
    api.call("DELETE", f"jobs/{name}?region=SR006")
    assert api.call("DELETE", f"queues/{queue_id}") == {"success": True}
    assert [q["name"] for q in api.get(f"queues/?allocation_id={alloc}")] == ["default-sr006"]
    api.get(f"queues/{queue_id}", status=404, spec=False)


def test_a_chosen_default_queue_takes_unnamed_work_and_assignments_are_kept(api: Api) -> None:
    queue_id = make_queue(api)
    alloc = api.allocation("SR006")["id"]
    org = {"id": WS_A, "type": "workspace"}

    def default_job_queue() -> str:
        rows = api.get(f"queues/defaults?allocation_id={alloc}")
        return next(r["queue"]["name"] for r in rows if r["default_for"] == "job")

    assert default_job_queue() == "default-sr006"
    body = {"org_structure": org, "default_for": "job"}
    api.call("POST", f"queues/{queue_id}/defaults", body)
    assert default_job_queue() == "team"
    assert api.get(f"queues/{queue_id}/defaults")["defaults"][queue_id][0]["default_for"] == "job"
    listed = api.get(f"workspaces/v3/{WS_A}/allocations/{alloc}/queues")
    assert [q["name"] for q in listed if q["default_for_job"]] == ["team"]
    unnamed = api.submit("SR006", ONE_GPU)
    assert [j["name"] for j in api.get(f"queues/{queue_id}/jobs")["jobs"]] == [unnamed]
    api.call("DELETE", f"queues/{queue_id}/defaults", body)
    assert default_job_queue() == "default-sr006"
    assert api.get(f"jobs/{api.submit('SR006', ONE_GPU)}/params")["queue_name"] == "default-sr006"

    for method, path, payload in [
        ("POST", f"queues/{queue_id}/assign", {"org_structure": org}),
        ("DELETE", f"queues/{queue_id}/assign", {"org_structure": org}),
        ("POST", f"queues/{queue_id}/workspaces/assign", {"workspace_ids": [WS_A]}),
        ("POST", "shared-cluster-queues/assign", {"region_key": "SR006", "org_structure": org}),
        ("DELETE", "shared-cluster-queues/assign", {"region_key": "SR006", "org_structure": org}),
    ]:
        assert api.call(method, path, payload) == {"success": True}
    assert api.get(f"queues/{queue_id}/notebooks") == {"notebooks": []}


@pytest.mark.parametrize(
    ("method", "path", "payload", "loc"),
    [
        ("POST", "queues/", {"name": "x", "allocation_id": "{alloc}"}, ["body", "description"]),
        (
            "POST",
            "queues/",
            {"name": "x", "description": "", "allocation_id": "z"},
            ["body", "allocation_id"],
        ),
        (
            "POST",
            "queues/",
            {"name": "x", "description": "", "allocation_id": "{alloc}", "gpu_limit": -1},
            ["body", "gpu_limit"],
        ),
        (
            "PUT",
            "queues/{queue}",
            {"name": "x", "description": "", "gpu_limit": "2"},
            ["body", "gpu_limit"],
        ),
        ("POST", "queues/{queue}/nodes", {"nodes": ["n"]}, ["body", "force_withdrawal"]),
        (
            "POST",
            "queues/{queue}/assign",
            {"org_structure": {"id": "1", "type": "workspace"}},
            ["body", "org_structure", "id"],
        ),
        (
            "POST",
            "queues/{queue}/workspaces/assign",
            {"workspace_ids": "all"},
            ["body", "workspace_ids"],
        ),
        (
            "POST",
            "queues/{queue}/defaults",
            {"org_structure": {"id": WS_A, "type": "team"}, "default_for": "job"},
            ["body", "org_structure", "type"],
        ),
        (
            "POST",
            "shared-cluster-queues/assign",
            {"region_key": "XX", "org_structure": {"id": WS_A, "type": "workspace"}},
            ["body", "region_key"],
        ),
        ("GET", "queues/", None, ["query", "allocation_id"]),
        ("GET", "queues/defaults?allocation_id=1", None, ["query", "allocation_id"]),
        ("GET", "queues/not-a-uuid", None, ["path", "queue_id"]),
    ],
)
def test_bad_queue_requests_get_422_and_change_nothing(
    api: Api, method: str, path: str, payload: Any, loc: list[str]
) -> None:
    queue_id = make_queue(api)
    alloc = api.allocation("SR006")["id"]
    before = api.get(f"queues/{queue_id}"), api.get(f"queues/?allocation_id={alloc}")
    if isinstance(payload, dict) and payload.get("allocation_id") == "{alloc}":
        payload = {**payload, "allocation_id": alloc}

    body = api.call(method, path.format(queue=queue_id), payload, status=422)

    assert body["detail"][0]["loc"] == loc
    assert (api.get(f"queues/{queue_id}"), api.get(f"queues/?allocation_id={alloc}")) == before


def test_duplicate_names_and_unknown_allocations_are_refused(api: Api, other: Api) -> None:
    make_queue(api)
    alloc = api.allocation("SR006")["id"]
    same = {"name": "team", "description": "", "allocation_id": alloc}
    api.call("POST", "queues/", same, status=409, spec=False)
    theirs = {**same, "name": "mine", "allocation_id": other.allocation("SR006")["id"]}
    api.call("POST", "queues/", theirs, status=404, spec=False)
    assert len(api.get(f"queues/?allocation_id={alloc}")) == 2


# ---- workspace GPU quotas at run time ------------------------------------------------------------
def test_quotas_set_through_the_admin_api_refuse_work_until_gpus_free(
    api: Api, app: Any, world: Any
) -> None:
    admin = app.test_client()
    shown = admin.put("/_mock/quotas", json={"workspace_gpus": 8}).get_json()
    assert shown["workspace_gpus"] == 8 and shown["workspaces"] == {}

    first = api.submit("SR006", EIGHT_GPU, runtime_s=600)
    refused = api.call("POST", "jobs", {**JOB, "n_workers": 1}, status=400)
    assert refused == {"error_code": 1, "error_message": "WORKSPACE_GPU_LIMIT_REACHED_ONLY_0_FREE"}
    assert world.census()["jobs"] == 1
    usage = admin.get("/_mock/quotas").get_json()["usage"][WS_A]
    assert usage == {"used": 8, "limit": 8, "free": 0}

    world.advance(STARTED_S + 600)
    assert api.get(f"jobs/{first}")["status"] == "completed"
    assert api.call("POST", "jobs", {**JOB, "n_workers": 1})["job_name"]


def test_a_workspace_override_and_lifting_it(api: Api, app: Any) -> None:
    admin = app.test_client()
    admin.put("/_mock/quotas", json={"workspaces": {WS_A: 0}})
    api.call("POST", "jobs", {**JOB, "n_workers": 1}, status=400)

    lifted = admin.put("/_mock/quotas", json={"workspaces": {WS_A: None}}).get_json()
    assert lifted["workspaces"] == {}
    assert api.call("POST", "jobs", {**JOB, "n_workers": 1})["job_name"]


@pytest.mark.parametrize(
    "body",
    [{"workspace_gpus": -1}, {"workspace_gpus": "8"}, {"workspaces": {WS_A: 1.5}}, {"gpus": 8}],
)
def test_bad_quotas_get_422_and_change_nothing(app: Any, body: Any) -> None:
    admin = app.test_client()
    admin.put("/_mock/quotas", json={"workspace_gpus": 16})
    before = admin.get("/_mock/quotas").get_json()

    resp = admin.put("/_mock/quotas", json=body)

    assert resp.status_code == 422 and resp.get_json()["detail"][0]["loc"][0] == "body"
    assert admin.get("/_mock/quotas").get_json() == before


def test_quotas_need_the_admin_token_where_one_is_set() -> None:
    admin = create_app(start_epoch=DEFAULT_START_EPOCH, settings={"admin_token": "adm-1"})
    client = admin.test_client()

    assert client.put("/_mock/quotas", json={"workspace_gpus": 0}).status_code == 401
    assert (
        client.get("/_mock/quotas", headers={"x-admin-token": "adm-1"}).json["workspace_gpus"]
        is None
    )


def test_a_renamed_queue_keeps_its_id_in_job_listings(api: Api) -> None:
    queue_id = make_queue(api)
    name = submit_to(api, "team")["job_name"]
    api.call("PUT", f"queues/{queue_id}", {"name": "team-b", "description": ""})
    later = submit_to(api, "team-b")["job_name"]

    listed = {j["job_name"]: j for j in api.get("jobs?region=SR006")["jobs"]}
    assert {listed[n]["queue_id"] for n in (name, later)} == {queue_id}
    assert {listed[n]["queue_name"] for n in (name, later)} == {"team-b"}


def test_queues_come_back_from_a_state_snapshot(api: Api, app: Any) -> None:
    queue_id = make_queue(api, gpu_limit=3)
    node = api.get("nodes/SR006/nodes")["masked_nodes"][5]
    api.call("POST", f"queues/{queue_id}/nodes", {"nodes": [node], "force_withdrawal": True})
    before = api.get(f"queues/{queue_id}")
    admin = app.test_client()
    snap = admin.get("/_mock/state?secrets=true").get_json()
    admin.post("/_mock/reset")
    api.get(f"queues/{queue_id}", status=404, spec=False)

    assert admin.post("/_mock/state", json=snap).status_code == 200
    assert api.get(f"queues/{queue_id}") == before
