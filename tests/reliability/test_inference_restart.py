"""A restart from the state file rebuilds the same deployments, builds and async requests: every
inference command replays to the same replicas, answers and bill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mock_server import persistence
from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from tests.support.public_api import PublicApi

WS = "11111111-1111-4111-8111-111111111111"
REGION = "CCE-INF"
BUILD = {
    "name": "served",
    "artifacts_directory": "bucket/model",
    "requirements_path": "requirements.txt",
    "s3_request": {"bucket": "bucket"},
}


def drive(api: PublicApi) -> str:
    api.call("POST", "inference/build/v2/", json=BUILD)
    body = {
        "image": f"cr.ai.cloud.ru/{WS}/served",
        "region": REGION,
        "instance_type": "cpu.2C.8G",
        "replicas": {"min": 0, "max": 2},
    }
    name = api.call("POST", "inference/v2/", json=body)["metadata"]["name"]
    api.client.post("/_mock/clock/advance", json={"seconds": 120})
    api.raw("POST", f"inference/v2/predict/{name}/{name}/", json={"instances": [1, 2]})
    path = f"async_inferences/v1/{REGION}/{name}/v1/models/{name}:predict"
    api.raw("POST", path, json={"instances": [3]}, headers={"x-async-request": "true"})
    api.call("POST", "dalle/v1/predict/kandinsky", json={"query": "a cat"})
    api.client.post("/_mock/clock/advance", json={"seconds": 3600})
    return name


def observe(api: PublicApi, name: str) -> dict[str, Any]:
    return {
        "deployments": api.call("GET", "inference/v2/"),
        "images": api.call("GET", "inference/build/v2/"),
        "requests": api.call("GET", "async_inferences/v1/", query_string={"inference_name": name}),
        "billing": api.client.get("/_mock/billing").get_json(),
    }


def test_a_restart_rebuilds_the_same_inference_world(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = create_app(state_file=path, seed=3, start_epoch=DEFAULT_START_EPOCH)
    api = PublicApi(app, WS)
    name = drive(api)
    before = observe(api, name)
    assert before["deployments"]["inferences"][0]["status"]["phase"] == "ScaledToZero"
    assert len(before["requests"]["data"]) == 1
    persistence.of(app).close()

    again = create_app(state_file=path)
    assert persistence.resume(again) == 7
    restarted = PublicApi(again, WS)
    assert observe(restarted, name) == before
