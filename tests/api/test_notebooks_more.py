"""The other Jupyter Server and TensorBoard versions (v1 list, delete, pause, modify and
autoshutdown rule; v3 list; TensorBoards v1) as views over the same servers, and the users of a
server: sharing gives access, revoking takes it away, and every request honours it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mock_server import persistence
from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from tests.api.test_notebooks import IMAGE, PAUSED_S, STARTED_S, WS_A, Api

ALICE, BOB = "alice@example.com", "bob@example.com"


class User(Api):
    """A caller whose token was issued to ``client_id``, in workspace A."""

    def __init__(self, app: Any, client_id: str) -> None:
        super().__init__(app, WS_A, "key-a")
        self.client_id = client_id

    @property
    def headers(self) -> dict[str, str]:
        auth = self.client.post(
            "/public/v2/service_auth", json={"client_id": self.client_id, "client_secret": "s"}
        )
        token = auth.get_json()["token"]["access_token"]
        return {"authorization": token, "x-workspace-id": self.ws, "x-api-key": self.api_key}

    def users_path(self, name: str, region: str = "DGX2-MT") -> str:
        return f"notebooks/v2/{self.ns}/{name}/users?region={region}"


@pytest.fixture(scope="module")
def shared_app() -> Any:
    return create_app(start_epoch=DEFAULT_START_EPOCH)


@pytest.fixture
def app(shared_app: Any) -> Any:
    shared_app.extensions["mlspace_sim"].reset(0)
    return shared_app


@pytest.fixture
def alice(app: Any) -> User:
    return User(app, ALICE)


@pytest.fixture
def bob(app: Any) -> User:
    return User(app, BOB)


# ---- older and newer versions of the same servers ----------------------------------------------
def test_v1_and_v3_lists_show_the_v2_servers(alice: User) -> None:
    made = alice.create("nb", itype="free.0gpu")
    v1 = alice.call("GET", f"notebooks/v1/{alice.ns}/notebook")
    assert [(n["uid"], n["namespace"]) for n in v1["notebooks"]] == [(made["uid"], alice.ns)]
    assert alice.call("GET", "notebooks/v1/ai0000000-00000/notebook") == {"notebooks": []}
    v3 = alice.call("GET", "notebooks/v3/notebooks?search=n")
    assert [n["uid"] for n in v3["notebooks"]] == [made["uid"]]


def test_v1_pause_and_modify_act_on_the_server(alice: User) -> None:
    uid = alice.create("nb", itype="free.0gpu")["uid"]
    alice.world.advance(STARTED_S)
    paused = alice.call("POST", f"notebooks/v1/{alice.ns}/notebook/{uid}/pause", {})
    assert paused["status"] == "pausing"
    alice.world.advance(PAUSED_S)
    assert alice.status(uid) == "paused"
    path = f"notebooks/v1/notebook/{uid}/modify"
    changed = alice.call("POST", path, {"pause_at": "0 20 * * *", "postponed_pause_enabled": True})
    assert (changed["pause_at"], changed["postponed_pause_enabled"]) == ("0 20 * * *", True)
    alice.call("POST", path, {"description": "v2 only"}, status=422)
    assert alice.get(uid)["description"] is None


def test_v1_delete_names_the_server_and_its_region(alice: User) -> None:
    uid = alice.create("nb", itype="free.0gpu")["uid"]
    path = f"notebooks/v1/{alice.ns}/notebook/nb"
    gone = alice.call("DELETE", path, {"region": "A100-MT"}, status=404)
    assert gone == {"detail": "Notebook name=nb' does not found in region=A100-MT"}
    alice.call("DELETE", path, {"region": "MARS"}, status=422)
    assert alice.status(uid) == "creating"
    alice.world.advance(STARTED_S)
    done = alice.call("DELETE", path)
    assert done["success"] is True and done["data"]["status"] == "queued"
    alice.world.advance(PAUSED_S)
    assert alice.names() == []


def test_v1_rule_is_the_load_part_of_the_v2_rule(alice: User) -> None:
    v1 = f"notebooks/v1/autoshutdown-rules/workspace/{WS_A}"
    v2 = f"notebooks/v2/autoshutdown-rules/workspace/{WS_A}"
    alice.call("GET", v1, status=404)
    timer = {"by_timer": {"shutdown_in": 3600, "is_enabled": True}}
    alice.call("POST", v2, timer)
    load = {
        "metric": "GPU",
        "metric_aggregation": "avg",
        "evaluation_period": 600,
        "threshold": 5,
        "shutdown_delay": 60,
        "is_enabled": True,
    }
    assert alice.call("POST", v1, load) == load
    assert alice.call("GET", v1) == load
    both = alice.call("GET", v2)
    assert both["by_timer"] == timer["by_timer"] and both["by_load"] == load
    alice.call("POST", v1, {**load, "metric": "RAM"}, status=422)
    assert alice.call("GET", v1) == load


# ---- users of a server --------------------------------------------------------------------------
def test_a_multiuser_server_is_hidden_from_others_until_shared(alice: User, bob: User) -> None:
    uid = alice.create("private", itype="free.0gpu", access_mode="multiuser")["uid"]
    bob.call("GET", f"notebooks/v2/notebook/{uid}", status=404)
    [listed] = bob.call("GET", "notebooks/v2/notebooks")["notebooks"]
    assert (listed["uid"], listed["access_granted"]) == (uid, False)
    bob.call("GET", bob.users_path("private"), status=404)

    shared = alice.call("PUT", alice.users_path("private"), {"user_ids": [BOB]})
    assert [(u["id"], u["email"]) for u in shared] == [(BOB, BOB)]
    assert bob.get(uid)["access_granted"] is True
    assert [u["id"] for u in bob.call("GET", bob.users_path("private"))] == [BOB]

    assert alice.call("DELETE", alice.users_path("private"), {"user_ids": [BOB]}) == []
    bob.call("GET", f"notebooks/v2/notebook/{uid}", status=404)
    bob.call("POST", f"notebooks/v2/notebook/{uid}/pause", status=404)
    assert alice.get(uid)["access_granted"] is True


def test_a_shared_server_is_everyones_in_the_workspace(alice: User, bob: User) -> None:
    uid = alice.create("open", itype="free.0gpu")["uid"]
    assert bob.get(uid)["access_granted"] is True
    assert bob.call("GET", bob.users_path("open")) == []


def test_users_need_a_region_and_a_non_empty_list(alice: User) -> None:
    alice.create("nb", itype="free.0gpu", access_mode="multiuser", user_ids=[BOB])
    path = alice.users_path("nb")
    for body in ({"user_ids": []}, {}, {"user_ids": "bob"}):
        out = alice.call("PUT", path, body, status=422)
        assert out["code"] == 4 and "user_ids" in out["message"]
    out = alice.call("PUT", f"notebooks/v2/{alice.ns}/nb/users", {"user_ids": ["x"]}, status=422)
    assert out["message"] == "query.region: Field required"
    alice.call("GET", f"notebooks/v2/{alice.ns}/nb/users", status=422)
    mars = alice.call("GET", alice.users_path("nb", "MARS"), status=422)
    assert (mars["detail"][0]["loc"], mars["detail"][0]["type"]) == (["query", "region"], "enum")
    alice.call("GET", alice.users_path("nb", "A100-MT"), status=404)
    assert [u["id"] for u in alice.call("GET", path)] == [BOB]


# ---- TensorBoards v1 ----------------------------------------------------------------------------
TB_IMAGE = {**IMAGE, "name": "cr.ai.cloud.ru/aicloud-tensorboard/tensorboard-server"}


def test_tensorboards_v1_create_one_logdir_and_list_with_v2(alice: User) -> None:
    body = {
        "name": "tb",
        "image": TB_IMAGE,
        "instance_type": "free.0gpu",
        "logdir": "/home/jovyan/logs",
        "tensorboard_params": "--samples_per_plugin=images=100 --reload_multifile",
    }
    made = alice.call("POST", f"tensorboards/v1/{alice.ns}/tensorboards", body)
    got = alice.call("GET", f"tensorboards/v2/tensorboard/{made['uid']}")
    assert got["logdir"] == ["/home/jovyan/logs"]
    assert got["tensorboard_params"] == {
        "--samples_per_plugin": "images=100",
        "--reload_multifile": "",
    }
    listed = alice.call("GET", "tensorboards/v1/tensorboards")["tensorboards"]
    assert [t["uid"] for t in listed] == [made["uid"]]
    out = alice.call(
        "POST", f"tensorboards/v1/{alice.ns}/tensorboards", {**body, "logdir": ["a"]}, status=422
    )
    assert out["code"] == 4 and out["message"].startswith("body.logdir: ")
    assert len(alice.call("GET", "tensorboards/v1/tensorboards")["tensorboards"]) == 1


def test_users_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = create_app(state_file=path, start_epoch=DEFAULT_START_EPOCH)
    alice = User(app, ALICE)
    alice.create("nb", itype="free.0gpu", access_mode="multiuser", user_ids=[BOB, "carol"])
    alice.call("DELETE", alice.users_path("nb"), {"user_ids": ["carol"]})
    before = alice.call("GET", alice.users_path("nb"))
    persistence.of(app).close()
    again = create_app(state_file=path)
    persistence.resume(again)
    assert User(again, BOB).call("GET", alice.users_path("nb")) == before
