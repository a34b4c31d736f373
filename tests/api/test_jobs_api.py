"""The jobs area over HTTP (Flask test client): every response against the official spec
v2.8.1, and a Hypothesis fuzz of ``POST jobs`` and the query strings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from tests.support.openapi import validate_response

API = "/public/v2"
WS = "44444444-4444-4444-8444-444444444444"
STARTED_S = 25
SPEC_JOBS = {  # region -> a GPU type, all inside the spec's ModelTrainingRegion enum
    "SR006": "a100plus.1gpu.80vG.12C.96G",
    "DGX2-MT": "v100.2gpu",
    "SR003": "cpu.2C.8G",
}


@pytest.fixture(scope="module")
def app() -> Flask:
    return create_app(seed=0, start_epoch=DEFAULT_START_EPOCH, settings={"log_follow_max_s": 0.2})


@pytest.fixture(scope="module")
def headers(app: Flask) -> dict[str, str]:
    r = app.test_client().post(f"{API}/service_auth", json={"client_id": "k", "client_secret": "s"})
    token = r.get_json()["token"]["access_token"]
    return {"authorization": token, "x-workspace-id": WS, "x-api-key": "key"}


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    app.extensions["mlspace_sim"].reset()
    yield app.test_client()


def call(
    client: FlaskClient, headers: dict[str, str], method: str, path: str, **kw: Any
) -> tuple[int, Any]:
    """One request; asserts the exact JSON content type and the spec's schema for the status."""
    r = client.open(f"{API}/{path}", method=method, headers=headers, **kw)
    assert r.headers["Content-Type"] == "application/json", (path, r.headers["Content-Type"])
    body = json.loads(r.get_data())
    validate_response(method, path, r.status_code, body)
    return r.status_code, body


def advance(app: Flask, seconds: float) -> None:
    app.extensions["mlspace_sim"].world.advance(seconds)


def job_body(region: str = "SR006", **extra: Any) -> dict[str, Any]:
    return {
        "script": "/home/jovyan/train.py",
        "base_image": "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40",
        "instance_type": SPEC_JOBS[region],
        "region": region,
        "type": "binary",
        "env_variables": {"MLSPACE_SIM_RUNTIME_S": "60"},
        **extra,
    }


