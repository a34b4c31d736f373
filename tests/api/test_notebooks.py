"""Jupyter Servers over HTTP (Flask test client, manual virtual clock): shapes checked against the
official spec, lifecycle on the direct GPU pool, errors, autoshutdown, billing and isolation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server.app import create_app
from mock_server.auth import namespace_for
from mock_server.inputs import MAX_STRING
from mock_server.testing import DEFAULT_START_EPOCH
from tests.support.openapi import validate_response

WS_A = "11111111-1111-4111-8111-111111111111"
WS_B = "22222222-2222-4222-8222-222222222222"
IMAGE = {
    "name": "cr.ai.cloud.ru/aicloud-jupyter/jupyter-server",
    "tag": "0.0.95",
    "type": "datahub",
}
STARTED_S = 45  # creating/resuming -> running takes 20-40 s
PAUSED_S = 10  # pausing -> paused takes 5 s
V100_GPU_HOUR = Decimal("150.00")  # the illustrative default price


class Api:
    """One workspace's view of an in-process mock: every call checks status and content type,
    and (unless told not to) the body against the official spec."""

    def __init__(self, app: Any, ws_id: str, api_key: str) -> None:
        self.client = app.test_client()
        self.world = app.extensions["mlspace_sim"].world
        self.ws = ws_id
        self.ns = namespace_for(ws_id)
        self.api_key = api_key

    @property
    def headers(self) -> dict[str, str]:
        """Fresh credentials: tokens expire after an hour of virtual time."""
        auth = self.client.post(
            "/public/v2/service_auth", json={"client_id": "k", "client_secret": "s"}
        )
        token = auth.get_json()["token"]["access_token"]
        return {"authorization": token, "x-workspace-id": self.ws, "x-api-key": self.api_key}

    def call(
        self, method: str, path: str, body: Any = None, *, status: int = 200, spec: bool = True
    ) -> Any:
        resp = self.client.open(
            f"/public/v2/{path}", method=method, json=body, headers=self.headers
        )
        assert resp.status_code == status, resp.get_data(as_text=True)
        if not resp.data:
            return None
        assert resp.content_type == "application/json"
        data = resp.get_json()
        if spec:
            validate_response(method, path, status, data)
        return data

    def create(self, name: str = "nb", itype: str = "v100.1gpu", **extra: Any) -> dict[str, Any]:
        body = {"name": name, "image": IMAGE, "instance_type": itype, "region": "DGX2-MT", **extra}
        return self.call("POST", f"notebooks/v2/{self.ns}/notebook", body)

    def get(self, uid: str) -> dict[str, Any]:
        return self.call("GET", f"notebooks/v2/notebook/{uid}")

    def status(self, uid: str) -> str:
        return self.get(uid)["status"]

    def names(self, query: str = "") -> list[str]:
        body = self.call("GET", f"notebooks/v2/notebooks{query}")
        return [i["name"] for i in body["notebooks"]]

    def cost(self, uid: str) -> Decimal:
        lines = self.world.billing_report(self.ws)["lines"]
        return sum((Decimal(ln["cost"]) for ln in lines if ln["item"] == uid), Decimal(0))


def make_app(**kwargs: Any) -> Any:
    return create_app(start_epoch=DEFAULT_START_EPOCH, **kwargs)


@pytest.fixture
def app() -> Any:
    return make_app()


@pytest.fixture
def api(app: Any) -> Api:
    return Api(app, WS_A, "key-a")


# ---- create, list, get ------------------------------------------------------------------------
def test_create_starts_the_server_and_get_shows_it_running(api: Api) -> None:
    made = api.create("my-server", description="for tests", pause_at="45 * * * *")
    assert made["status"] == "creating" and made["uid"] == made["uuid"]
    assert (made["name"], made["instanceType"], made["region"]) == (
        "my-server",
        "v100.1gpu",
        "DGX2-MT",
    )
    assert made["image"] == "cr.ai.cloud.ru/aicloud-jupyter/jupyter-server:0.0.95"
    assert (made["description"], made["pause_at"], made["author"]) == (
        "for tests",
        "45 * * * *",
        "user@example.com",
    )
    assert made["creationTimestamp"] == DEFAULT_START_EPOCH and made["ageSeconds"] == 0
    api.world.advance(STARTED_S)
    for path in (f"notebooks/v1/notebook/{made['uid']}", f"notebooks/v2/notebook/{made['uid']}"):
        got = api.call("GET", path)
        assert (got["uid"], got["status"], got["ageSeconds"]) == (made["uid"], "running", STARTED_S)
        assert got["status_updated_at"].startswith("2025-02-26T10:00:")


def test_list_filters_orders_and_pages(api: Api) -> None:
    for name in ("beta", "alpha", "gamma"):
        api.create(name, itype="free.0gpu")
        api.world.advance(1)
    paused = api.create("delta", itype="free.0gpu")["uid"]
    api.world.advance(STARTED_S)
    api.call("POST", f"notebooks/v2/notebook/{paused}/pause")
    api.world.advance(PAUSED_S)
    body = api.call("GET", "notebooks/v2/notebooks")
    assert (body["total"], body["offset"]) == (4, 0)
    assert api.names() == ["beta", "alpha", "gamma", "delta"]  # oldest first by default
    assert api.names("?order_by=name&desc=True") == ["gamma", "delta", "beta", "alpha"]
    assert api.names("?order_by=name&limit=2&offset=1") == ["beta", "delta"]
    assert api.names("?search=AL") == ["alpha"]
    assert api.names("?status=paused,creating") == ["delta"]
    assert api.names("?status=running&access_mode=shared&notebook_type=Default") == [
        "beta",
        "alpha",
        "gamma",
    ]
    assert api.names("?notebook_type=Spark") == []
    bad = api.call("GET", "notebooks/v2/notebooks?order_by=age", status=422)
    assert bad["detail"][0]["loc"] == ["query", "order_by"]
    bad = api.call("GET", "notebooks/v3/notebooks?desc=maybe&limit=0&offset=-1", status=422)
    assert {(e["loc"][1], e["type"]) for e in bad["detail"]} == {
        ("desc", "bool_parsing"),
        ("limit", "greater_than_equal"),
        ("offset", "greater_than_equal"),
    }


def test_create_v1_accepts_the_2023_body(api: Api) -> None:
    """The public-API notebook's request: image type ``default``, a CPU region."""
    body = {
        "image": {
            "name": "cr.msk.sbercloud.ru/aicloud-base-images/horovod",
            "tag": "0.0.32.3",
            "type": "default",
        },
        "name": "apijs",
        "region": "CCE-MT",
        "instance_type": "m3.large.8.linux",
    }
    out = api.call("POST", f"notebooks/v1/{api.ns}/notebook", body)
    assert out["success"] is True
    assert (out["data"]["name"], out["data"]["namespace"]) == ("apijs", api.ns)
    assert (out["data"]["cpu"], out["data"]["memory"]) == ("1.5", "12.5Gi")
    assert api.names() == ["apijs"]


