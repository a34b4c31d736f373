"""The real ``mls_core`` SDK in-process: ``TrainingJobApi`` against a live server."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from mls_core import TrainingJobApi
from mls_core.exceptions import AuthorizationError

from mock_server.testing import DEFAULT_START_EPOCH, MockServer
from tests.contract.conftest import advance_until, wait_until

pytestmark = pytest.mark.sdk

STARTED_S = 25
BODY = {
    "script": "/home/jovyan/train.py",
    "base_image": "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40",
    "instance_type": "a100plus.1gpu.80vG.12C.96G",
    "region": "SR006",
    "type": "pytorch2",
    "n_workers": 1,
    "job_desc": "sdk",
    "env_variables": {"MLSPACE_SIM_RUNTIME_S": "30"},
}


def make_api(srv: MockServer, **overrides: str) -> TrainingJobApi:
    kwargs = {**srv.sdk_credentials(), **overrides}
    return TrainingJobApi(
        endpoint_url=srv.api_url, max_retries=1, backoff_factor=0.1, connect_timeout=5,
        read_timeout=30, ssl_verify=False, **kwargs,
    )  # fmt: skip


@pytest.fixture
def api(srv: MockServer) -> TrainingJobApi:
    return make_api(srv)


def lines_of(srv: MockServer, name: str) -> list[str]:
    return srv.world.job_logs(srv.world.get_job(name))


def test_constructor_authenticates_at_once(srv: MockServer) -> None:
    with pytest.raises(AuthorizationError):
        make_api(srv, client_secret="")
    api = make_api(srv)
    assert api._session.headers["authorization"].startswith("eyJ")  # the raw token, no Bearer


def test_submit_status_list_logs_delete_restart(api: TrainingJobApi, srv: MockServer) -> None:
    sub = api.run_job(BODY)
    name = sub["job_name"]
    assert sub == {"job_name": name, "status": "Pending", "created_at": int(DEFAULT_START_EPOCH)}
    assert api.get_job_status(name)["status"] == "pending"
    assert api.get_job_logs(name, "SR006") == f"Job {name} in queue. Try later\n"

    listing = api.get_list_jobs("SR006", None, None, None, None, ("Pending",), 6000, 0)
    assert [j["job_name"] for j in listing["jobs"]] == [name]
    assert listing["jobs"][0]["status"] == "Pending" and listing["jobs"][0]["job_desc"] == "sdk"
    since = datetime(2025, 2, 26, 9, 59, 59)  # sent as "2025-02-26 09:59:59"
    assert api.get_list_jobs("SR006", None, since, None, None, (), 6000, 0)["count"] == 1
    assert api.get_list_jobs("SR006", None, None, since, None, (), 6000, 0)["count"] == 0

    srv.advance(STARTED_S + 60)
    assert api.get_job_status(name)["status"] == "completed"
    text = api.get_job_logs(name, "SR006", 2, True)
    newest = lines_of(srv, name)[::-1][:2]
    assert [ln.split(" ", 1)[1] for ln in text.splitlines()] == newest

    restarted = api.restart_job(name)
    assert restarted["status"] == "Pending" and restarted["job_name"] != name
    deleted = api.delete_job(restarted["job_name"], "SR006")
    assert deleted["status"] == "deleted" and deleted["job_name"] == restarted["job_name"]
    assert api.get_job_status(restarted["job_name"])["status"] == "deleted"
    assert api.get_pods(name) == {"pods": []}


def test_errors_come_back_as_results_not_exceptions(api: TrainingJobApi) -> None:
    bad = api.run_job({**BODY, "n_gpus": 1})
    assert bad["detail"][0]["loc"] == ["body", "n_gpus"]
    assert api.restart_job("lm-mpi-job-none") == {"error_code": 1, "error_message": "not found"}
    assert api.get_job_status("lm-mpi-job-none")["status"] == "job not found"


def test_stream_logs_follows_a_running_job_line_by_line(
    api: TrainingJobApi, srv: MockServer
) -> None:
    name = api.run_job(BODY)["job_name"]
    advance_until(srv, lambda: srv.world.get_job(name).status == "Running")
    pieces: list[str] = []

    def read() -> None:
        for piece in api.stream_logs(name, "SR006"):
            pieces.append(piece)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    wait_until(lambda: any("All workers are READY" in p for p in pieces))
    assert reader.is_alive() and not any("Epoch" in p for p in pieces)  # held open
    srv.advance(10)  # new lines reach the open stream as virtual time passes
    wait_until(lambda: any("Epoch 0" in p for p in pieces))  # PyTorch DDP counts from 0
    srv.advance(60)
    reader.join(timeout=20)
    assert not reader.is_alive()  # closed by the server once the job ended
    assert api.get_job_status(name)["status"] == "completed"
    assert pieces == [f"{ln}\n" for ln in lines_of(srv, name)]


def test_stream_logs_of_a_finished_job_is_one_line_per_piece(
    api: TrainingJobApi, srv: MockServer
) -> None:
    long_dir = "/home/jovyan/" + "данные" * 30  # a 400-byte "Working dir" line
    name = api.run_job({**BODY, "script": f"{long_dir}/train.py"})["job_name"]
    srv.advance(STARTED_S + 60)
    pieces = list(api.stream_logs(name, "SR006", 0, True))
    assert "".join(pieces) == "".join(
        f"{ln}\n" for ln in srv.world.job_logs(srv.world.get_job(name), timestamps=True)
    )
    assert all(len(p.encode()) <= 256 for p in pieces)
    split = [p for p in pieces if not p.endswith("\n")]
    assert split and all("данные" in p for p in split)  # only the long line was cut
    assert sum(p.count("\n") for p in pieces) == len(pieces) - len(split)
