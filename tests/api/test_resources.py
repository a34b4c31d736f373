"""Allocations, queues, instance types, workspaces, pending-launch lists, configs and S3
credentials over HTTP (Flask test client, manual virtual clock), checked against the spec."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.openapi import validate_response

WS_A = "11111111-1111-4111-8111-111111111111"
WS_B = "22222222-2222-4222-8222-222222222222"
SPEC_REGIONS = ["DGX2-MT", "A100-MT", "SR003", "SR004", "SR005", "SR006", "SR008"]
ONE_GPU = "a100plus.1gpu.80vG.12C.96G"
EIGHT_GPU = "a100plus.8gpu.80vG.96C.1952G"
STARTED_S = 25  # submit -> Running on an empty pool: <= 6 s image pull + 15.1 s worker wait


class Api:
    """One workspace's HTTP view of an in-process mock; JSON bodies checked against the spec."""

    def __init__(self, app: Any, ws_id: str, api_key: str = "key") -> None:
        self.client = app.test_client()
        self.ws = ws_id
        self.api_key = api_key

    def token(self) -> str:
        auth = self.client.post(
            "/public/v2/service_auth", json={"client_id": "k", "client_secret": "s"}
        )
        return auth.get_json()["token"]["access_token"]

    def headers(self) -> dict[str, str]:
        return {"authorization": self.token(), "x-workspace-id": self.ws, "x-api-key": self.api_key}

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        status: int = 200,
        spec: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Any:
        resp = self.client.open(
            f"/public/v2/{path}",
            method=method,
            json=body,
            headers=self.headers() if headers is None else headers,
        )
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert resp.content_type == "application/json"
        data = resp.get_json()
        if spec:
            validate_response(method, path, status, data)
        return data

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def submit(self, region: str, itype: str, workers: int = 1, runtime_s: int = 600) -> str:
        body = {
            "script": "/home/jovyan/train.py",
            "base_image": "cr.ai.cloud.ru/aicloud-base-images/py3.11-torch2.4.0:0.0.40",
            "instance_type": itype,
            "region": region,
            "type": "binary",
            "n_workers": workers,
            "env_variables": {"MLSPACE_SIM_RUNTIME_S": str(runtime_s)},
        }
        return self.call("POST", "jobs", body)["job_name"]

    def allocation(self, region: str) -> dict[str, Any]:
        allocs = self.get(f"workspaces/v3/{self.ws}/allocations")
        return next(a for a in allocs if a["region_key"] == region)

    def queue(self, region: str) -> dict[str, Any]:
        alloc = self.allocation(region)
        return self.get(f"workspaces/v3/{self.ws}/allocations/{alloc['id']}/queues")[0]

    def availability(self, region: str) -> dict[str, int]:
        types = self.get(f"allocations/{self.allocation(region)['id']}/instance-types")
        return {t["key"]: t["availability"] for t in types}


@pytest.fixture
def api(app: Any) -> Api:
    return Api(app, WS_A)


@pytest.fixture
def other(app: Any) -> Api:
    return Api(app, WS_B, "key-b")


# ---- allocations and queues ---------------------------------------------------------------------
def test_one_payg_allocation_per_spec_region(api: Api, other: Api) -> None:
    allocs = api.get(f"workspaces/v3/{WS_A}/allocations")

    assert [a["region_key"] for a in allocs] == SPEC_REGIONS  # SR002-MT, CCE-MT: not in the enum
    assert all(a["default_for_job"] and a["org_structure_type"] == "workspace" for a in allocs)
    assert allocs == api.get(f"workspaces/v3/{WS_A}/allocations")  # stable ids
    theirs = other.get(f"workspaces/v3/{WS_B}/allocations")
    assert not {a["id"] for a in allocs} & {a["id"] for a in theirs}


def test_another_workspaces_allocations_are_not_listed(api: Api) -> None:
    assert api.get(f"workspaces/v3/{WS_B}/allocations") == []


def test_malformed_ids_get_fastapi_422(api: Api) -> None:
    body = api.get("allocations/not-a-uuid/instance-types", status=422)
    assert body["detail"][0]["loc"] == ["path", "allocation_id"]
    assert body["detail"][0]["type"] == "uuid_parsing"
    api.get(f"workspaces/v3/{WS_A}/allocations/xyz/queues", status=422)