# ---- create errors ----------------------------------------------------------------------------
def test_a_name_in_use_is_a_conflict(api: Api) -> None:
    api.create("dup")
    out = api.call(
        "POST",
        f"notebooks/v2/{api.ns}/notebook",
        {"name": "dup", "image": IMAGE, "instance_type": "free.0gpu"},
        status=409,
    )
    assert out == {
        "code": 1,
        "detail": "Jupyter server with name 'dup' already exists in current workspace.",
        "message": "Jupyter server with name 'dup' already exists in current workspace.",
    }


def test_unknown_instance_type_and_foreign_namespace_are_bad_requests(api: Api) -> None:
    body = {"name": "x", "image": IMAGE, "instance_type": "v100.99gpu", "region": "DGX2-MT"}
    out = api.call("POST", f"notebooks/v2/{api.ns}/notebook", body, status=400)
    assert out == {
        "details": "Can't find instance_type_key='v100.99gpu' for region=DGX2-MT",
        "status": "error",
    }
    body["instance_type"] = "free.0gpu"
    out = api.call("POST", "notebooks/v2/default/notebook", body, status=400)
    assert out["details"] == f"Namespace=default does not belong to workspace_id='{WS_A}'."
    assert api.names() == []


def test_a_server_over_16_gpus_is_refused(tmp_path: Path) -> None:
    """No shipped instance type is that big, so give the catalog one."""
    region = {
        "key": "DGX2-MT",
        "name": "Christofari.V100",
        "in_spec_enum": True,
        "instance_types": [
            {
                "key": f"v100.{n}gpu",
                "name": f"{n} GPU",
                "gpus": n,
                "gpu_model": "V100",
                "cpu": 3 * n,
                "memory_gi": 92 * n,
                "jupyter": True,
            }
            for n in (16, 32)
        ],
    }
    config = tmp_path / "big.yaml"
    config.write_text(yaml.safe_dump({"catalog": {"regions": [region]}}))
    api = Api(make_app(config_path=config), WS_A, "key-a")
    out = api.call(
        "POST",
        f"notebooks/v2/{api.ns}/notebook",
        {"name": "big", "image": IMAGE, "instance_type": "v100.32gpu"},
        status=400,
    )
    assert out == {
        "details": "A Jupyter Server may use at most 16 GPUs; v100.32gpu has 32",
        "status": "error",
    }
    assert api.create("max", itype="v100.16gpu")["status"] == "creating"


