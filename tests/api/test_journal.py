"""GET /_mock/journal: what the server accepted, with virtual times, replayable as a workload."""

from __future__ import annotations

from typing import Any

import requests

from mock_server.testing import MockServer
from simulator.workload import workload_from_journal

JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "img",
    "instance_type": "v100.2gpu",
    "region": "DGX2-MT",
    "env_variables": {"MLSPACE_SIM_RUNTIME_S": "600"},
}


def _journal(srv: MockServer, **params: str) -> dict[str, Any]:
    r = requests.get(f"{srv.base_url}/_mock/journal", params=params, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    return r.json()


def test_accepted_commands_are_journaled_with_virtual_times(mlspace_server: MockServer) -> None:
    srv = mlspace_server
    h = srv.headers()
    name = requests.post(f"{srv.api_url}/jobs", json=JOB, headers=h, timeout=10).json()["job_name"]
    srv.advance(120)
    requests.delete(
        f"{srv.api_url}/jobs/{name}", params={"region": "DGX2-MT"}, headers=h, timeout=10
    )
    rejected = requests.post(
        f"{srv.api_url}/jobs", json={**JOB, "n_gpus": 1}, headers=h, timeout=10
    )
    assert rejected.status_code == 422
    requests.get(f"{srv.api_url}/jobs", params={"region": "DGX2-MT"}, headers=h, timeout=10)

    entries = _journal(srv)["entries"]
    assert [(e["kind"], e["action"], e["ref"], e["t"]) for e in entries] == [
        ("job", "submit", name, 0.0),
        ("job", "kill", name, 120.0),
    ]
    submit = entries[0]
    assert submit["params"] == JOB
    assert submit["workspace"] == srv.credentials.workspace_id
    assert submit["epoch"] == srv.world.start_epoch


def test_journal_replays_as_a_workload(mlspace_server: MockServer) -> None:
    srv = mlspace_server
    h = srv.headers()
    name = requests.post(f"{srv.api_url}/jobs", json=JOB, headers=h, timeout=10).json()["job_name"]
    srv.advance(45)
    requests.delete(
        f"{srv.api_url}/jobs/{name}", params={"region": "DGX2-MT"}, headers=h, timeout=10
    )
    items = workload_from_journal(_journal(srv, kind="job,notebook")["entries"])
    assert len(items) == 1
    item = items[0]
    assert (item.kind, item.instance_type, item.region, item.outcome, item.kill_s) == (
        "job",
        "v100.2gpu",
        "DGX2-MT",
        "killed",
        45.0,
    )


def test_clock_moves_are_journaled_and_reset_starts_a_new_journal(
    mlspace_server: MockServer,
) -> None:
    srv = mlspace_server
    requests.post(f"{srv.base_url}/_mock/clock/advance", json={"seconds": 30}, timeout=10)
    assert [(e["kind"], e["action"]) for e in _journal(srv)["entries"]] == [("clock", "advance")]
    requests.post(f"{srv.base_url}/_mock/reset", json={}, timeout=10)
    assert _journal(srv) == {"count": 0, "entries": []}


def test_journal_is_filtered_by_workspace(mlspace_server: MockServer) -> None:
    srv = mlspace_server
    requests.post(f"{srv.api_url}/jobs", json=JOB, headers=srv.headers(), timeout=10)
    assert _journal(srv, workspace="someone-else")["count"] == 0
    assert _journal(srv, workspace=srv.credentials.workspace_id)["count"] == 1
