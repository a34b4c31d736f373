"""Workspaces over HTTP (manual clock): bootstrap (v2, v3) makes a workspace with its own api
key, allocations and default queues; details, users and status; debootstrap disables it now and
deletes it after its grace period; strict mode shows a caller only its own workspaces; every
answer validates against the official spec and bad input changes nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from tests.support.openapi import validate_response

WS_A = "11111111-1111-4111-8111-111111111111"
PROJECT = "44444444-4444-4444-8444-444444444444"
USER = "55555555-5555-4555-8555-555555555555"
MISSING = "99999999-9999-4999-8999-999999999999"
TEAM_WS = "33333333-3333-4333-8333-333333333333"
STRICT = {
    "auth": {
        "mode": "strict",
        "keys": [
            {"client_id": "a", "client_secret": "sa"},
            {"client_id": "b", "client_secret": "sb"},
        ],
        "workspaces": [{"id": TEAM_WS, "api_key": "key-a", "name": "team-a"}],
    }
}


class Caller:
    """A token holder, optionally opening one workspace with its headers."""

    def __init__(self, app: Any, client_id: str = "k", secret: str = "s") -> None:
        self.app = app
        self.client = app.test_client()
        auth = self.client.post(
            "/public/v2/service_auth", json={"client_id": client_id, "client_secret": secret}
        )
        self.token = auth.get_json()["token"]["access_token"]
        self.ws: tuple[str, str] | None = None

    def call(
        self, method: str, path: str, *, status: int = 200, spec: bool = True, **kwargs: Any
    ) -> Any:
        """``spec``: the answer's status is one the spec documents for the operation."""
        headers = {"authorization": self.token}
        if self.ws is not None:
            headers.update({"x-workspace-id": self.ws[0], "x-api-key": self.ws[1]})
        resp = self.client.open(f"/public/v2/{path}", method=method, headers=headers, **kwargs)
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert resp.content_type == "application/json"
        body = resp.get_json()
        if spec and status in (200, 422):
            validate_response(method, path, status, body)
        return body

    def create(self, name: str = "research", version: str = "v3", **extra: Any) -> Any:
        body = {"project_id": PROJECT, "name": name, "category": "public", **extra}
        return self.call("POST", f"workspaces/{version}/", json=body)

    def listed(self) -> list[str]:
        return [ws["id"] for ws in self.call("GET", "workspaces/v3/")["workspaces"]]


def strict_app() -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(yaml.safe_dump(STRICT))
        return create_app(config_path=path, start_epoch=DEFAULT_START_EPOCH)


def test_a_created_workspace_has_its_key_allocations_and_queues(app: Any) -> None:
    me = Caller(app)
    made = me.create(description="vision team", user_ids=[USER])
    assert made["status"] == "active" and made["name"] == "research"
    assert made["project_id"] == PROJECT and made["run_id"] and made["workflow_id"]
    ws = made["id"]
    key = me.call("GET", f"workspaces/v1/x_api_key?workspace_id={ws}")["x-api-key"]
    assert me.call("GET", f"workspaces/v1/{ws}/status") == {"status": "active"}
    detail = me.call("GET", f"workspaces/v3/{ws}")
    assert detail["namespace"] == made["namespace"] and detail["allocations"]
    assert ws in me.listed()
    me.ws = (ws, key)
    allocations = me.call("GET", f"workspaces/v3/{ws}/allocations")
    assert {a["id"] for a in allocations} == {a["id"] for a in detail["allocations"]}
    queues = me.call("GET", f"workspaces/v3/{ws}/allocations/{allocations[0]['id']}/queues")
    assert [q["type"] for q in queues] == ["default"]
    users = me.call("GET", f"workspaces/v3/{ws}/users")
    assert [u["id"] for u in users][1:] == [USER]


def test_v2_bootstrap_and_the_same_commands_give_the_same_workspace(app: Any) -> None:
    made = Caller(app).create(version="v2")
    assert "run_id" not in made
    again = Caller(create_app(seed=0, start_epoch=DEFAULT_START_EPOCH)).create(version="v2")
    assert again == made
    other_seed = Caller(create_app(seed=1, start_epoch=DEFAULT_START_EPOCH)).create(version="v2")
    assert other_seed["id"] != made["id"]