# ---- every operation against the spec -----------------------------------------------------------
def test_every_jobs_operation_matches_the_spec(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    def submit(region: str = "SR006", **extra: Any) -> str:
        code, body = call(client, headers, "POST", "jobs", json=job_body(region, **extra))
        assert code == 200
        return body["job_name"]

    names = [submit(region) for region in SPEC_JOBS]
    names.append(submit(type="pytorch_elastic", n_workers=2, elastic_min_workers=1))
    names.append(submit(script="bad-path.py"))
    names.append(
        submit(env_variables={"MLSPACE_SIM_OUTCOME": "failure", "MLSPACE_SIM_RUNTIME_S": "30"})
    )
    names.append(submit(env_variables={"MLSPACE_SIM_RUNTIME_S": "9999"}))
    killed_pending, killed_running = submit(), submit()
    call(client, headers, "DELETE", f"jobs/{killed_pending}", query_string={"region": "SR006"})
    names += [killed_pending, killed_running]

    for step in (0, STARTED_S, 60):  # pending, running, finished (and failed, deleted)
        advance(app, step)
        if step == STARTED_S:
            call(client, headers, "DELETE", f"jobs/{killed_running}")
        for region in SPEC_JOBS:
            code, listing = call(client, headers, "GET", "jobs", query_string={"region": region})
            assert code == 200 and listing["count"] == len(listing["jobs"]) > 0
        for name in names:
            assert call(client, headers, "GET", f"jobs/{name}")[0] == 200
            assert call(client, headers, "GET", f"jobs/elastic/{name}/pods")[0] == 200
            assert call(client, headers, "GET", f"jobs/{name}/preemptors")[0] == 200
            r = client.get(f"{API}/jobs/{name}/logs", headers=headers)
            assert r.status_code == 200 and r.content_type == "text/plain; charset=utf-8"

    statuses = {call(client, headers, "GET", f"jobs/{n}")[1]["status"] for n in names}
    assert statuses == {"completed", "succeeded", "failed", "deleted", "running"}
    assert call(client, headers, "GET", "jobs/lm-mpi-job-unknown")[1]["status"] == "job not found"
    assert call(client, headers, "DELETE", "jobs/lm-mpi-job-unknown")[0] == 200
    assert call(client, headers, "POST", "jobs/restart", json={"job_name": names[0]})[0] == 200
    assert call(client, headers, "POST", "jobs/restart", json={"job_name": "nope"})[0] == 404
    assert call(client, headers, "POST", "jobs/restart", json={"name": "x"})[0] == 422
    assert call(client, headers, "GET", "jobs", query_string={"region": ""})[1]["count"] == 0
    assert call(client, headers, "GET", "jobs", query_string={"status": "running"})[0] == 422
    assert call(client, headers, "GET", "jobs/x/logs", query_string={"tail": "-1"})[0] == 422


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"instance_type": "a100.1gpu"}, 400),  # not in SR006
        ({"instance_type": "a100plus.8gpu.80vG.96C.1952G", "n_workers": 126}, 400),  # 1008 GPUs
        ({"n_gpus": 1}, 422),
        ({"type": "mpi"}, 422),
        ({"region": "SR009"}, 422),
        ({"priority_class": "urgent"}, 422),
        ({"health_params": {"log_period": 5}}, 422),
        ({"script": None}, 422),
    ],
)
def test_refused_submissions_match_the_spec(
    client: FlaskClient, headers: dict[str, str], change: dict[str, Any], status: int
) -> None:
    code, body = call(client, headers, "POST", "jobs", json={**job_body(), **change})
    assert code == status
    if status == 422:
        assert [d["loc"][:2] for d in body["detail"]] == [["body", next(iter(change))]]


def test_auth_failures_match_the_spec(client: FlaskClient, headers: dict[str, str]) -> None:
    for method, path in [("GET", "jobs"), ("POST", "jobs"), ("GET", "jobs/x"),
                         ("DELETE", "jobs/x"), ("GET", "jobs/x/logs"), ("POST", "jobs/restart"),
                         ("GET", "jobs/elastic/x/pods")]:  # fmt: skip
        assert call(client, {}, method, path)[1]["error_code"] == 19
        assert call(client, {**headers, "authorization": "x"}, method, path)[0] == 401


