"""The deprecated copy routes client_lib calls (``v1/transfers/nfs_to_s3``, ``…/s3_to_nfs``,
``v2/transfer/aicloud-logs/{id}``) over HTTP with a manual virtual clock: the rule they create is
shaped as the spec says and runs like any other, its per-file log grows with virtual time, bad
bodies are 422s, and nothing crosses workspaces."""

from __future__ import annotations

import re
from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from tests.api.test_data_transfer import MAX_RUN_S, START, WS_A, WS_B, Api, reset

CHECKPOINTS = "aicloud-examples/quick-start/job_launch_tf2/checkpoints_tf/mnist_convnet_model"
NO_KEYS = {"endpoint": "", "bucket": "", "access_key_id": "", "security_key": ""}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def copy_body(source: str = CHECKPOINTS, **overrides: Any) -> dict[str, Any]:
    """What client_lib.copy_from_nfs sends."""
    return {
        "source_path": source,
        "destination_path": "quck-start",
        "strategy": "write_all",
        "from_region": "SR002-MT",
        "s3_credentials": NO_KEYS,
        **overrides,
    }


def logs(api: Api, transfer_id: str, *, status: int = 200) -> Any:
    """``aicloud-logs`` is not in the official spec, so only its status and type are checked."""
    resp = api.client.get(
        f"/public/v2/data_transfer/v2/transfer/aicloud-logs/{transfer_id}", headers=api.headers
    )
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.content_type == "application/json"
    return resp.get_json()


@pytest.fixture(scope="module")
def shared_app() -> Any:
    return create_app(seed=0, start_epoch=DEFAULT_START_EPOCH)


@pytest.fixture
def api(shared_app: Any) -> Api:
    return Api(reset(shared_app), WS_A, "key-a")


def test_nfs_to_s3_answers_the_created_rule_as_the_spec_shapes_it(api: Api) -> None:
    body = copy_body()
    del body["strategy"]  # write_all by default
    created = api.call("POST", "v1/transfers/nfs_to_s3", body)  # validated against the spec
    tid = created["transfer_id"]
    s3 = api.system("s3mlspace")["connector_id"]
    assert created == {
        "transfer_id": tid,
        "user_id": created["user_id"],
        "cluster_name": "pd11",
        "connector_id": WS_A,
        "destination_connector_id": s3,
        "workspace_id": WS_A,
        "name": created["name"],
        "description": "Copy data from NFS. Called from jupyter client_lib",
        "source_category": "nfs",
        "destination_source_category": "s3mlspace",
        "strategy": "write_all",
        "system": False,
        "query": {"destination": "quck-start", "source": [CHECKPOINTS]},
        "created": "2025-02-26T10:00:00",  # START, naive, as the 2024 output prints it
        "modified": "2025-02-26T10:00:00",
        "execution_date": None,
    }
    name = re.fullmatch(f"from_nfs-({UUID})-{WS_A}", created["name"])
    assert name and name.group(1) != tid
    assert created["user_id"] not in (WS_A, tid)


def test_the_copy_runs_like_any_other_rule(api: Api) -> None:
    tid = api.call("POST", "v1/transfers/nfs_to_s3", copy_body())["transfer_id"]
    rule = api.call("GET", f"v4/transfer/{tid}")
    assert (rule["source_category"], rule["crontab"]["period"], rule["execution_date"]) == (
        "nfs",
        None,
        START,
    )
    assert [t["transfer_id"] for t in api.call("GET", "v4/transfer")] == [tid]
    [row] = api.history(f"?transfer_id={tid}")
    assert (row["source_name"], row["source_connector_name"], row["status"]) == (
        "mnist_convnet_model",
        "nfs",
        "in_progress",
    )
    api.world.advance(MAX_RUN_S)
    [row] = api.history(f"?transfer_id={tid}")
    assert (row["status"], row["progress"], row["destination"]) == ("success", 100, "quck-start")
    events = api.events(f"transfer_id={tid}")
    assert [(e["last_log"], e["event_count"]) for e in events] == [
        ("Start transfer, objects found: 3", 3),
        ("File transfer success", 3),
    ]
    api.world.advance(86_400)
    assert len(api.history(f"?transfer_id={tid}")) == 1  # one-shot: never runs again


@pytest.mark.parametrize(
    ("region", "cluster"),
    [
        ("SR002-MT", "pd11"),
        ("V100", "christofari-1"),
        ("A100", "christofari-2"),
        ("SR006", "sr006"),
    ],
)
def test_nfs_regions_name_their_transfer_cluster(api: Api, region: str, cluster: str) -> None:
    created = api.call("POST", "v1/transfers/nfs_to_s3", copy_body(from_region=region))
    assert created["cluster_name"] == cluster


def test_s3_to_nfs_copies_the_other_way(api: Api) -> None:
    body = copy_body("datasets/mnist/", to_region="CCE")
    del body["from_region"]
    created = api.call("POST", "v1/transfers/s3_to_nfs", body)
    assert (created["connector_id"], created["destination_connector_id"]) == (
        api.system("s3mlspace")["connector_id"],
        WS_A,
    )
    assert (created["source_category"], created["destination_source_category"]) == (
        "s3mlspace",
        "nfs",
    )
    assert created["name"].startswith("to_nfs-")
    assert api.history(f"?transfer_id={created['transfer_id']}")[0]["source_name"] == "mnist"