def test_debootstrap_disables_now_and_deletes_after_the_grace_period(app: Any) -> None:
    me = Caller(app)
    ws = me.create()["id"]
    ended = me.call("DELETE", "workspaces/v3/", json={"workspace_id": ws, "delay_hours": 96})
    assert ended["status"] == "disabled" and ended["id"] == ws
    assert ws not in me.listed()
    me.call("GET", f"workspaces/v3/{ws}", status=404)
    me.call("DELETE", "workspaces/v3/", json={"workspace_id": ws}, status=404)
    app.extensions["mlspace_sim"].world.advance(96 * 3600 - 1)
    assert me.call("GET", f"workspaces/v1/{ws}/status") == {"status": "disabled"}
    app.extensions["mlspace_sim"].world.advance(1)
    assert me.call("GET", f"workspaces/v1/{ws}/status") == {"status": "deleted"}
    assert me.create()["id"] != ws  # the name is free again, for a new workspace


def test_bad_input_is_refused_and_changes_nothing(app: Any) -> None:
    me = Caller(app)
    me.create()
    before = me.listed()
    body = {"project_id": PROJECT, "name": "x", "category": "public"}
    for bad in (
        {**body, "category": "private"},
        {**body, "project_id": "p"},
        {"name": "x", "category": "public"},
        {**body, "user_ids": ["u"]},
        {**body, "name": " "},
        {**body, "name": "research"},  # taken in the project
    ):
        me.call("POST", "workspaces/v3/", json=bad, status=422)
    me.call(
        "DELETE", "workspaces/v3/", json={"workspace_id": before[0], "delay_hours": 95}, status=422
    )
    me.call("DELETE", "workspaces/v3/", json={"workspace_id": "w"}, status=422)
    me.call("DELETE", "workspaces/v3/", json={"workspace_id": MISSING}, status=404)
    me.call("GET", "workspaces/v3/nope", status=422)
    me.call("GET", "workspaces/v1/nope/status", status=422)
    me.call("GET", "workspaces/v1/x_api_key", status=422, spec=False)  # only 200 documented
    assert me.listed() == before
    assert all(me.call("GET", f"workspaces/v1/{ws}/status")["status"] == "active" for ws in before)


def test_the_plugin_looks_its_key_up_by_header_and_the_workspace_comes_into_being(
    app: Any,
) -> None:
    me = Caller(app)
    me.ws = (WS_A, "")
    key = me.call("GET", "workspaces/v1/x_api_key")["x-api-key"]
    me.ws = (WS_A, key)
    assert me.call("GET", "jobs")["jobs"] == []
    assert me.call("GET", "workspaces/v1/x_api_key")["x-api-key"] == key


def test_strict_mode_shows_a_caller_only_its_own_workspaces() -> None:
    app = strict_app()
    a, b = Caller(app, "a", "sa"), Caller(app, "b", "sb")
    assert a.listed() == [] and b.listed() == []  # a key pair alone opens nothing
    a.ws = (TEAM_WS, "key-a")
    assert a.listed() == [TEAM_WS]
    made = b.create()["id"]
    assert b.listed() == [made]
    assert made not in a.listed()
    for path in (f"workspaces/v3/{made}", f"workspaces/v1/{made}/status"):
        a.call("GET", path, status=404)
    a.call("GET", f"workspaces/v1/x_api_key?workspace_id={made}", status=404)
    a.call("DELETE", "workspaces/v3/", json={"workspace_id": made}, status=404)
    b.call("GET", f"workspaces/v1/x_api_key?workspace_id={TEAM_WS}", status=404)
    key = b.call("GET", f"workspaces/v1/x_api_key?workspace_id={made}")["x-api-key"]
    b.ws = (made, key)
    assert b.call("GET", "jobs")["jobs"] == []  # the new workspace's credentials work


def test_bootstraps_and_debootstraps_are_replayed_from_the_journal(app: Any) -> None:
    me = Caller(app)
    kept = me.create("kept")["id"]
    ended = me.create("ended")["id"]
    me.call("DELETE", "workspaces/v3/", json={"workspace_id": ended})
    admin = app.test_client()
    snapshot = admin.get("/_mock/state?secrets=true").get_json()
    assert admin.post("/_mock/state", json=snapshot).status_code == 200
    assert me.call("GET", f"workspaces/v1/{ended}/status") == {"status": "disabled"}
    assert kept in me.listed() and ended not in me.listed()
    users = me.call("GET", f"workspaces/v3/{kept}/users")
    assert len(users) == 1
