"""client_lib's NFS→S3 helpers end to end against a live mock (``mlspace_server``): the notebook's
``copy_from_nfs`` / ``get_transfer_data_logs`` cells and ``S3CopyJob``, with virtual time moved
between them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

import client_lib
from client_lib._session import Settings, close_connections
from mock_server.testing import MockServer

RELATIVE = "aicloud-examples/quick-start/job_launch_tf2"
CHECKPOINTS = f"{RELATIVE}/checkpoints_tf/mnist_convnet_model"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
OTHER_TEAM = {"workspace_id": "22222222-2222-4222-8222-222222222222", "api_key": "other-team-key"}


@pytest.fixture
def server(mlspace_server: MockServer) -> Iterator[MockServer]:
    """client_lib pointed at the fixture's server."""
    with client_lib.use(Settings(url=mlspace_server.api_url)):
        yield mlspace_server
        close_connections()


def copy_checkpoints() -> client_lib.TransferData:
    """The notebook's cell, as written there."""
    return client_lib.copy_from_nfs(
        source_path=f"{RELATIVE}/checkpoints_tf/mnist_convnet_model/",
        from_region=client_lib.RegionEnum.SR002_MT,
        destination_path="quck-start",
    )


def test_copy_from_nfs_returns_transfer_data_shaped_like_the_2024_output(
    server: MockServer,
) -> None:
    data = copy_checkpoints()
    ws = Settings().workspace_id
    shape = (
        rf"TransferData\(id='(?P<id>{UUID})', created_transfer_data=\{{"
        rf"'cluster_name': 'pd11', 'connector_id': '{ws}', "
        r"'created': '(?P<created>[0-9T:.-]+)', "
        r"'description': 'Copy data from NFS\. Called from jupyter client_lib', "
        rf"'destination_connector_id': '{UUID}', 'destination_source_category': 's3mlspace', "
        r"'execution_date': None, 'modified': '(?P=created)', "
        rf"'name': 'from_nfs-{UUID}-{ws}', "
        rf"'query': \{{'destination': 'quck-start', 'source': \['{CHECKPOINTS}'\]\}}, "
        r"'source_category': 'nfs', 'strategy': 'write_all', 'system': False, "
        rf"'transfer_id': '(?P=id)', 'user_id': '{UUID}', 'workspace_id': '{ws}'\}}\)"
    )
    found = re.fullmatch(shape, repr(data))
    assert found, repr(data)
    assert found["id"] == data.id and found["created"] == "2025-02-26T10:00:00"


def test_transfer_logs_list_each_file_and_fill_in_as_the_copy_runs(server: MockServer) -> None:
    data = copy_checkpoints()
    started = client_lib.get_transfer_data_logs(data.id)
    assert [e["message"] for e in started] == ["Add source"] + ["Add object"] * 3 + [
        "Start transfer"
    ]
    server.advance(60)
    assert client_lib.get_transfer_data_logs(data.id) == [
        {"error": False, "message": "Add source", "path": CHECKPOINTS},
        {
            "error": False,
            "message": "Add object",
            "path": f"{CHECKPOINTS}/checkpoint.ckpt.data-00000-of-00001",
        },
        {"error": False, "message": "Add object", "path": f"{CHECKPOINTS}/checkpoint.ckpt.index"},
        {"error": False, "message": "Add object", "path": f"{CHECKPOINTS}/checkpoint"},
        {"error": False, "message": "Start transfer", "path": CHECKPOINTS},
        {"error": False, "message": "File transfer success", "path": "checkpoint"},
        {"error": False, "message": "File transfer success", "path": "checkpoint.ckpt.index"},
        {
            "error": False,
            "message": "File transfer success",
            "path": "checkpoint.ckpt.data-00000-of-00001",
        },
    ]


def test_another_workspace_cannot_read_the_copys_log(server: MockServer) -> None:
    data = copy_checkpoints()
    other = Settings(url=server.api_url, **OTHER_TEAM)
    with client_lib.use(other), pytest.raises(client_lib.ClientLibError, match="not found"):
        client_lib.get_transfer_data_logs(data.id)


def test_s3_copy_job_creates_a_copy_from_the_default_regions_nfs(server: MockServer) -> None:
    client_lib.save_aws_credentials("", "", "")
    job = client_lib.S3CopyJob(
        "/home/jovyan/quick-start/job_launch/checkpoints_tf/mnist_convnet_model/",
        "s3://my-bucket/checkpoints",
        recursive=True,
    )
    out = job.submit()
    assert re.fullmatch(
        r"S3CopyJob \"\{'name': 'copying-job-[a-z0-9]{5}', 'status': 'ok'\}\" "
        r"created",
        out,
    )
    assert job.name and f"'name': '{job.name}'" in out
    server.advance(60)
    rules = requests.get(
        f"{server.api_url}/data_transfer/v4/transfer", headers=server.headers(), timeout=10
    ).json()
    [rule] = rules
    assert rule["cluster_name"] == "christofari-1"  # DGX2-MT's NFS, sent as V100
    assert rule["query"] == {
        "destination": "checkpoints",
        "source": ["quick-start/job_launch/checkpoints_tf/mnist_convnet_model"],
    }
    assert rule["execution_date"] is not None