def test_refused_bodies_answer_the_specs_code_4_payload_naming_the_field(api: Api) -> None:
    path = f"notebooks/v2/{api.ns}/notebook"
    good = {"name": "x", "image": IMAGE, "instance_type": "free.0gpu"}
    cases = [
        ({**good, "gpus": 2}, "body.gpus: Extra inputs are not permitted"),
        ({"name": "x", "image": IMAGE}, "body.instance_type: Field required"),
        ({**good, "image": {**IMAGE, "type": "default"}}, "body.image.type: Input should be"),
        (
            {**good, "s3_buckets": [{"bucket_name": "b", "access_rule": "rx"}]},
            "body.s3_buckets.0.access_rule: Input should be",
        ),
        ({**good, "region": "MARS-1"}, "body.region: Input should be"),
        (None, "body: Field required"),
        ([good], "body: Input should be a valid dictionary"),
    ]
    for body, message in cases:
        out = api.call("POST", path, body, status=422)
        assert (out["code"], out["detail"]) == (4, "Unprocessable Entity")
        assert out["message"].startswith(message), out
    v1 = api.call("POST", f"notebooks/v1/{api.ns}/notebook", {**good, "gpus": 2}, status=422)
    assert v1["message"] == "body.gpus: Extra inputs are not permitted"
    assert api.names() == []


def test_malformed_or_oversized_creation_input_is_a_code_4_payload_too(api: Api) -> None:
    path = f"/public/v2/notebooks/v2/{api.ns}/notebook"
    broken = api.client.post(path, data="{", content_type="application/json", headers=api.headers)
    long_name = {"name": "x" * (MAX_STRING + 1), "image": IMAGE, "instance_type": "free.0gpu"}
    oversized = api.client.post(path, json=long_name, headers=api.headers)
    for resp, message in ((broken, "body: JSON decode error"), (oversized, "body.name: ")):
        assert (resp.status_code, resp.content_type) == (422, "application/json")
        body = resp.get_json()
        validate_response("POST", path.removeprefix("/public/v2/"), 422, body)
        assert body["code"] == 4 and body["message"].startswith(message), body
    assert api.names() == []


# ---- lifecycle -------------------------------------------------------------------------------
def test_pause_without_body_then_resume_on_another_type(api: Api) -> None:
    uid = api.create(itype="v100.2gpu")["uid"]
    api.world.advance(STARTED_S)
    resp = api.client.post(f"/public/v2/notebooks/v2/notebook/{uid}/pause", headers=api.headers)
    assert resp.status_code == 200 and resp.content_type == "application/json"
    paused = resp.get_json()
    validate_response("POST", f"notebooks/v2/notebook/{uid}/pause", 200, paused)
    assert (paused["status"], paused["age"], paused["ageSeconds"]) == ("pausing", "45s", "45")
    api.world.advance(PAUSED_S)
    assert api.status(uid) == "paused"
    resumed = api.call(
        "POST",
        f"notebooks/v1/{api.ns}/notebook/{uid}/resume",
        {"region": "DGX2-MT", "instance_type": "v100.1gpu"},
    )
    assert (resumed["status"], resumed["cpu"], resumed["memory"]) == ("resuming", "3", "92Gi")
    api.world.advance(STARTED_S)
    got = api.get(uid)
    assert (got["status"], got["instanceType"]) == ("running", "v100.1gpu")


def test_resume_of_a_running_server_is_a_conflict(api: Api) -> None:
    uid = api.create()["uid"]
    api.world.advance(STARTED_S)
    out = api.call(
        "POST",
        f"notebooks/v1/{api.ns}/notebook/{uid}/resume",
        {"region": "DGX2-MT", "instance_type": "v100.1gpu"},
        status=409,
    )
    assert out == {
        "code": 3,
        "detail": "Notebook status is 'Running'. Can't resume.",
        "message": "Notebook status is 'Running'. Can't resume.",
    }