def test_aicloud_logs_grow_with_virtual_time_file_by_file(api: Api) -> None:
    tid = api.call("POST", "v1/transfers/nfs_to_s3", copy_body())["transfer_id"]
    added = [
        {"error": False, "message": "Add source", "path": CHECKPOINTS},
        *(
            {"error": False, "message": "Add object", "path": f"{CHECKPOINTS}/{name}"}
            for name in (
                "checkpoint.ckpt.data-00000-of-00001",
                "checkpoint.ckpt.index",
                "checkpoint",
            )
        ),
        {"error": False, "message": "Start transfer", "path": CHECKPOINTS},
    ]
    assert logs(api, tid) == added
    seen = []
    for _ in range(200):  # 0.25 s steps; a few MB of checkpoints take under 10 s
        api.world.advance(0.25)
        seen.append(len(logs(api, tid)))
        if seen[-1] == 8:
            break
    assert seen == sorted(seen) and {6, 7, 8} <= set(seen)  # one file after another
    assert logs(api, tid)[5:] == [
        {"error": False, "message": "File transfer success", "path": name}
        for name in ("checkpoint", "checkpoint.ckpt.index", "checkpoint.ckpt.data-00000-of-00001")
    ]
    assert api.history(f"?transfer_id={tid}")[0]["status"] == "success"


def test_a_plain_folder_lists_and_copies_every_file(api: Api) -> None:
    tid = api.call("POST", "v1/transfers/nfs_to_s3", copy_body("data/raw"))["transfer_id"]
    api.world.advance(MAX_RUN_S)
    lines = logs(api, tid)
    objects = [ln["path"] for ln in lines if ln["message"] == "Add object"]
    copied = [ln["path"] for ln in lines if ln["message"] == "File transfer success"]
    assert objects and all(p.startswith("data/raw/part-") for p in objects)
    assert sorted(copied) == sorted(p.rsplit("/", 1)[1] for p in objects)
    assert len(lines) == 2 * len(objects) + 2 and not any(ln["error"] for ln in lines)


def test_a_cancelled_copy_says_so_in_its_log(api: Api) -> None:
    tid = api.call("POST", "v1/transfers/nfs_to_s3", copy_body("data/raw"))["transfer_id"]
    api.world.advance(1)
    cancel = {"transfer_id": tid, "execution_date": START}
    assert api.call("POST", "v2/history/cancel", cancel) == {"status": "cancelled"}
    api.world.advance(MAX_RUN_S)
    last = logs(api, tid)[-1]
    assert last == {"error": True, "message": "Transfer cancelled by user", "path": "data/raw"}


BAD_BODIES = [
    ({}, ["source_path", "destination_path", "from_region", "s3_credentials"]),
    (copy_body(from_region="SR999"), ["from_region"]),
    (copy_body(from_region=None), ["from_region"]),
    (copy_body(source_path=["a", "b"]), ["source_path"]),
    (copy_body(strategy="copy_everything"), ["strategy"]),
    (copy_body(s3_credentials="keys"), ["s3_credentials"]),
    (copy_body(s3_credentials={"bucket": 7}), ["s3_credentials"] * 4),
]


@pytest.mark.parametrize(("body", "where"), BAD_BODIES)
def test_bad_bodies_are_fastapi_422s(api: Api, body: dict[str, Any], where: list[str]) -> None:
    detail = api.call("POST", "v1/transfers/nfs_to_s3", body, status=422)["detail"]
    assert [d["loc"][1] for d in detail] == where
    assert all(d["loc"][0] == "body" and d["msg"] for d in detail)


@pytest.mark.parametrize("raw", ["", "not json", "[1, 2]", "null"])
def test_bodies_that_are_not_objects_are_422s(api: Api, raw: str) -> None:
    resp = api.client.post(
        "/public/v2/data_transfer/v1/transfers/s3_to_nfs",
        data=raw,
        headers={**api.headers, "content-type": "application/json"},
    )
    assert resp.status_code == 422 and resp.get_json()["detail"][0]["loc"] == ["body"]


def test_logs_of_unknown_or_other_workspaces_transfers_are_404s(shared_app: Any) -> None:
    a, b = Api(reset(shared_app), WS_A, "key-a"), Api(shared_app, WS_B, "key-b")
    tid = a.call("POST", "v1/transfers/nfs_to_s3", copy_body())["transfer_id"]
    assert logs(b, tid, status=404) == {"detail": "Transfer not found"}
    assert logs(a, WS_B, status=404) == {"detail": "Transfer not found"}
    assert logs(a, "not-a-uuid", status=422)["detail"][0]["loc"] == ["path", "transfer_id"]
    assert b.call("GET", "v4/transfer") == [] and b.history() == []
    other = b.call("POST", "v1/transfers/nfs_to_s3", copy_body())
    assert other["connector_id"] == WS_B and other["transfer_id"] != tid
    assert [t["transfer_id"] for t in a.call("GET", "v4/transfer")] == [tid]
    assert len(logs(a, tid)) == 5
