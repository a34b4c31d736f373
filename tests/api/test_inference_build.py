"""Serving-image builds over HTTP (``inference/build/v1`` and ``v2``): a build job on the
build-image engine, its status and logs as virtual time passes, listing, deletion, validation."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from tests.support.openapi import validate_request
from tests.support.public_api import PublicApi

WS = "11111111-1111-4111-8111-111111111111"
BODY = {
    "name": "cats-vs-dogs",
    "artifacts_directory": "bucket/deployments",
    "run_script": "kfserving.py",
    "requirements_path": "requirements.txt",
    "S3_ENDPOINT": "https://s3.example.com",
    "AWS_ACCESS_KEY_ID": "key",
    "AWS_SECRET_ACCESS_KEY": "secret",
}
BUILD_S = 300  # submit -> SUCCEEDED takes about 4 minutes, always less than this


@pytest.fixture
def api() -> PublicApi:
    return PublicApi(create_app(seed=0, start_epoch=DEFAULT_START_EPOCH), WS)


def _logs(api: PublicApi, job: str) -> str:
    resp = api.raw("GET", f"build-image/jobs/{job}/logs")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_build_runs_as_a_job_with_logs_and_pushes_the_named_image(
    api: PublicApi, version: str
) -> None:
    validate_request("POST", f"inference/build/{version}/", BODY)
    created = api.call("POST", f"inference/build/{version}/", json=BODY)
    assert created["name"] == "cats-vs-dogs"
    assert created["image"] == f"cr.ai.cloud.ru/{WS}/cats-vs-dogs"
    path = f"inference/build/{version}/cats-vs-dogs"
    job = created.get("job_name") or api.call("GET", path)["metadata"]["name"]

    api.world.advance(60)
    running = api.call("GET", path)
    assert (running["status"]["phase"] if version == "v2" else running["status"]) == "RUNNING"
    assert "Unpacking rootfs" in _logs(api, job)

    api.world.advance(BUILD_S)
    done = api.call("GET", path)
    if version == "v2":
        assert done["status"]["succeeded"] == 1
        assert done["status"]["conditions"][0]["type"] == "Complete"
    else:
        assert done["status"] == "SUCCEEDED"
    assert "Collecting kserve==0.9.0" in _logs(api, job)
    assert f"Pushed {created['image']}@sha256:" in _logs(api, job)
    assert api.call("GET", "build-image/jobs/" + job)["status"] == "SUCCEEDED"

    listed = api.call("GET", f"inference/build/{version}/")
    names = (
        [i["name"] for i in listed["images"]]
        if version == "v1"
        else [j["metadata"]["labels"]["image-name"] for j in listed]
    )
    assert names == ["cats-vs-dogs"]
    custom = api.call("GET", "configs", query_string={"cluster_type": "INF"})["custom_images"]
    assert created["image"] in [c["name"] for c in custom]
    [repo] = api.call("GET", "docker_registry/v2/repositories/")  # in the workspace's registry
    assert repo["full_name"] == created["image"]
    assert [t["name"] for t in repo["tags"]] == ["latest"]


def test_delete_stops_a_running_build_and_frees_the_name(api: PublicApi) -> None:
    api.call("POST", "inference/build/v2/", json=BODY)
    api.world.advance(30)
    deleted = api.call("DELETE", "inference/build/v2/cats-vs-dogs")
    assert deleted["status"]["phase"] == "CANCELLED"
    assert api.call("GET", "inference/build/v2/") == []
    api.call("GET", "inference/build/v2/cats-vs-dogs", status=404)
    api.call("DELETE", "inference/build/v2/cats-vs-dogs", status=404)
    api.call("POST", "inference/build/v1/", json=BODY)
    assert api.call("DELETE", "inference/build/v1/cats-vs-dogs")["deleted"] is True
    assert api.call("GET", "inference/build/v1/")["images"] == []


def test_unnamed_builds_get_numbered_names(api: PublicApi) -> None:
    body = {k: v for k, v in BODY.items() if k != "name"}
    first = api.call("POST", "inference/build/v2/", json=body)
    second = api.call("POST", "inference/build/v2/", json=body)
    assert [first["name"], second["name"]] == [
        "inference-image-0000000001",
        "inference-image-0000000002",
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"artifacts_directory": None},
        {"name": "-bad-"},
        {"name": "12345"},
        {"S3_ENDPOINT": None},  # neither s3_request nor all three S3 keys
        {"base_image": "docker.io/library/python:3.11"},
        {"run_script": 7},
    ],
)
def test_bad_build_is_422_and_starts_nothing(api: PublicApi, changes: dict[str, Any]) -> None:
    body = {k: v for k, v in {**BODY, **changes}.items() if v is not None}
    api.call("POST", "inference/build/v2/", json=body, status=422)
    assert api.call("GET", "inference/build/v2/") == []
    assert api.call("GET", "build-image/jobs")["jobs"] == []


def test_a_taken_name_is_422(api: PublicApi) -> None:
    api.call("POST", "inference/build/v2/", json=BODY)
    api.call("POST", "inference/build/v1/", json=BODY, status=422)
    assert len(api.call("GET", "inference/build/v2/")) == 1