def test_each_allocation_has_one_default_queue(api: Api) -> None:
    alloc = api.allocation("SR006")
    queues = api.get(f"workspaces/v3/{WS_A}/allocations/{alloc['id']}/queues")

    assert len(queues) == 1
    assert queues[0]["allocation_id"] == alloc["id"]
    assert (queues[0]["type"], queues[0]["active"], queues[0]["default_for_job"]) == (
        "default",
        True,
        True,
    )


def test_unknown_allocation_has_no_queues_nor_instance_types(api: Api, other: Api) -> None:
    foreign = other.allocation("SR006")["id"]
    assert api.get(f"workspaces/v3/{WS_A}/allocations/{foreign}/queues") == []
    assert api.get(f"allocations/{foreign}/instance-types") == []
    assert api.get(f"queues/{other.queue('SR006')['id']}/instance-types") == []


def test_jobs_are_listed_under_the_listed_queue(api: Api) -> None:
    name = api.submit("SR006", ONE_GPU)
    item = api.get("jobs?region=SR006")["jobs"][0]
    queue = api.queue("SR006")

    assert item["job_name"] == name
    assert (item["queue_id"], item["queue_name"]) == (queue["id"], queue["name"])
    assert item["allocation_id"] == queue["allocation_id"]


def test_instance_types_of_allocation_and_queue_are_the_regions(api: Api, world: Any) -> None:
    alloc_types = api.get(f"allocations/{api.allocation('SR003')['id']}/instance-types")
    queue_types = api.get(f"queues/{api.queue('SR003')['id']}/instance-types")

    assert alloc_types == queue_types
    assert [t["key"] for t in alloc_types] == list(
        world.config.catalog.regions["SR003"].instance_types
    )
    presets = {p["key"]: p["size_gb"] for p in alloc_types[0]["storage_presets"]}
    assert presets == {"default": 200, "small": 1250, "medium": 2500, "large": 3750, "xlarge": 5000}


def test_availability_follows_what_running_jobs_take(api: Api, other: Api, world: Any) -> None:
    before = api.availability("SR006")
    assert before[EIGHT_GPU] > 120 and before[ONE_GPU] > before[EIGHT_GPU]

    other.submit("SR006", EIGHT_GPU, workers=120, runtime_s=300)  # 960 GPUs, another workspace
    during = api.availability("SR006")
    assert during[EIGHT_GPU] == before[EIGHT_GPU] - 120
    assert during[ONE_GPU] == before[ONE_GPU] - 960

    world.advance(STARTED_S + 300)
    assert api.availability("SR006") == before


def test_queue_of_an_extra_region_still_resolves(api: Api, world: Any) -> None:
    api.submit("SR002-MT", "a100.1gpu.40")
    listed = api.get("jobs?region=SR002-MT", spec=False)  # the region is outside the spec enum
    queue_id = listed["jobs"][0]["queue_id"]

    types = api.get(f"queues/{queue_id}/instance-types")

    assert [t["key"] for t in types] == list(
        world.config.catalog.regions["SR002-MT"].instance_types
    )


def test_instance_types_need_workspace_credentials(api: Api) -> None:
    queue_id = api.queue("SR006")["id"]
    body = api.get(
        f"queues/{queue_id}/instance-types", status=401, headers={"authorization": api.token()}
    )
    assert body == {"error_code": 9, "error_message": "No x-api-key header provided"}


# ---- workspaces -------------------------------------------------------------------------------
def test_workspace_list_needs_only_a_token(api: Api, other: Api) -> None:
    other.get(f"workspaces/v3/{WS_B}/allocations")  # WS_B comes into being
    body = api.get("workspaces/v3/", headers={"authorization": api.token()})

    listed = {w["id"]: w for w in body["workspaces"]}
    assert WS_B in listed and WS_A not in listed  # WS_A never presented its headers
    mine = listed[WS_B]
    assert [a["cluster_key"] for a in mine["allocations"]] == SPEC_REGIONS
    assert [a["id"] for a in mine["allocations"]] == [
        a["id"] for a in other.get(f"workspaces/v3/{WS_B}/allocations")
    ]


def test_workspace_list_as_the_first_call_shows_the_callers_workspace(api: Api) -> None:
    body = api.get("workspaces/v3/")
    assert [w["id"] for w in body["workspaces"]] == [WS_A]


