"""The admin API beyond loopback and the secrets in its exports (issue 11, item 6).

Binding a non-loopback address needs an admin token (``serve`` makes one when none is given);
``/_mock/state`` and ``/_mock/journal`` export tenants' api keys, S3 keys, passwords and tokens
only when asked with ``?secrets=true`` (through the admin guard, so with the token where one is
set); a redacted snapshot cannot be imported.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from mlspace_sim.cli import parser
from mock_server import security
from mock_server.server import make_server
from tests.reliability.support import JOB, make_app

WS = "11111111-1111-4111-8111-111111111111"
SECRETS = {
    "client_secret": "cs-9f2e",
    "api_key": "ak-77d1",
    "security_key": "s3-secret-41",
    "access_key_id": "AKID-5511",
    "password": "pg-pass-08",
    "env_token": "hf_token_value_3",
}
CONFIG = {
    "auth": {
        "mode": "strict",
        "token_ttl_s": 7200,
        "keys": [{"client_id": "team", "client_secret": SECRETS["client_secret"]}],
        "workspaces": [{"id": WS, "api_key": SECRETS["api_key"], "name": "team-a"}],
    }
}
SENT = sorted(["security_key", "access_key_id", "password", "env_token"])  # through the API
EXPORTED = {"/_mock/state": sorted(SECRETS), "/_mock/journal": SENT}  # state: config too
TOKEN = {"x-admin-token": "adm-1"}


def populated(settings: dict[str, Any] | None = None) -> FlaskClient:
    """A strict-mode app where a tenant stored every kind of secret through the API."""
    client = make_app(CONFIG, settings=settings).test_client()
    token = client.post(
        "/public/v2/service_auth",
        json={"client_id": "team", "client_secret": SECRETS["client_secret"]},
    ).json["token"]["access_token"]
    headers = {"authorization": token, "x-workspace-id": WS, "x-api-key": SECRETS["api_key"]}
    job = {**JOB, "env_variables": {"HF_TOKEN": SECRETS["env_token"]}}
    s3 = {
        "endpoint": "https://s3.cloud.ru",
        "bucket": "b",
        "access_key_id": SECRETS["access_key_id"],
        "security_key": SECRETS["security_key"],
    }
    pg = {"host": "db", "port": 5432, "user": "u", "database": "d", "password": SECRETS["password"]}
    connectors = "data_transfer/v3/connectors"
    for path, body in (
        ("jobs", job),
        (connectors, {"name": "s3", "source_type": "s3custom", "parameters": s3}),
        (connectors, {"name": "pg", "source_type": "postgresql", "parameters": pg}),
    ):
        r = client.post(f"/public/v2/{path}", json=body, headers=headers)
        assert r.status_code == 200, r.json
    return client


def leaked(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


@pytest.mark.parametrize("path", ["/_mock/state", "/_mock/journal"])
def test_exports_hide_every_secret_unless_asked(path: str) -> None:
    client = populated()
    plain = client.get(path)
    assert plain.status_code == 200 and leaked(plain.get_data(as_text=True)) == []
    text = plain.get_data(as_text=True)
    assert "a100plus.1gpu.80vG.12C.96G" in text or "v100.2gpu" in text  # the rest is kept
    assert "<redacted>" in text
    full = client.get(f"{path}?secrets=true")
    assert sorted(leaked(full.get_data(as_text=True))) == EXPORTED[path]


def test_a_redacted_snapshot_says_so_and_keeps_what_is_not_secret() -> None:
    snap = populated().get("/_mock/state").json
    assert snap["redacted"] is True
    assert snap["meta"]["config"]["auth"]["token_ttl_s"] == 7200
    assert snap["workspaces"][0]["api_key"] == "<redacted>"
    assert snap["workspaces"][0]["name"] == "team-a"
    job = json.loads(snap["entries"][0]["body"])
    assert job["env_variables"] == {"HF_TOKEN": "<redacted>"}
    assert job["instance_type"] == JOB["instance_type"]


def test_secrets_need_the_admin_token_where_one_is_set() -> None:
    client = populated({"admin_token": "adm-1"})
    assert client.get("/_mock/state?secrets=true").status_code == 401
    assert leaked(client.get("/_mock/journal", headers=TOKEN).get_data(as_text=True)) == []
    full = client.get("/_mock/journal?secrets=true", headers=TOKEN)
    assert sorted(leaked(full.get_data(as_text=True))) == SENT
    bad = client.get("/_mock/state?secrets=maybe", headers=TOKEN)
    assert bad.status_code == 422 and bad.json["detail"][0]["loc"] == ["query", "secrets"]


def test_a_redacted_snapshot_is_refused_on_import_and_the_world_stays() -> None:
    client = populated()
    before = client.get("/_mock/journal?secrets=true").json
    r = client.post("/_mock/state", json=client.get("/_mock/state").json)
    assert r.status_code == 422 and r.json["detail"][0]["loc"] == ["body", "redacted"]
    assert client.get("/_mock/journal?secrets=true").json == before
    full = client.get("/_mock/state?secrets=true").json
    assert "redacted" not in full
    assert client.post("/_mock/state", json=full).status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.5"])
def test_loopback_needs_no_token(host: str) -> None:
    assert security.admin_token_for(host, None, admin=True) == (None, False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "example.org", ""])
def test_beyond_loopback_a_token_is_made_unless_given_or_admin_is_off(host: str) -> None:
    token, made = security.admin_token_for(host, None, admin=True)
    assert made and token and len(token) >= 32
    assert security.admin_token_for(host, None, admin=True)[0] != token  # a new one each start
    assert security.admin_token_for(host, "mine", admin=True) == ("mine", False)
    assert security.admin_token_for(host, None, admin=False) == (None, False)


def test_a_server_beyond_loopback_without_a_token_is_refused_before_it_binds() -> None:
    with pytest.raises(ValueError, match="admin token"):
        make_server(make_app(), host="0.0.0.0", port=0)


def test_serve_on_every_address_gets_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(security.ADMIN_TOKEN_ENV, raising=False)
    args = parser().parse_args(["serve", "--host", "0.0.0.0"])
    token, made = security.admin_token_for(args.host, args.admin_token, admin=not args.no_admin)
    assert made and token
