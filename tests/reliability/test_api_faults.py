"""Seeded API faults: the platform's 5xx and 429 bodies, latency, drops, reproducible runs."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from mock_server.faults import glob_regex
from mock_server.testing import running_server
from tests.reliability.support import JOB, auth_headers, make_app
from tests.support.openapi import validate_response

UNSTABLE_LIST = {"fault": "error", "method": "GET", "path": "jobs", "probability": 0.3}


def statuses(client: Any, headers: dict[str, str], n: int = 40) -> list[int]:
    return [
        client.get("/public/v2/jobs?region=SR006", headers=headers).status_code for _ in range(n)
    ]


def test_config_file_rule_fails_the_first_submissions_before_they_reach_the_platform() -> None:
    rule = {"name": "flaky-submit", "fault": "error", "method": "POST", "path": "jobs"}
    app = make_app({"faults": {"rules": [{**rule, "status": 503, "times": 2}]}})
    client = app.test_client()
    headers = auth_headers(client)

    answers = [client.post("/public/v2/jobs", json=JOB, headers=headers) for _ in range(3)]

    assert [r.status_code for r in answers] == [503, 503, 200]
    assert answers[0].json == {"error_code": 503, "error_message": "Oops, something went wrong"}
    assert answers[0].headers["Content-Type"] == "application/json"
    assert len(app.extensions["mlspace_sim"].world.list_jobs(headers["x-workspace-id"])) == 1
    shown = client.get("/_mock/faults").json["rules"][0]
    assert (shown["name"], shown["matched"], shown["fired"]) == ("flaky-submit", 3, 2)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/jobs", {"error_code": 500, "error_message": "Oops, something went wrong"}),
        (
            "GET",
            "/notebooks/v2/notebooks",
            {"error_code": 1, "error_message": "Oops. Backend error."},
        ),
        ("GET", "/instance_types/SR006/available", {"detail": "Oops. Backend error."}),
    ],
)
def test_injected_500_has_the_body_the_spec_gives_that_area(
    method: str, path: str, expected: dict[str, Any]
) -> None:
    client = make_app({"faults": {"rules": [{"fault": "error", "path": "**"}]}}).test_client()

    r = client.open(f"/public/v2{path}", method=method, json={})

    assert (r.status_code, r.json) == (500, expected)
    validate_response(method, path, 500, r.json)


def test_injected_429_is_the_platform_rate_limit_answer() -> None:
    client = make_app().test_client()
    client.put("/_mock/faults", json={"rules": [{"fault": "rate_limit", "path": "jobs/*"}]})
    headers = auth_headers(client)

    r = client.get("/public/v2/jobs/lm-mpi-job-x", headers=headers)

    assert r.status_code == 429
    assert r.json == {"error_code": 429, "error_message": "Rate limit exceeded: 1000 per 1 minute"}
    validate_response("GET", "/jobs/lm-mpi-job-x", 429, r.json)
    assert client.get("/public/v2/jobs?region=SR006", headers=headers).status_code == 200


def test_draws_repeat_for_the_same_seed_and_restart_on_reset() -> None:
    runs = []
    for seed in (5, 5, 6):
        client = make_app({"faults": {"rules": [UNSTABLE_LIST]}}, seed=seed).test_client()
        runs.append(statuses(client, auth_headers(client)))
    assert runs[0] == runs[1] != runs[2]
    assert 4 <= runs[0].count(500) <= 24 and set(runs[0]) == {200, 500}

    client.post("/_mock/reset", json={"seed": 5})
    assert statuses(client, auth_headers(client)) == runs[0]


def test_each_rule_draws_from_its_own_stream() -> None:
    """Adding a rule for other requests leaves an existing rule's firing pattern unchanged."""
    alone = make_app({"faults": {"rules": [UNSTABLE_LIST]}}).test_client()
    other = {"fault": "error", "method": "GET", "path": "jobs/*", "probability": 0.5}
    mixed = make_app({"faults": {"rules": [other, UNSTABLE_LIST]}})
    client = mixed.test_client()
    headers = auth_headers(client)
    pattern = []
    for _ in range(30):
        client.get("/public/v2/jobs/some-job", headers=headers)
        pattern.append(client.get("/public/v2/jobs?region=SR006", headers=headers).status_code)
    assert pattern == statuses(alone, auth_headers(alone), 30)


def test_skip_times_method_and_regex_select_which_requests_fail() -> None:
    rule = {"fault": "error", "method": ["GET"], "path_regex": r"jobs/[^/]+", "skip": 1, "times": 2}
    client = make_app({"faults": {"rules": [rule]}}).test_client()
    headers = auth_headers(client)

    got = [client.get("/public/v2/jobs/j1", headers=headers).status_code for _ in range(5)]

    assert got == [200, 500, 500, 200, 200]
    assert client.delete("/public/v2/jobs/j1?region=SR006", headers=headers).status_code != 500
    assert client.get("/public/v2/jobs/j1/logs", headers=headers).status_code != 500