def test_servers_wait_while_the_16_gpu_pool_is_full(api: Api) -> None:
    big = api.create("big", itype="v100.16gpu")["uid"]
    small = api.create("small", itype="v100.1gpu")["uid"]
    api.world.advance(STARTED_S)
    assert (api.status(big), api.status(small)) == ("running", "waiting")
    api.world.advance(3600)
    assert api.status(small) == "waiting" and api.cost(small) == 0
    api.call("POST", f"notebooks/v2/notebook/{big}/pause")
    assert api.status(small) == "creating"
    api.world.advance(STARTED_S)
    assert api.status(small) == "running"
    out = api.call(
        "POST",
        f"notebooks/v1/{api.ns}/notebook/{big}/resume",
        {"region": "DGX2-MT", "instance_type": "v100.16gpu"},
    )
    assert (out["status"], out["reason"]) == ("waiting", "Waiting for free capacity in the pool")


def test_delete_frees_the_name_after_a_moment(api: Api) -> None:
    uid = api.create("gone")["uid"]
    out = api.call("DELETE", f"notebooks/v2/notebook/{uid}")
    assert out["status"] == "queued" and out["process_id"]
    assert api.status(uid) == "deleting"
    again = api.call("DELETE", f"notebooks/v2/notebook/{uid}", status=409)
    assert again["code"] == 2 and again["detail"] == "Notebook deletion is already in progress."
    api.world.advance(PAUSED_S)
    assert api.names() == []
    api.call("GET", f"notebooks/v2/notebook/{uid}", status=404)
    assert api.create("gone")["status"] == "creating"


def test_unknown_and_malformed_uuids(api: Api) -> None:
    uid = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    missing = {"detail": f"Notebook uuid='{uid}' does not found"}
    for method, path, body in (
        ("GET", f"notebooks/v1/notebook/{uid}", None),
        ("GET", f"notebooks/v2/notebook/{uid}", None),
        ("DELETE", f"notebooks/v2/notebook/{uid}", None),
        ("POST", f"notebooks/v2/notebook/{uid}/pause", None),
        ("POST", f"notebooks/v2/notebook/{uid}/modify", {"description": "x"}),
        ("POST", f"notebooks/v1/{api.ns}/notebook/{uid}/resume", {"instance_type": "v100.1gpu"}),
    ):
        spec = "resume" not in path  # the spec's resume 404 body is another shape
        assert api.call(method, path, body, status=404, spec=spec) == missing
    out = api.call("GET", "notebooks/v2/notebook/not-a-uuid", status=422)
    assert out["detail"][0]["loc"] == ["path", "notebook_uuid"]


# ---- billing and isolation -------------------------------------------------------------------
def test_billed_while_it_exists_idle_or_not_and_not_while_paused(api: Api) -> None:
    uid = api.create(itype="v100.2gpu")["uid"]
    api.world.advance(600)  # running, idle: billed from creation
    api.call("POST", f"notebooks/v2/notebook/{uid}/pause")
    api.world.advance(7200)  # paused: not billed
    api.call(
        "POST",
        f"notebooks/v1/{api.ns}/notebook/{uid}/resume",
        {"region": "DGX2-MT", "instance_type": "v100.1gpu"},
    )
    api.world.advance(300)
    api.call("DELETE", f"notebooks/v2/notebook/{uid}")
    api.world.advance(3600)  # deleted: not billed
    report = api.world.billing_report(WS_A)
    lines = [(ln["instance_type"], ln["seconds"]) for ln in report["lines"] if ln["item"] == uid]
    assert lines == [("v100.2gpu", 600), ("v100.1gpu", 300)]
    assert api.cost(uid) == (2 * 600 + 300) * V100_GPU_HOUR / 3600 == Decimal("62.5")


def test_a_workspace_never_sees_another_workspaces_servers(app: Any) -> None:
    a, b = Api(app, WS_A, "key-a"), Api(app, WS_B, "key-b")
    uid = a.create("shared-name")["uid"]
    assert b.names() == []
    for method, path in (
        ("GET", f"notebooks/v2/notebook/{uid}"),
        ("POST", f"notebooks/v2/notebook/{uid}/pause"),
        ("DELETE", f"notebooks/v2/notebook/{uid}"),
    ):
        b.call(method, path, status=404)
    assert b.create("shared-name")["uid"] != uid
    a.world.advance(STARTED_S)
    assert a.status(uid) == "running" and a.names() == ["shared-name"]
    assert set(a.world.billing_report()["workspaces"]) == {WS_A, WS_B}


