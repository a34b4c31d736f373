"""Capacity as users see it: a job's nodes and parameters, node load, a region's nodes and what
can start there, allocations and their resources (Flask test client, manual virtual clock),
every answer checked against the spec."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from tests.api.test_resources import EIGHT_GPU, ONE_GPU, STARTED_S, WS_A, WS_B, Api

NODE_LOAD = "nodes/load?allocation_id={alloc}&node_names={node}"


@pytest.fixture
def app() -> Any:
    return create_app(seed=0, start_epoch=DEFAULT_START_EPOCH)


@pytest.fixture
def world(app: Any) -> Any:
    return app.extensions["mlspace_sim"].world


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
