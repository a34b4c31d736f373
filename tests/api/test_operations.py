"""The operation table: the official spec's operation set, and what is derived from it."""

from __future__ import annotations

import re

from flask import Flask

from mock_server import create_app
from mock_server.journal import classify
from mock_server.operations import OPERATIONS
from mock_server.routing import Op, blueprints, match, query_model
from tests.support.openapi import PREFIX, spec

API = "/public/v2"
METHODS = ("get", "post", "put", "patch", "delete")


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_table_lists_exactly_the_operations_of_the_official_spec() -> None:
    official = {
        (method.upper(), _shape(path))
        for path, item in spec()["paths"].items()
        for method in item
        if method in METHODS
    }
    ours = [(op.method, _shape(op.url)) for op in OPERATIONS if op.in_spec]
    assert len(ours) == len(set(ours)) == 185
    assert set(ours) == official


def test_every_operation_is_built_and_a_row_without_a_handler_would_answer_501() -> None:
    assert [(op.method, op.path) for op in OPERATIONS if op.handler is None] == []
    app = Flask("future")
    for bp in blueprints([Op("GET", "/future/{thing}", "future")]):
        app.register_blueprint(bp)
    r = app.test_client().get(f"{API}/future/x")  # no credentials asked for
    assert r.status_code == 501
    message = r.get_json()["error_message"]
    assert message == "Not implemented in mlspace-sim: GET /public/v2/future/x"


def test_a_spec_path_with_another_method_is_405_with_allow_and_unknown_is_404() -> None:
    client = create_app().test_client()
    r = client.put(f"{API}/jobs")
    assert r.status_code == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert client.get(f"{API}/no/such/thing").status_code == 404


def test_journal_kind_and_ref_come_from_the_table() -> None:
    kill = classify("DELETE", f"{PREFIX}/jobs/lm-mpi-job-1", None)
    assert kill == ("job", "kill", "lm-mpi-job-1")
    assert classify("POST", f"{API}/jobs", {"job_name": "j"}) == ("job", "submit", "j")
    uid = "7c0e0b5e-3d4b-4e8e-9d2f-000000000001"
    resume = f"{API}/notebooks/v1/ns/notebook/{uid}/resume"
    assert classify("POST", resume, {}) == ("notebook", "resume", uid)
    assert classify("POST", f"{API}/s3/credentials", {})[0] == "other"


def test_match_finds_the_operation_and_its_path_parameters() -> None:
    found = match("GET", f"{API}/queues/q1/awaiting-launch-resources")
    assert found is not None
    op, args = found
    assert op.handler == "api.resources:awaiting_launch" and args == {"queue_id": "q1"}
    assert match("PUT", f"{API}/jobs") is None


def test_only_state_changing_operations_are_mutating() -> None:
    mutating = {(op.method, op.path) for op in OPERATIONS if op.mutating}
    assert ("POST", "/jobs") in mutating
    assert ("POST", "/service_auth") not in mutating
    assert not any(method == "GET" for method, _ in mutating)


def test_a_query_model_is_the_operations_validation_and_its_documented_parameters() -> None:
    app = create_app()
    client = app.test_client()
    auth = client.post(f"{API}/service_auth", json={"client_id": "k", "client_secret": "s"})
    headers = {
        "authorization": auth.get_json()["token"]["access_token"],
        "x-workspace-id": "11111111-1111-4111-8111-111111111111",
        "x-api-key": "k",
    }
    document = client.get(f"{API}/openapi.json").get_json()
    with_query = [op for op in OPERATIONS if op.query is not None]
    assert {op.path for op in with_query} >= {"/configs", "/jobs", "/jobs/{job_name}/logs"}
    for op in with_query:
        params = document["paths"][op.url][op.method.lower()]["parameters"]
        documented = {p["name"] for p in params if p["in"] == "query"}
        model = query_model(op, app.extensions["mlspace_sim"].world.config)
        assert documented == set(model.model_fields), op.path
    bad = client.get(f"{API}/jobs?region=SR006&limit=zero&status=Bogus", headers=headers)
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.get_json()["detail"]} == {
        ("query", "status", 0),
        ("query", "limit"),
    }
    tail = client.get(f"{API}/jobs/none/logs?tail=-1", headers=headers)
    assert tail.status_code == 422 and tail.get_json()["detail"][0]["loc"] == ["query", "tail"]