def test_workspace_list_without_a_token_is_401(api: Api) -> None:
    body = api.get("workspaces/v3/", status=401, headers={})
    assert body == {"error_code": 19, "error_message": "no authorization header, it is required"}


# ---- awaiting launch --------------------------------------------------------------------------
def awaiting(api: Api, queue_id: str, query: str = "priority=medium&limit=100&offset=0") -> Any:
    return api.get(f"queues/{queue_id}/awaiting-launch-resources?{query}")


def test_pending_jobs_show_their_place_in_the_shared_line(api: Api, other: Api, world: Any) -> None:
    api.submit("SR006", EIGHT_GPU, workers=120, runtime_s=300)  # fills 960 of 1000 GPUs
    other.submit("SR006", EIGHT_GPU, workers=10)  # first in line, another workspace
    mine = api.submit("SR006", EIGHT_GPU, workers=10)
    queue_id = api.queue("SR006")["id"]

    body = awaiting(api, queue_id)

    assert body["count"] == 1
    (item,) = body["items"]
    assert (item["name"], item["type"], item["launch_order"]) == (mine, "job", 2)
    assert (item["status"], item["priority"], item["queue_id"]) == ("Pending", "medium", queue_id)
    assert (item["n_workers"], item["gpu_count"], item["workspace_id"]) == (10, 80, WS_A)
    assert item["unschedulable_worker_count"] == 10 - api.availability("SR006")[EIGHT_GPU]
    assert item["created_at"] == "2025-02-26T10:00:00Z"
    assert awaiting(other, other.queue("SR006")["id"])["items"][0]["launch_order"] == 1

    world.advance(STARTED_S + 300)
    assert awaiting(api, queue_id)["count"] == 0


def test_pending_list_filters_orders_and_pages(api: Api) -> None:
    api.submit("SR006", EIGHT_GPU, workers=125, runtime_s=300)  # the whole pool
    small = api.submit("SR006", ONE_GPU, workers=2)
    big = api.submit("SR006", EIGHT_GPU, workers=3)
    queue_id = api.queue("SR006")["id"]

    def names(query: str) -> list[str]:
        return [i["name"] for i in awaiting(api, queue_id, query)["items"]]

    base = "priority=medium&limit=100&offset=0"
    assert names(base) == [small, big]  # launch order
    assert names(base + "&order_by=gpus desc, created_at asc") == [big, small]
    assert names(base + "&gpu_count_min=3") == [big]
    assert names(base + f"&search_by_name={small[-6:]}") == [small]
    assert names(base + "&type=Notebook") == []
    assert names("priority=high&limit=100&offset=0") == []
    page = awaiting(api, queue_id, "priority=medium&limit=1&offset=1")
    assert (page["count"], [i["name"] for i in page["items"]]) == (2, [big])


def test_a_waiting_jupyter_server_is_listed_as_a_notebook(api: Api, world: Any) -> None:
    for name in ("first", "second"):
        world.create_notebook(
            workspace=WS_A, name=name, region="DGX2-MT", instance_type="v100.16gpu"
        )  # the direct pool has 16 GPUs: the second one waits

    items = awaiting(api, api.queue("DGX2-MT")["id"])["items"]

    assert [(i["name"], i["type"], i["gpu_count"]) for i in items] == [("second", "notebook", 16)]


def test_pending_list_requires_priority_limit_and_offset(api: Api) -> None:
    queue_id = api.queue("SR006")["id"]
    missing = api.get(f"queues/{queue_id}/awaiting-launch-resources?limit=1&offset=0", status=422)
    assert missing["detail"][0]["loc"] == ["query", "priority"]
    bad = api.get(
        f"queues/{queue_id}/awaiting-launch-resources?priority=urgent&limit=1&offset=0", status=422
    )
    assert bad["detail"][0]["type"] == "enum"
    api.get(f"queues/{queue_id}/awaiting-launch-resources?priority=low&offset=0", status=422)
    api.get(
        f"queues/{queue_id}/awaiting-launch-resources?priority=low&limit=500&offset=0", status=422
    )


