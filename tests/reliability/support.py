"""Shared helpers for the reliability tests: apps built from a config mapping, auth headers."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient

from mock_server import create_app
from mock_server.testing import DEFAULT_START_EPOCH, Credentials

CREDS = Credentials()
JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40",
    "instance_type": "a100plus.1gpu.80vG.12C.96G",
    "region": "SR006",
    "type": "pytorch2",
    "n_workers": 1,
    "job_desc": "reliability",
}


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
