"""TensorBoards over HTTP: the Jupyter Server lifecycle with TensorBoard's own paths, nouns and
``logdir``; shapes checked against the official spec."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.api.test_notebooks import PAUSED_S, STARTED_S, WS_A, WS_B, Api, make_app

TB_IMAGE = {
    "name": "cr.ai.cloud.ru/aicloud-tensorboard/tensorboard-server",
    "tag": "latest",
    "type": "datahub",
}
LOGDIR = ["/home/jovyan/logs", "/home/jovyan/test"]


class TbApi(Api):
    def create(self, name: str = "tb", itype: str = "free.0gpu", **extra: Any) -> dict[str, Any]:
        body = {"name": name, "image": TB_IMAGE, "instance_type": itype, "region": "DGX2-MT"}
        return self.call("POST", f"tensorboards/v2/{self.ns}/tensorboard", {**body, **extra})

    def get(self, uid: str) -> dict[str, Any]:
        return self.call("GET", f"tensorboards/v2/tensorboard/{uid}")

    def names(self, query: str = "") -> list[str]:
        body = self.call("GET", f"tensorboards/v2/tensorboards{query}")
        return [i["name"] for i in body["tensorboards"]]

    def resume(self, uid: str, itype: str = "free.0gpu", status: int = 200) -> dict[str, Any]:
        path = f"tensorboards/v2/{self.ns}/tensorboard/{uid}/resume"
        return self.call("POST", path, {"region": "DGX2-MT", "instance_type": itype}, status=status)


@pytest.fixture
def app() -> Any:
    return make_app()


@pytest.fixture
def tb(app: Any) -> TbApi:
    return TbApi(app, WS_A, "key-a")


def test_create_serves_the_log_dirs_and_lists(tb: TbApi) -> None:
    made = tb.create(logdir=LOGDIR, tensorboard_params={"--port": "6006"}, description="runs")
    assert (made["status"], made["logdir"], made["tensorboard_params"]) == (
        "creating",
        LOGDIR,
        {"--port": "6006"},
    )
    assert made["image"] == "cr.ai.cloud.ru/aicloud-tensorboard/tensorboard-server:latest"
    tb.world.advance(STARTED_S)
    got = tb.get(made["uid"])
    assert (got["uid"], got["status"], got["description"]) == (made["uid"], "running", "runs")
    body = tb.call("GET", "tensorboards/v2/tensorboards?desc=False&limit=15&offset=0")
    assert (body["total"], body["limit"], body["offset"]) == (1, 15, 0)
    assert [i["uid"] for i in body["tensorboards"]] == [made["uid"]]
    assert tb.call("GET", "notebooks/v2/notebooks")["notebooks"] == []


def test_logdir_is_required_and_params_must_be_strings(tb: TbApi) -> None:
    path = f"tensorboards/v2/{tb.ns}/tensorboard"
    body = {"name": "tb", "image": TB_IMAGE, "instance_type": "free.0gpu"}
    out = tb.call("POST", path, body, status=422)  # the spec's code-4 creation payload
    assert out == {
        "code": 4,
        "detail": "Unprocessable Entity",
        "message": "body.logdir: Field required",
    }
    bad = {**body, "logdir": LOGDIR, "tensorboard_params": {"--port": 6006}}
    out = tb.call("POST", path, bad, status=422)
    assert out["message"].startswith("body.tensorboard_params.--port: Input should be")
    assert tb.names() == []


def test_name_conflict_and_unknown_uuid_speak_of_tensorboards(tb: TbApi) -> None:
    uid = tb.create("board", logdir=LOGDIR)["uid"]
    out = tb.call(
        "POST",
        f"tensorboards/v2/{tb.ns}/tensorboard",
        {"name": "board", "image": TB_IMAGE, "instance_type": "free.0gpu", "logdir": LOGDIR},
        status=409,
    )
    text = "Tensorboard with name 'board' already exists in current workspace."
    assert out == {"code": 1, "detail": text, "message": text}
    missing = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    for method, path in (
        ("GET", f"tensorboards/v2/tensorboard/{missing}"),
        ("POST", f"tensorboards/v2/tensorboard/{missing}/pause"),
        ("DELETE", f"tensorboards/v2/tensorboard/{missing}"),
    ):
        out = tb.call(method, path, status=404)
        assert out == {"detail": f"Tensorboard uuid='{missing}' does not found"}
    tb.call("GET", f"notebooks/v2/notebook/{uid}", status=404)


def test_pause_resume_modify_delete(tb: TbApi) -> None:
    uid = tb.create(itype="v100.1gpu", logdir=LOGDIR)["uid"]
    tb.world.advance(STARTED_S)
    out = tb.resume(uid, status=409)
    text = "Tensorboard status is 'Running'. Can't resume."
    assert out == {"code": 3, "detail": text, "message": text}
    resp = tb.client.post(f"/public/v2/tensorboards/v2/tensorboard/{uid}/pause", headers=tb.headers)
    assert (resp.status_code, resp.content_type) == (200, "application/json")
    assert resp.get_json()["status"] == "pausing"
    tb.world.advance(PAUSED_S)
    assert tb.get(uid)["status"] == "paused"
    resumed = tb.resume(uid)
    assert (resumed["status"], resumed["namespace"], resumed["cpu"]) == ("resuming", tb.ns, "0.5")
    modified = tb.call(
        "POST",
        f"tensorboards/v2/tensorboard/{uid}/modify",
        {"autoshutdown_config": {"by_timer": {"shutdown_in": 120, "is_enabled": True}}},
    )
    assert modified["autoshutdown_config"]["by_timer"]["shutdown_in"] == 120
    tb.world.advance(120 + PAUSED_S)
    assert tb.get(uid)["status"] == "paused_by_timer"
    assert tb.call("DELETE", f"tensorboards/v2/tensorboard/{uid}")["status"] == "queued"
    tb.world.advance(PAUSED_S)
    assert tb.names() == []
    # billed on the GPU type until the pause; the free type afterwards costs nothing
    assert STARTED_S == 45  # so 45 s x 150/h = 1.875, half up:
    assert tb.cost(uid) == Decimal("1.88")


def test_isolated_between_workspaces(app: Any) -> None:
    a, b = TbApi(app, WS_A, "key-a"), TbApi(app, WS_B, "key-b")
    uid = a.create("same", logdir=LOGDIR)["uid"]
    assert b.names() == []
    b.call("GET", f"tensorboards/v2/tensorboard/{uid}", status=404)
    b.call("POST", f"tensorboards/v2/tensorboard/{uid}/pause", status=404)
    assert b.create("same", logdir=LOGDIR)["uid"] != uid
    assert a.names() == ["same"] and a.get(uid)["status"] == "creating"