# ---- configs ----------------------------------------------------------------------------------
def test_mt_config_lists_every_region_with_string_quantities(api: Api, world: Any) -> None:
    body = api.get("configs?cluster_type=MT")

    regions = {r["key"]: r for r in body["regions"]}
    assert list(regions) == list(world.config.catalog.regions)
    types = {t["key"]: t for t in regions["DGX2-MT"]["instances_types"]}
    assert types["free.0gpu"]["resource"] == {
        "limits": {"cpu": "0.5", "memory": "3Gi", "nvidia.com/gpu": "0"},
        "requests": {"cpu": "0", "memory": "64Mi", "nvidia.com/gpu": "0"},
    }
    assert types["v100.1gpu"]["resource"]["limits"] == {
        "cpu": "3",
        "memory": "92Gi",
        "nvidia.com/gpu": "1",
    }
    cce = {t["key"]: t for t in regions["CCE-MT"]["instances_types"]}
    assert cce["m3.large.8.linux"]["resource"]["limits"]["memory"] == "12.5Gi"
    assert regions["DGX2-MT"]["ssh"] == {"url": "ssh-jupyter.aicloud.sbercloud.ru", "port": "2222"}
    assert regions["SR003"]["ssh"] is None
    assert "cr.ai.cloud.ru/aicloud-jupyter/jupyter-server" in {
        i["name"] for i in body["datahub_images"]
    }
    assert body["custom_images"] == []


def test_inference_config_lists_the_inference_regions_and_their_types(api: Api) -> None:
    body = api.get("configs?cluster_type=INF")
    regions = {r["key"]: r for r in body["regions"]}
    assert sorted(regions) == ["CCE-INF", "DGX2-INF-001", "INF-002"]  # the spec's InferenceRegion
    v100 = {t["key"]: t for t in regions["DGX2-INF-001"]["instances_types"]}["v100.1gpu"]
    # the spec's InferenceResource defaults: 3 CPU, 94 GB, 1 GPU
    assert v100["resource"]["limits"] == {"cpu": "3", "memory": "94Gi", "nvidia.com/gpu": "1"}
    mt = api.get("configs?cluster_type=MT")["regions"]
    assert not {r["key"] for r in mt} & set(regions)


def test_config_needs_a_known_cluster_type(api: Api) -> None:
    assert api.get("configs", status=422)["detail"][0]["loc"] == ["query", "cluster_type"]
    assert api.get("configs?cluster_type=mt", status=422)["detail"][0]["type"] == "enum"


def test_spark_config_has_the_four_presets(api: Api) -> None:
    body = api.get("configs/spark", spec=False)  # not in the spec

    assert body["driver_resources"] == body["executor_resources"]
    assert [(p["id"], p["cpu"], p["memory"]) for p in body["driver_resources"]] == [
        ("cpu_0", 4, "16Gi"),
        ("cpu_1", 8, "32Gi"),
        ("cpu_2", 12, "48Gi"),
        ("cpu_3", 24, "96Gi"),
    ]
    assert body["driver_resources"][0]["description"] == "cpu-ai-small (4 vCPU, 16 GB)"
    assert body["executor"] == {"max": 10, "min": 1}


# ---- S3 credentials ---------------------------------------------------------------------------
def test_s3_credentials_are_stable_per_workspace(api: Api, other: Api) -> None:
    mine = api.get("s3/credentials", spec=False)
    assert mine == api.get("s3/credentials", spec=False)
    assert set(mine) == {"s3_namespace", "s3_endpoint", "access_key_id", "security_key"}
    assert len(mine["access_key_id"]) == 20 and len(mine["security_key"]) == 40
    assert other.get("s3/credentials", spec=False)["access_key_id"] != mine["access_key_id"]


def test_posted_s3_credentials_are_read_back_by_that_workspace_only(api: Api, other: Api) -> None:
    theirs = other.get("s3/credentials", spec=False)
    creds = {
        "s3_namespace": "ns",
        "s3_endpoint": "https://s3.example",
        "access_key_id": "AK",
        "security_key": "SK",
    }

    assert api.call("POST", "s3/credentials", creds, spec=False) == creds
    assert api.get("s3/credentials", spec=False) == creds
    assert other.get("s3/credentials", spec=False) == theirs


def test_s3_credentials_need_all_four_fields(api: Api) -> None:
    body = api.call("POST", "s3/credentials", {"access_key_id": "AK"}, status=422, spec=False)
    assert {tuple(e["loc"]) for e in body["detail"]} == {
        ("body", "s3_namespace"),
        ("body", "s3_endpoint"),
        ("body", "security_key"),
    }