# ---- autoshutdown ----------------------------------------------------------------------------
def test_modify_timer_pauses_the_server_after_shutdown_in(api: Api) -> None:
    uid = api.create(itype="v100.1gpu")["uid"]
    api.world.advance(100)
    out = api.call(
        "POST",
        f"notebooks/v2/notebook/{uid}/modify",
        {
            "autoshutdown_config": {"by_timer": {"shutdown_in": 300, "is_enabled": True}},
            "description": "timed",
        },
    )
    assert out["autoshutdown_config"]["by_timer"] == {"shutdown_in": 300, "is_enabled": True}
    assert out["description"] == "timed"
    api.world.advance(299)
    assert api.status(uid) == "running"
    api.world.advance(1 + PAUSED_S)
    assert api.status(uid) == "paused_by_timer"
    api.world.advance(3600)
    assert api.cost(uid) == Decimal("16.67")  # 400 s x 150/h = 16.666
    api.call(
        "POST",
        f"notebooks/v1/{api.ns}/notebook/{uid}/resume",
        {"region": "DGX2-MT", "instance_type": "v100.1gpu"},
    )
    api.world.advance(300 + PAUSED_S)  # the timer re-arms for every running span
    assert api.status(uid) == "paused_by_timer"


def test_workspace_rule_applies_to_servers_created_afterwards(app: Any) -> None:
    api = Api(app, WS_A, "key-a")
    before = api.create("before")["uid"]
    path = f"notebooks/v2/autoshutdown-rules/workspace/{WS_A}"
    api.call("GET", path, status=404)
    rule = {
        "by_timer": {"shutdown_in": 600, "is_enabled": True},
        "by_load": {
            "metric": "GPU",
            "evaluation_period": 30,
            "threshold": 10.0,
            "shutdown_delay": 15,
            "is_enabled": True,
        },
    }
    assert api.call("POST", path, rule) == {**rule, "by_schedule": None}
    updated = api.call(
        "POST", path, {"by_schedule": {"shutdown_at": "45 * * * *", "is_enabled": True}}
    )
    assert updated["by_timer"] == rule["by_timer"] and updated["by_schedule"]["shutdown_at"]
    assert api.call("GET", path) == updated
    after = api.create("after")
    assert after["autoshutdown_config"] == updated
    api.world.advance(601 + PAUSED_S)
    assert (api.status(before), api.status(after["uid"])) == ("running", "paused_by_timer")

    other = Api(app, WS_B, "key-b")
    denied = other.call("GET", path, status=403)
    assert denied == {
        "details": "You should have administrative privileges to work with "
        "workspace-level autoshutdown rules"
    }
    assert other.create("fresh")["autoshutdown_config"]["by_timer"] is None

    resp = api.client.delete(
        f"/public/v2/notebooks/v1/autoshutdown-rules/workspace/{WS_A}", headers=api.headers
    )
    assert (resp.status_code, resp.data) == (204, b"")
    assert api.call("GET", path, status=404) == {
        "detail": f"Autoshutdown rule not found for workspace ID={WS_A}"
    }
    assert api.create("later")["autoshutdown_config"]["by_timer"] is None


def test_a_server_that_waited_counts_its_timer_from_when_it_started(api: Api) -> None:
    timer = {"by_timer": {"shutdown_in": 600, "is_enabled": True}}
    api.call("POST", f"notebooks/v2/autoshutdown-rules/workspace/{WS_A}", timer)
    big = api.create("big", itype="v100.16gpu")["uid"]
    small = api.create("small", itype="v100.1gpu")["uid"]
    api.world.advance(300)
    assert api.status(small) == "waiting"
    api.call("POST", f"notebooks/v2/notebook/{big}/pause")  # the small one starts now
    api.world.advance(599)
    assert api.status(small) == "running"
    api.world.advance(1 + PAUSED_S)
    assert (api.status(big), api.status(small)) == ("paused", "paused_by_timer")
    assert api.cost(small) == 600 * V100_GPU_HOUR / 3600


def test_a_tensorboard_is_not_a_notebook(api: Api) -> None:
    tb = api.call(
        "POST",
        f"tensorboards/v2/{api.ns}/tensorboard",
        {"name": "tb", "image": IMAGE, "instance_type": "free.0gpu", "logdir": ["/l"]},
    )
    api.call("GET", f"notebooks/v2/notebook/{tb['uid']}", status=404)
    assert api.names() == []
