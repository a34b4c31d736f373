"""Authentication: ``service_auth``, the platform's 401s and their order, token expiry (wall
clock by default, virtual time on request), strict mode from a config file, and workspace
isolation."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_server.testing import Credentials, MockServer, running_server
from tests.contract.conftest import make_cli
from tests.support.openapi import validate_response

UNAUTHORIZED = "Попытка выполнить запрос неавторизованным пользователем"
OTHER = Credentials(workspace_id="22222222-2222-4222-8222-222222222222", api_key="other-key")
JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "cr.ai.cloud.ru/img:1",
    "instance_type": "a100plus.1gpu.80vG.12C.96G",
    "region": "SR006",
    "env_variables": {"MLSPACE_SIM_RUNTIME_S": "600"},
}


def auth(srv: MockServer, body: Any) -> requests.Response:
    return requests.post(f"{srv.api_url}/service_auth", json=body, timeout=10)


def get(srv: MockServer, path: str, headers: dict[str, str], **kw: Any) -> requests.Response:
    return requests.get(f"{srv.api_url}/{path}", headers=headers, timeout=10, **kw)


def error(r: requests.Response) -> tuple[int, int, str]:
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    validate_response(r.request.method or "GET", r.request.path_url.split("/public/v2/")[1],
                      r.status_code, body)  # fmt: skip
    return r.status_code, body["error_code"], body["error_message"]


def test_service_auth_issues_a_jwt_shaped_token(srv: MockServer) -> None:
    r = auth(srv, {"client_id": "key-id", "client_secret": "secret"})
    assert (r.status_code, r.headers["Content-Type"]) == (200, "application/json")
    body = r.json()
    validate_response("POST", "service_auth", 200, body)
    token = body.pop("token")
    assert body == {"status": "ok", "error_code": 0, "error_message": ""}
    assert (token["token_type"], token["expires_in"]) == ("Bearer", 3600)
    header, claims, signature = token["access_token"].split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["alg"] == "RS256"
    assert json.loads(base64.urlsafe_b64decode(claims + "=="))["sub"] == "key-id"
    assert signature
    second = auth(srv, {"client_id": "key-id", "client_secret": "secret"}).json()
    assert second["token"]["access_token"] != token["access_token"]


@pytest.mark.parametrize(
    "body",
    [
        {"client_id": "", "client_secret": ""},
        {"client_id": "a"},
        {"client_id": 1, "client_secret": "s"},
    ],
)
def test_bad_credentials_are_401_code_1(srv: MockServer, body: dict[str, Any]) -> None:
    r = auth(srv, body)
    assert error(r) == (401, 1, "invalid user credentials")


def test_every_401_in_the_platforms_order(srv: MockServer) -> None:
    good = srv.headers()
    token = good["authorization"]
    assert get(srv, "jobs", good).status_code == 200  # binds the workspace to its api key
    cases = [  # (headers, code): each case has everything after its fault wrong as well
        ({}, 19),
        ({"x-api-key": "k", "x-workspace-id": "w"}, 19),
        ({"authorization": "garbage"}, 21),
        ({"authorization": token + "x", "x-workspace-id": good["x-workspace-id"]}, 21),
        ({"authorization": token, "x-workspace-id": "nowhere"}, 9),
        (
            {
                "authorization": token,
                "x-api-key": "not-this-one",
                "x-workspace-id": good["x-workspace-id"],
            },
            10,
        ),
        ({"authorization": token, "x-api-key": "k"}, 2),
    ]
    messages = {
        19: "no authorization header, it is required",
        21: "invalid access_token",
        9: "No x-api-key header provided",
        10: "Invalid api-key for workspace",
        2: "namespace not found",
    }
    for headers, code in cases:
        for path in ("jobs", "jobs/x", "jobs/x/logs"):
            assert error(get(srv, path, headers, params={"region": "SR006"})) == (
                401, code, messages[code],
            )  # fmt: skip


def test_raw_and_bearer_tokens_are_both_accepted(srv: MockServer) -> None:
    headers = srv.headers()
    raw = headers["authorization"]
    for value in (raw, f"Bearer {raw}", f"bearer {raw}"):
        r = get(srv, "jobs", {**headers, "authorization": value}, params={"region": "SR006"})
        assert r.status_code == 200 and r.json()["count"] == 0


FOUR_DAYS_S = 4 * 86400


def test_one_sdk_object_works_across_four_virtual_days(srv: MockServer) -> None:
    """The platform's token clock is the wall clock: moving virtual time expires nothing, so an
    ``mls_core`` object (it never re-authenticates) keeps working."""
    from mls_core import TrainingJobApi

    api = TrainingJobApi(endpoint_url=srv.api_url, **srv.sdk_credentials())
    job = api.run_job(JOB)
    r = requests.post(f"{srv.base_url}/_mock/clock/advance", json={"seconds": FOUR_DAYS_S},
                      timeout=10)  # fmt: skip
    assert r.status_code == 200
    assert api.get_job_status(job["job_name"])["status"] == "completed"
    assert api.run_job(JOB)["job_name"] != job["job_name"]


def test_tokens_expire_on_the_wall_clock_by_default() -> None:
    from mock_server.auth import AuthRegistry
    from mock_server.errors import ApiError

    wall = [1_000.0]
    virtual = [50.0]
    registry = AuthRegistry({}, lambda: virtual[0], wall=lambda: wall[0])
    token, ttl = registry.issue("key", "secret")
    headers = {"authorization": token}
    virtual[0] += FOUR_DAYS_S
    assert (ttl, registry.check_token(headers).client_id) == (3600, "key")
    wall[0] += 3600
    with pytest.raises(ApiError) as expired:
        registry.check_token(headers)
    assert (expired.value.status, expired.value.body["error_code"]) == (401, 20)


def test_an_unknown_token_clock_is_refused() -> None:
    from mock_server.auth import AuthRegistry

    with pytest.raises(ValueError, match="token_clock"):
        AuthRegistry({"token_clock": "sundial"}, lambda: 0.0)


@pytest.fixture(scope="module")
def virtual_clock_tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    path = tmp_path_factory.mktemp("cfg") / "virtual.yaml"
    path.write_text("auth: {token_clock: virtual}\n")
    with running_server(seed=0, config_path=path) as server:
        yield server


def test_tokens_expire_in_virtual_time_when_asked(
    virtual_clock_tokens: MockServer, tmp_path: Path
) -> None:
    srv = virtual_clock_tokens
    headers = srv.headers()
    srv.advance(3599)
    assert get(srv, "jobs", headers).status_code == 200
    srv.advance(2)
    assert error(get(srv, "jobs", headers)) == (401, 20, "access_token expired")
    expired_only = {"authorization": headers["authorization"]}  # 20 comes before 9 and 2
    assert error(get(srv, "jobs/x", expired_only)) == (401, 20, "access_token expired")
    assert get(srv, "jobs", srv.headers()).status_code == 200  # a new token works
    mls = make_cli(srv, tmp_path)  # every CLI command authenticates afresh
    assert json.loads(mls.ok("job", "list"))["count"] == 0


def test_the_cli_with_bad_credentials_exits_1(srv: MockServer, tmp_path: Path) -> None:
    mls = make_cli(srv, tmp_path)
    creds = mls.home / ".mls" / "credentials"
    creds.write_text(creds.read_text().replace("key_secret = sim-key-secret", "key_secret ="))
    done = mls.run("job", "list")
    assert done.returncode == 1 and UNAUTHORIZED in done.stdout


# ---- strict mode --------------------------------------------------------------------------------
STRICT = {
    "auth": {
        "mode": "strict",
        "keys": [
            {"client_id": "team-key", "client_secret": "s3cret"},
            {"client_id": 4242, "client_secret": 7},
        ],
        "workspaces": [
            {"id": "33333333-3333-4333-8333-333333333333", "api_key": "team-api-key"},
        ],
    }
}
TEAM = Credentials("team-key", "s3cret", "33333333-3333-4333-8333-333333333333", "team-api-key")


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    path = tmp_path_factory.mktemp("cfg") / "strict.yaml"
    path.write_text(json.dumps(STRICT))  # JSON is YAML
    with running_server(seed=0, config_path=path) as srv:
        srv.credentials = TEAM
        yield srv


def test_strict_mode_accepts_only_configured_keys(strict: MockServer) -> None:
    for cid, secret in [("team-key", "wrong"), ("someone", "s3cret"), ("", "")]:
        assert error(auth(strict, {"client_id": cid, "client_secret": secret}))[:2] == (401, 1)
    assert auth(strict, {"client_id": "4242", "client_secret": "7"}).status_code == 200
    token = strict.headers()["authorization"]

    def code(ws: str, key: str) -> int:
        r = get(strict, "jobs", {"authorization": token, "x-workspace-id": ws, "x-api-key": key})
        return r.status_code if r.status_code == 200 else r.json()["error_code"]

    assert code(TEAM.workspace_id, TEAM.api_key) == 200
    assert code(TEAM.workspace_id, "team-api-key-2") == 10
    assert code(OTHER.workspace_id, TEAM.api_key) == 2  # no workspace comes into being


def test_strict_mode_through_the_cli(strict: MockServer, tmp_path: Path) -> None:
    ok = make_cli(strict, tmp_path / "team")
    assert json.loads(ok.ok("job", "list"))["count"] == 0
    stranger = tmp_path / "stranger"
    strict.write_mls_profile(stranger / "home", creds=Credentials())
    done = make_cli(strict, stranger)
    (stranger / "home" / ".mls" / "credentials").write_text(
        (stranger / "home" / ".mls" / "credentials").read_text().replace("team-key", "nobody")
    )
    result = done.run("job", "list")
    assert result.returncode == 1 and UNAUTHORIZED in result.stdout


TEAMS = {
    "auth": {
        "mode": "strict",
        "keys": [
            {"client_id": "a", "client_secret": "sa"},
            {"client_id": "b", "client_secret": "sb"},
        ],
        "workspaces": [
            {"id": TEAM.workspace_id, "api_key": "key-a", "name": "team-a-secret-project"},
            {"id": OTHER.workspace_id, "api_key": "key-b", "name": "team-b"},
        ],
    }
}


def test_strict_mode_lists_only_the_callers_workspace(tmp_path: Path) -> None:
    path = tmp_path / "teams.yaml"
    path.write_text(json.dumps(TEAMS))
    with running_server(seed=0, config_path=path) as srv:

        def listed(cid: str, secret: str, ws: str | None, key: str | None) -> list[str]:
            token = auth(srv, {"client_id": cid, "client_secret": secret}).json()["token"]
            headers = {"authorization": token["access_token"]}
            if ws is not None and key is not None:
                headers |= {"x-workspace-id": ws, "x-api-key": key}
            r = get(srv, "workspaces/v3/", headers)
            assert r.status_code == 200, r.text
            return [w["name"] for w in r.json()["workspaces"]]

        assert listed("b", "sb", OTHER.workspace_id, "key-b") == ["team-b"]
        assert listed("b", "sb", None, None) == []  # a token alone names no workspace
        assert listed("b", "sb", TEAM.workspace_id, "key-b") == []  # not team a's api key
        assert listed("a", "sa", TEAM.workspace_id, "key-a") == ["team-a-secret-project"]


# ---- workspace isolation ------------------------------------------------------------------------
def test_another_workspace_cannot_see_touch_or_pay_for_a_job(srv: MockServer) -> None:
    mine, theirs = srv.headers(), srv.headers(OTHER)
    r = requests.post(f"{srv.api_url}/jobs", json=JOB, headers=mine, timeout=10)
    name = r.json()["job_name"]
    srv.advance(30)

    def call(method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
        r = requests.request(method, f"{srv.api_url}/{path}", headers=headers, timeout=10, **kw)
        return r.status_code, r.json()

    assert call("GET", f"jobs/{name}", theirs)[1]["status"] == "job not found"
    assert call("GET", "jobs", theirs, params={"region": "SR006"})[1]["count"] == 0
    assert call("GET", f"jobs/{name}/logs", theirs)[1]["status"] == "job not found"
    assert call("GET", f"jobs/elastic/{name}/pods", theirs)[1] == {"pods": []}
    assert call("POST", "jobs/restart", theirs, json={"job_name": name}) == (
        404, {"error_code": 1, "error_message": "not found"},
    )  # fmt: skip
    assert call("DELETE", f"jobs/{name}", theirs)[1]["status"] == "deleted"  # answered, ignored
    assert call("GET", f"jobs/{name}", mine)[1]["status"] == "running"
    assert call("GET", "jobs", mine, params={"region": "SR006"})[1]["count"] == 1
    assert call("GET", "jobs", theirs, params={"region": "SR006"})[1]["count"] == 0

    def bill(ws: str) -> dict[str, Any]:
        return requests.get(f"{srv.base_url}/_mock/billing", params={"workspace": ws},
                            timeout=10).json()  # fmt: skip

    assert bill(OTHER.workspace_id)["lines"] == [] and bill(OTHER.workspace_id)["total"] == "0.00"
    assert [ln["item"] for ln in bill(srv.credentials.workspace_id)["lines"]] == [name]
