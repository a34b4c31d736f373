"""Shared helpers for the reliability tests: apps built from a config mapping, auth headers,
the schemathesis runs' app, settings and call."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from mock_server import create_app
from mock_server.testing import DEFAULT_START_EPOCH, Credentials
from tests.support.fuzzing import steer

CREDS = Credentials()


def make_app(config: dict[str, Any] | None = None, **kwargs: Any) -> Flask:
    """An app started with ``config`` as its ``--config`` file (manual clock, fixed start)."""
    kwargs.setdefault("start_epoch", DEFAULT_START_EPOCH)
    if config is None:
        return create_app(**kwargs)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        return create_app(config_path=path, **kwargs)


def auth_headers(client: FlaskClient, workspace_id: str = CREDS.workspace_id) -> dict[str, str]:
    """The SDK's headers for a workspace (a fresh token from ``service_auth``)."""
    r = client.post(
        "/public/v2/service_auth",
        json={"client_id": CREDS.client_id, "client_secret": CREDS.client_secret},
    )
    assert r.status_code == 200, r.json
    return {
        "authorization": r.json["token"]["access_token"],
        "x-workspace-id": workspace_id,
        "x-api-key": CREDS.api_key,
    }


def fuzz_app() -> Flask:
    """The app a fuzzer drives: the clock is manual, so a running job's log stream (held open
    while the job runs) is cut short."""
    return create_app(
        start_epoch=DEFAULT_START_EPOCH, settings={"log_follow_max_s": 0.05, "log_poll_s": 0.01}
    )


def fuzz_settings(max_examples: int) -> Any:
    """Hypothesis settings of the schemathesis runs: the same cases on every run (raise
    ``max_examples`` to explore further)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )


def send_fuzzed(case: Any, client: FlaskClient, checks: list[Any]) -> None:
    """Send a fuzzed ``case`` with a fresh token (a fuzzed clock advance may expire one),
    steered to entities that exist, and run ``checks`` on the answer."""
    headers = auth_headers(client)
    steer(case, CREDS)
    response = case.call(headers=headers)
    case.validate_response(response, checks=checks, headers=headers)


# A job and a Jupyter image the persistence and crash tests submit.
JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "cr.ai.cloud.ru/aicloud-base-images/horovod-cuda11.0-tf2.4.0:0.0.1",
    "instance_type": "v100.2gpu",
    "region": "DGX2-MT",
}
IMAGE = {
    "name": "cr.ai.cloud.ru/aicloud-jupyter/jupyter-server",
    "tag": "0.0.95",
    "type": "datahub",
}
