"""client_lib pieces a user meets outside the happy path: settings from the environment, the
instance-type table, refusals, and the NFS→S3 copy helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import jsonify, request

import client_lib
from client_lib._session import Settings, close_connections
from client_lib._table import BoxTable
from mock_server.app import create_app
from mock_server.server import BackgroundServer
from mock_server.testing import Credentials, MockServer

WS = Credentials().workspace_id
TRANSFER_ID = "544881fa-55b7-4f57-9b34-5ddb7293440a"


def test_settings_default_to_a_local_server_and_the_mocks_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("URL", "KEY_ID", "KEY_SECRET", "WORKSPACE_ID", "API_KEY", "NFS_ROOT"):
        monkeypatch.delenv(f"MLSPACE_SIM_{var}", raising=False)
    s = Settings.from_env()
    c = Credentials()
    assert s.url == "http://127.0.0.1:8080/public/v2"
    assert (s.client_id, s.client_secret, s.workspace_id, s.api_key) == (
        c.client_id,
        c.client_secret,
        c.workspace_id,
        c.api_key,
    )
    monkeypatch.setenv("MLSPACE_SIM_URL", "http://10.0.0.1:9000/public/v2/")
    monkeypatch.setenv("MLSPACE_SIM_WORKSPACE_ID", "ws-2")
    s = Settings.from_env()
    assert (s.url, s.workspace_id) == ("http://10.0.0.1:9000/public/v2", "ws-2")


def test_table_is_drawn_like_rich_heavy_head() -> None:
    table = BoxTable(("region", "instance_type", "gpu"), [("SR003", "cpu.2C.8G", "0")])
    assert str(table) == (
        "┏━━━━━━━━┳━━━━━━━━━━━━━━━┳━━━━━┓\n"
        "┃ region ┃ instance_type ┃ gpu ┃\n"
        "┡━━━━━━━━╇━━━━━━━━━━━━━━━╇━━━━━┩\n"
        "│ SR003  │ cpu.2C.8G     │ 0   │\n"
        "└────────┴───────────────┴─────┘"
    )


def test_refusals_carry_the_servers_reason(ml_space: MockServer) -> None:
    old = client_lib.Job(
        base_image="cr.ai.cloud.ru/aicloud-base-images/horovod-cuda10.0-tf1.15.0-pt1.3.0",
        script="/home/jovyan/quick-start/job_launch_tf2/tensorflow_mnist_estimator.py",
        n_workers=2,
        n_gpus=4,
        warm_cache=False,
        instance_type="v100.4gpu",
    )
    with pytest.raises(
        client_lib.ClientLibError, match=r"body\.n_gpus: Extra inputs are not permitted"
    ):
        old.submit()
    with pytest.raises(client_lib.ClientLibError, match="call submit"):
        old.status()
    missing = client_lib.ImageBuildJob("cr.ai.cloud.ru/aicloud-base-images/x", "/nowhere/req.txt")
    with pytest.raises(client_lib.ClientLibError, match="Can't read requirements_file"):
        missing.submit()


def test_wrong_keys_are_refused_before_any_job_call(ml_space: MockServer) -> None:
    bad = Settings.from_env().with_(client_id="", client_secret="")
    with client_lib.use(bad), pytest.raises(client_lib.ClientLibError, match="invalid user"):
        client_lib.jobs(region="SR002-MT")


def _created(body: dict[str, Any]) -> dict[str, Any]:
    """A ``CreateTransferResponse`` as the spec shapes it."""
    now = "2024-05-23T12:51:26.271409"
    return {
        "transfer_id": TRANSFER_ID,
        "user_id": "0a4b8c1e-1111-4222-8333-444455556666",
        "cluster_name": "pd11",
        "connector_id": WS,
        "destination_connector_id": "7d1c0f7e-1111-4222-8333-444455556666",
        "workspace_id": WS,
        "name": f"from_nfs-{TRANSFER_ID}-{WS}",
        "description": "Copy data from NFS. Called from jupyter client_lib",
        "source_category": "nfs",
        "destination_source_category": "s3mlspace",
        "strategy": body["strategy"],
        "system": False,
        "query": {"destination": body["destination_path"], "source": [body["source_path"]]},
        "created": now,
        "modified": now,
        "execution_date": None,
    }


@pytest.fixture
def transfer_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """The mock plus the two copy endpoints client_lib calls, recording request bodies."""
    app = create_app(clock="manual")
    seen: list[dict[str, Any]] = []

    def nfs_to_s3() -> Any:
        seen.append(request.get_json())
        return jsonify(_created(seen[-1]))

    def aicloud_logs(transfer_id: str) -> Any:
        src = "aicloud-examples/quick-start/job_launch_tf2/checkpoints_tf/mnist_convnet_model"
        return jsonify(
            [
                {"error": False, "message": "Add source", "path": src},
                {"error": False, "message": "Add object", "path": f"{src}/checkpoint"},
                {"error": False, "message": "Start transfer", "path": src},
                {"error": False, "message": "File transfer success", "path": "checkpoint"},
            ]
        )

    app.view_functions["data_transfer.nfs_to_s3"] = nfs_to_s3
    app.view_functions["data_transfer.aicloud_logs"] = aicloud_logs
    bg = BackgroundServer(app).start()
    monkeypatch.setenv("MLSPACE_SIM_URL", f"http://127.0.0.1:{bg.port}/public/v2")
    try:
        yield seen
    finally:
        close_connections()
        bg.stop()


def test_copy_from_nfs_returns_transfer_data_and_its_logs(
    transfer_server: list[dict[str, Any]],
) -> None:
    relative_path = "aicloud-examples/quick-start/job_launch_tf2"
    data = client_lib.copy_from_nfs(
        source_path=f"{relative_path}/checkpoints_tf/mnist_convnet_model/",
        from_region=client_lib.RegionEnum.SR002_MT,
        destination_path="quck-start",
    )
    assert repr(data).startswith(
        f"TransferData(id='{TRANSFER_ID}', created_transfer_data={{'cluster_name': 'pd11', "
        f"'connector_id': '{WS}', 'created': '2024-05-23T12:51:26.271409', "
    )
    assert data.created_transfer_data["query"] == {
        "destination": "quck-start",
        "source": [f"{relative_path}/checkpoints_tf/mnist_convnet_model"],
    }
    sent = transfer_server[0]
    assert sent["from_region"] == "SR002-MT" and sent["strategy"] == "write_all"
    assert set(sent["s3_credentials"]) == {"endpoint", "bucket", "access_key_id", "security_key"}
    messages = [e["message"] for e in client_lib.get_transfer_data_logs(data.id)]
    assert messages == ["Add source", "Add object", "Start transfer", "File transfer success"]


def test_s3_copy_job_uses_the_saved_keys(transfer_server: list[dict[str, Any]]) -> None:
    client_lib.save_aws_credentials("ns-1", "AKIA-TEST", "secret")
    out = client_lib.S3CopyJob(
        "/home/jovyan/quick-start/job_launch/checkpoints_tf/mnist_convnet_model/",
        "s3://my-bucket/checkpoints",
        recursive=True,
    ).submit()
    assert out.startswith("S3CopyJob \"{'name': 'copying-job-") and out.endswith(
        "', 'status': 'ok'}\" created"
    )
    sent = transfer_server[0]
    assert sent["source_path"] == "quick-start/job_launch/checkpoints_tf/mnist_convnet_model"
    assert sent["from_region"] == "V100"  # the NFS of the default region, DGX2-MT
    assert sent["s3_credentials"]["bucket"] == "my-bucket"
    assert sent["s3_credentials"]["access_key_id"] == "AKIA-TEST"