def test_glob_star_stays_in_one_segment_and_double_star_crosses() -> None:
    assert glob_regex("jobs/*").fullmatch("jobs/a")
    assert not glob_regex("jobs/*").fullmatch("jobs/a/logs")
    assert glob_regex("jobs/**").fullmatch("jobs/a/logs")
    assert glob_regex("/notebooks/v?/notebook/*/pause").fullmatch("notebooks/v2/notebook/u/pause")


def test_latency_is_added_in_wall_time() -> None:
    rule = {"fault": "latency", "method": "GET", "path": "jobs", "latency_s": [0.05, 0.1]}
    client = make_app({"faults": {"rules": [rule]}}).test_client()
    headers = auth_headers(client)

    start = time.monotonic()
    r = client.get("/public/v2/jobs?region=SR006", headers=headers)

    assert r.status_code == 200 and time.monotonic() - start >= 0.05
    assert client.get("/_mock/clock").json["elapsed_s"] == 0  # virtual time did not move


def test_admin_api_replaces_adds_validates_and_clears() -> None:
    client = make_app().test_client()
    one = {"name": "a", "fault": "drop", "path": "jobs"}

    assert client.put("/_mock/faults", json={"rules": [one]}).json["rules"][0]["fault"] == "drop"
    added = client.post("/_mock/faults", json={"rules": [{"fault": "latency", "latency_s": 0.01}]})
    assert [r["name"] for r in added.json["rules"]] == ["a", "latency * **"]
    assert client.post("/_mock/faults", json={"rules": [one]}).status_code == 422

    bad = [
        ({"rules": [{"fault": "error", "status": 404}]}, ["body", "rules", 0, "status"]),
        ({"rules": [{"fault": "latency", "latency_s": 11}]}, ["body", "rules", 0, "latency_s"]),
        ({"rules": [{"fault": "explode"}]}, ["body", "rules", 0, "fault"]),
        ({"rules": [{"fault": "drop", "path_regex": "("}]}, ["body", "rules", 0, "path_regex"]),
        ({"rules": [{"fault": "drop", "probability": 2}]}, ["body", "rules", 0, "probability"]),
        ({"rules": [{"fault": "drop", "colour": "red"}]}, ["body", "rules", 0, "colour"]),
        ({"rules": {"fault": "drop"}}, ["body", "rules"]),
        ({"rule": []}, ["body", "rule"]),
    ]
    for body, loc in bad:
        r = client.put("/_mock/faults", json=body)
        assert r.status_code == 422 and r.json["detail"][0]["loc"] == loc, (body, r.json)
    assert len(client.get("/_mock/faults").json["rules"]) == 2  # refused changes change nothing

    cleared = client.delete("/_mock/faults").json
    assert cleared["seed"] == 0 and cleared["rules"] == []
    assert cleared["preemption"]["enabled"] is False  # engine faults are off too


def test_a_bad_rule_in_the_config_file_stops_the_server_from_starting() -> None:
    with pytest.raises(ValueError, match=r"faults\.rules\.0\.phase"):
        make_app({"faults": {"rules": [{"fault": "drop", "phase": "during"}]}})


def test_admin_paths_are_never_faulted() -> None:
    client = make_app({"faults": {"rules": [{"fault": "error"}]}}).test_client()
    assert client.get("/_mock/clock").status_code == 200
    assert client.get("/public/v2/openapi.json").status_code == 500


def test_dropped_connection_closes_without_an_answer_and_after_phase_keeps_the_job() -> None:
    with running_server(seed=0) as srv:
        base = f"{srv.base_url}/_mock/faults"
        rules = [
            {"fault": "drop", "method": "POST", "path": "jobs", "phase": "after", "times": 1},
            {"fault": "drop", "method": "GET", "path": "jobs"},
        ]
        requests.put(base, json={"rules": rules}, timeout=10).raise_for_status()
        headers = srv.headers()

        with pytest.raises(requests.ConnectionError, match="without response"):
            requests.post(f"{srv.api_url}/jobs", json=JOB, headers=headers, timeout=10)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{srv.api_url}/jobs?region=SR006", headers=headers, timeout=10)

        jobs = srv.world.list_jobs(srv.credentials.workspace_id)
        assert len(jobs) == 1  # the platform acted; only the answer was lost
        journal = requests.get(f"{srv.base_url}/_mock/journal?kind=job", timeout=10).json()
        assert [e["action"] for e in journal["entries"]] == ["submit"]
