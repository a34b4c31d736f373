"""Hardening: body size limit, validated input everywhere, no internals in answers, admin guard."""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import pytest

from mock_server.testing import running_server
from tests.reliability.support import JOB, auth_headers, make_app

LEAKS = (
    "Traceback (most recent",
    'File "/',
    "site-packages",
    '.py", line',
    "mock_server/",
    "simulator/",
)
PATH_VALUES = ["x", "..", "%2e%2e", "a" * 300, "%00", "ü", "-1", "%ff", "0" * 40]
QUERY_VALUES = ["", "abc", "-1", "99999999999999999999", "1e309", "nan", "2024-13-45", "%00", "%ff"]
BODY_VALUES: list[Any] = [1, "s", [], {}, None, True, 1e308, -1, [1, {"a": None}], 10**30]
RAW_BODIES = [b"not json", b"[]", b'"s"', b"null", b'{"a":', b"\xff\xfe", b"1e999", b'"\\udfff"']


def no_leak(text: str) -> bool:
    return not any(marker in text for marker in LEAKS)


def operations(client: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path template, operation) of every Public API operation we implement."""
    doc = client.get("/public/v2/openapi.json").json
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        if path.startswith("/public/v2/")
        for method, op in item.items()
    ]


def requests_for(method: str, template: str, op: dict[str, Any]) -> list[dict[str, Any]]:
    """Hostile variants of one operation: odd path values, wrong-typed query values and bodies."""
    params = op.get("parameters", [])
    names = [p["name"] for p in params if p["in"] == "path"]
    query = [p["name"] for p in params if p["in"] == "query"]
    content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    props = list(content.get("schema", {}).get("properties") or {}) or ["x"]

    def url(value: str, q: str | None = None) -> str:
        path = template
        for name in names:
            path = path.replace("{" + name + "}", value)
        return path if q is None else path + "?" + "&".join(f"{k}={q}" for k in query)

    out = [{"path": url(v)} for v in (PATH_VALUES if names else ["x"])]
    out += [{"path": url("x", q)} for q in (QUERY_VALUES if query else [])]
    if method != "GET":
        out += [{"path": url("x"), "data": raw} for raw in RAW_BODIES]
        out += [
            {"path": url("x"), "data": json.dumps(dict.fromkeys(props, v)).encode()}
            for v in BODY_VALUES
        ]
    return out


def test_hostile_input_never_crashes_and_never_leaks_internals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_app().test_client()
    headers = {**auth_headers(client), "content-type": "application/json"}
    caplog.set_level(logging.ERROR, logger="mlspace_sim.server")
    sent = 0
    for method, template, op in operations(client):
        for req in requests_for(method, template, op):
            r = client.open(req["path"], method=method, headers=headers, data=req.get("data"))
            sent += 1
            text = r.get_data().decode("utf-8", "replace")
            assert no_leak(text), (method, req, r.status_code, text[:300])
            if r.mimetype == "application/json":
                json.loads(text)
    assert sent > 1000
    crashes = [rec.getMessage() for rec in caplog.records if "unhandled" in rec.getMessage()]
    assert crashes == []


def test_unexpected_error_answers_the_platform_500_and_nothing_more(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = make_app()

    def broken() -> Any:
        raise RuntimeError("secret internal detail at /srv/app.py line 12")

    app.add_url_rule("/public/v2/jobs/boom/now", view_func=broken)
    client = app.test_client()

    r = client.get("/public/v2/jobs/boom/now", headers=auth_headers(client))

    assert (r.status_code, r.json) == (
        500,
        {"error_code": 500, "error_message": "Oops, something went wrong"},
    )
    assert "secret internal detail" in caplog.text  # the operator still sees it in the log


def test_body_over_the_limit_is_refused_before_any_view_runs() -> None:
    app = make_app(settings={"max_body_bytes": 4096})
    client = app.test_client()
    headers = {**auth_headers(client), "content-type": "application/json"}
    big = json.dumps({**JOB, "job_desc": "x" * 5000})

    for method, path in (("POST", "/public/v2/jobs"), ("GET", "/public/v2/jobs?region=SR006")):
        r = client.open(path, method=method, data=big, headers=headers)
        assert r.status_code == 413 and r.json["error_code"] == 413, (method, r.json)
    assert app.extensions["mlspace_sim"].world.list_jobs(headers["x-workspace-id"]) == []
    assert client.post("/public/v2/jobs", json=JOB, headers=headers).status_code == 200


def test_default_body_limit_is_one_mebibyte() -> None:
    client = make_app().test_client()
    r = client.post("/public/v2/service_auth", data=b"{" + b" " * (1 << 20) + b"}")
    assert r.status_code == 413


def test_disabled_admin_api_does_not_exist_for_clients() -> None:
    client = make_app(settings={"admin": False}).test_client()
    for method, path in (("GET", "/_mock/clock"), ("PUT", "/_mock/faults"), ("GET", "/_mock")):
        r = client.open(path, method=method, json={"rules": []})
        assert r.status_code == 404 and r.json["error_code"] == 404, path
    assert client.get("/public/v2/openapi.json").status_code == 200
    assert (
        client.get("/public/v2/jobs?region=SR006", headers=auth_headers(client)).status_code == 200
    )


def test_admin_token_guards_every_admin_path_and_nothing_else() -> None:
    client = make_app(settings={"admin_token": "s3cret"}).test_client()

    for headers in ({}, {"x-admin-token": "wrong"}, {"authorization": "Bearer s3cre"}):
        for path in ("/_mock/clock", "/_mock/faults", "/_mock/nothing-here"):
            r = client.get(path, headers=headers)
            assert r.status_code == 401, (path, headers)
            assert r.json == {
                "error_code": 401,
                "error_message": "admin token required (x-admin-token header)",
            }
    assert client.get("/_mock/clock", headers={"x-admin-token": "s3cret"}).status_code == 200
    assert client.get("/_mock/clock", headers={"authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/public/v2/openapi.json").status_code == 200
    assert (
        client.get("/public/v2/jobs?region=SR006", headers=auth_headers(client)).status_code == 200
    )


def test_malformed_http_gets_a_short_answer_without_internals() -> None:
    with running_server(seed=0) as srv:
        for raw in (
            b"GARBAGE\r\n\r\n",
            b"GET /public/v2/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        ):
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
                sock.sendall(raw)
                answer = sock.recv(65536).decode("latin-1")
            assert answer.startswith("HTTP/1.") and " 400 " in answer.split("\r\n")[0]
            assert no_leak(answer), answer
