"""Capacity against a live server: ``mls_core``'s allocation and queue clients (cloudru-ml-cli
1.3.0 has list and instance types only) see the queues made over HTTP; the operations it lacks
are driven over HTTP the way hand-written clients poll them, every answer checked against the
spec."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from mls_core import AllocationApi, QueueApi, TrainingJobApi

from mock_server.testing import MockServer
from tests.support.openapi import validate_response

pytestmark = pytest.mark.sdk

STARTED_S = 25
ONE_GPU = "a100plus.1gpu.80vG.12C.96G"
JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40",
    "instance_type": ONE_GPU,
    "region": "SR006",
    "type": "pytorch2",
    "env_variables": {"MLSPACE_SIM_RUNTIME_S": "3600"},
}


def client(cls: type, srv: MockServer) -> Any:
    return cls(endpoint_url=srv.api_url, max_retries=1, **srv.sdk_credentials())


def http(srv: MockServer, method: str, path: str, body: Any = None) -> Any:
    r = requests.request(
        method, f"{srv.api_url}/{path}", json=body, headers=srv.headers(), timeout=10
    )
    assert r.status_code == 200, r.text
    validate_response(method, path, 200, r.json())
    return r.json()


def sr006(srv: MockServer) -> str:
    allocs = client(AllocationApi, srv).get_list_allocations()
    return next(a["id"] for a in allocs if a["region_key"] == "SR006")


def test_an_eight_worker_job_shows_in_nodes_load_and_resources(srv: MockServer) -> None:
    jobs = client(TrainingJobApi, srv)
    name = jobs.run_job({**JOB, "n_workers": 8})["job_name"]
    srv.advance(STARTED_S)
    assert jobs.get_job_status(name)["status"] == "running"
    alloc = sr006(srv)

    nodes = http(srv, "GET", f"jobs/{name}/nodes")["node_names"]
    (load,) = http(srv, "GET", f"nodes/load?allocation_id={alloc}&node_names={nodes[0]}")["loads"]
    status = http(srv, "GET", f"allocations/{alloc}/resources_status")

    assert [j["name"] for j in load["jobs"]] == [name]
    assert status["gpu"]["current"] >= 8
    assert http(srv, "GET", f"jobs/{name}/params")["n_workers"] == 8


def test_a_queue_made_over_http_is_seen_and_limited_through_mls_core(srv: MockServer) -> None:
    alloc = sr006(srv)
    body = {"name": "sweep", "description": "", "allocation_id": alloc, "gpu_limit": 1}
    queue_id = http(srv, "POST", "queues/", body)["id"]
    queues = client(QueueApi, srv)

    listed = queues.get_list_queues_by_allocation_id(alloc)
    assert [q["name"] for q in listed] == ["default-sr006", "sweep"]
    types = {t["key"]: t["availability"] for t in queues.get_instance_types_by_queue_id(queue_id)}
    assert types[ONE_GPU] == 1

    jobs = client(TrainingJobApi, srv)
    names = [jobs.run_job({**JOB, "queue_name": "sweep"})["job_name"] for _ in range(2)]
    srv.advance(STARTED_S)
    assert [jobs.get_job_status(n)["status"] for n in names] == ["running", "pending"]
    assert [j["name"] for j in http(srv, "GET", f"queues/{queue_id}/jobs")["jobs"]] == names
    types = {t["key"]: t["availability"] for t in queues.get_instance_types_by_queue_id(queue_id)}
    assert types[ONE_GPU] == 0