def test_a_lone_surrogate_escape_is_refused_naming_the_field(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    """Legal JSON (``\\udfff``) that no string can hold: a 422 naming the field, echoed back
    escaped, and nothing stored that would break the job list afterwards (issue 11)."""
    raw = json.dumps(job_body(job_desc="\udfff")).encode()  # the legal JSON escape \udfff
    r = client.post(
        f"{API}/jobs", data=raw, headers={**headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 422
    error = json.loads(r.get_data())["detail"][0]
    assert (error["loc"], error["input"]) == (["body", "job_desc"], "\udfff")
    code, listing = call(client, headers, "GET", "jobs", query_string={"region": "SR006"})
    assert code == 200 and listing["count"] == 0
    r = client.post(f"{API}/jobs", data=raw.replace(b'"binary"', b'"\\ud800"'),
                    headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    inputs = {e["loc"][-1]: e["input"] for e in json.loads(r.get_data())["detail"]}
    assert r.status_code == 422 and inputs == {"job_desc": "\udfff", "type": "\ud800"}


# ---- fuzz ---------------------------------------------------------------------------------------
ANY_TEXT = st.text(st.characters(codec=None), max_size=12)  # surrogates included
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
    | st.sampled_from(["default", "", "/home/jovyan/a.py", "SR006", "binary"])
)  # fmt: skip
JSON_VALUES = st.recursive(
    SCALARS, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(ANY_TEXT, kids, max_size=3),
    max_leaves=6,
)  # fmt: skip
FIELDS = [
    "script", "base_image", "instance_type", "region", "type", "n_workers",
    "processes_per_worker", "job_desc", "internet", "priority_class", "health_params", "flags",
    "env_variables", "elastic_min_workers", "elastic_max_workers", "include_nodes", "stop_timer",
]  # fmt: skip
PLAUSIBLE = {
    "instance_type": st.sampled_from([*SPEC_JOBS.values(), "a100plus.8gpu.80vG.96C.1952G"]),
    "region": st.sampled_from([*SPEC_JOBS, "SR002-MT", "CCE-MT"]),
    "type": st.sampled_from(["binary", "horovod", "pytorch_elastic", "nogpu", "spark"]),
    "n_workers": st.integers(-2, 200),
    "health_params": st.fixed_dictionaries(
        {"log_period": st.integers(0, 800)}, optional={"action": JSON_VALUES}
    ),
}
BODIES = st.fixed_dictionaries(
    {},
    optional={f: (PLAUSIBLE[f] | JSON_VALUES) if f in PLAUSIBLE else JSON_VALUES for f in FIELDS},
).flatmap(
    lambda body: st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=1).map(lambda x: {**body, **x})
)
QUERY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
QUERIES = st.dictionaries(
    st.sampled_from(["region", "status", "limit", "offset", "start_date", "end_date", "queue_id",
                     "tail", "verbose", "allocation_name"]) | QUERY_TEXT,
    st.lists(QUERY_TEXT | st.sampled_from(["SR006", "Running", "True", "2025-02-26 10:00:00"]),
             min_size=1, max_size=2),
    max_size=4,
)  # fmt: skip


def assert_world_sound(app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
    """The world still answers and no pool or node holds more than it has."""
    code, listing = call(client, headers, "GET", "jobs", query_string={"region": "SR006"})
    assert code == 200 and listing["count"] >= len(listing["jobs"])
    for pool in app.extensions["mlspace_sim"].world.pools_report():
        assert 0 <= pool["gpus"]["used"] <= pool["gpus"]["total"]
        for node in pool["nodes"]:
            for res in ("gpus", "cpus", "memory_gi"):
                assert 0 <= node[res]["used"] <= node[res]["total"]


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(body=BODIES | JSON_VALUES)
def test_fuzzed_submissions_never_break_the_server(
    app: Flask, client: FlaskClient, headers: dict[str, str], body: Any
) -> None:
    r = client.post(f"{API}/jobs", data=json.dumps(body),
                    headers={**headers, "Content-Type": "application/json"})  # fmt: skip
    assert r.status_code in (200, 400, 422), r.get_data()
    assert r.headers["Content-Type"] == "application/json"
    answer = json.loads(r.get_data())
    if r.status_code == 200:
        assert call(client, headers, "GET", f"jobs/{answer['job_name']}")[0] == 200
        advance(app, 7)
    assert_world_sound(app, client, headers)


@FUZZ
@given(query=QUERIES, name=st.sampled_from(["", "lm-mpi-job-x"]) | QUERY_TEXT)
def test_fuzzed_query_strings_never_break_the_server(
    app: Flask, client: FlaskClient, headers: dict[str, str], query: dict[str, list[str]], name: str
) -> None:
    for path in ("jobs", f"jobs/{quote(name, safe='')}/logs", f"jobs/{quote(name, safe='')}"):
        r = client.get(f"{API}/{path}", query_string=query, headers=headers)
        assert r.status_code < 500, (path, query, r.get_data())
        if r.status_code != 200 or r.content_type != "text/plain; charset=utf-8":
            assert r.headers["Content-Type"] == "application/json"
            json.loads(r.get_data())
    assert_world_sound(app, client, headers)
