"""The SDK's https-only retry policy against injected faults, and what a retried POST implies.

``mls_core`` mounts ``Retry(total=max_retries, status_forcelist=[500, 502, 503, 504],
allowed_methods=[..., "POST"])`` on ``https://`` only. So over https a 5xx or a dropped
connection is retried, POST included; over http nothing is. A retry is safe when the failed
attempt never reached the platform, and creates a second job when it did.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from mls_core import TrainingJobApi

from mock_server.app import create_app
from mock_server.server import BackgroundServer, self_signed_pair, tls_context
from mock_server.testing import DEFAULT_START_EPOCH, running_server
from tests.reliability.support import CREDS, JOB

pytestmark = [
    pytest.mark.sdk,
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]


class HttpsServer:
    """A live https mock (self-signed) with the helpers these tests need."""

    def __init__(self, app: Any, port: int, cert: Path) -> None:
        self.app, self.cert = app, cert
        self.base_url = f"https://127.0.0.1:{port}"
        self.api_url = f"{self.base_url}/public/v2"

    def faults(self, *rules: dict[str, Any]) -> None:
        r = requests.put(
            f"{self.base_url}/_mock/faults", json={"rules": list(rules)}, verify=False, timeout=10
        )
        assert r.status_code == 200, r.json()

    def fault_counts(self) -> list[tuple[int, int]]:
        rules = requests.get(f"{self.base_url}/_mock/faults", verify=False, timeout=10).json()[
            "rules"
        ]
        return [(r["matched"], r["fired"]) for r in rules]

    def job_names(self) -> list[str]:
        jobs = self.app.extensions["mlspace_sim"].world.list_jobs(CREDS.workspace_id)
        return sorted(job.name for job in jobs)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_pair(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def https_server(pair: tuple[Path, Path]) -> Iterator[HttpsServer]:
    app = create_app(seed=0, start_epoch=DEFAULT_START_EPOCH)
    bg = BackgroundServer(app, tls=tls_context(*pair)).start()
    try:
        yield HttpsServer(app, bg.port, pair[0])
    finally:
        bg.stop()


@pytest.fixture
def srv(https_server: HttpsServer) -> HttpsServer:
    https_server.app.extensions["mlspace_sim"].reset()
    https_server.faults()
    return https_server


def sdk(url: str, *, retries: int = 5, verify: bool = False) -> TrainingJobApi:
    return TrainingJobApi(
        endpoint_url=url,
        client_id=CREDS.client_id,
        client_secret=CREDS.client_secret,
        x_workspace_id=CREDS.workspace_id,
        x_api_key=CREDS.api_key,
        max_retries=retries,
        backoff_factor=0.01,
        connect_timeout=5,
        read_timeout=30,
        ssl_verify=verify,
    )


def submit_rule(**extra: Any) -> dict[str, Any]:
    return {"fault": "error", "status": 503, "method": "POST", "path": "jobs", **extra}


def test_503s_before_creation_are_retried_and_the_job_is_submitted_once(srv: HttpsServer) -> None:
    api = sdk(srv.api_url)
    srv.faults(submit_rule(times=2))

    submitted = api.run_job(JOB)

    assert submitted["status"] == "Pending"
    assert srv.job_names() == [submitted["job_name"]]
    assert srv.fault_counts() == [(3, 2)]  # two refused attempts, then the one that counted


def test_when_retries_run_out_the_sdk_returns_none_and_nothing_was_created(
    srv: HttpsServer,
) -> None:
    api = sdk(srv.api_url, retries=2)
    srv.faults(submit_rule())

    assert api.run_job(JOB) is None  # mls_core swallows the RetryError
    assert srv.job_names() == []
    assert srv.fault_counts() == [(3, 3)]


@pytest.mark.parametrize(
    "after",
    [
        submit_rule(phase="after", times=1),
        {"fault": "drop", "method": "POST", "path": "jobs", "phase": "after", "times": 1},
    ],
    ids=["503-after-create", "drop-after-create"],
)
def test_a_fault_after_creation_turns_the_retry_into_a_duplicate(
    srv: HttpsServer, after: dict[str, Any]
) -> None:
    api = sdk(srv.api_url)
    srv.faults(after)

    submitted = api.run_job(JOB)

    names = srv.job_names()
    assert len(names) == 2 and submitted["job_name"] in names  # the user only ever saw one
    journal = requests.get(f"{srv.base_url}/_mock/journal?kind=job", verify=False, timeout=10)
    assert [e["action"] for e in journal.json()["entries"]] == ["submit", "submit"]


def test_over_plain_http_the_sdk_does_not_retry() -> None:
    with running_server(seed=0) as plain:
        requests.put(
            f"{plain.base_url}/_mock/faults", json={"rules": [submit_rule(times=1)]}, timeout=10
        )
        api = sdk(plain.api_url)

        assert api.run_job(JOB) == {
            "error_code": 503,
            "error_message": "Oops, something went wrong",
        }
        assert plain.world.list_jobs(CREDS.workspace_id) == []
        assert api.run_job(JOB)["status"] == "Pending"


def test_sdk_trusts_the_self_signed_certificate_through_requests_ca_bundle(
    srv: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        sdk(srv.api_url, retries=0, verify=True)

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(srv.cert))
    api = sdk(srv.api_url, verify=True)
    assert api.run_job(JOB)["status"] == "Pending"
    big = requests.get(f"{srv.api_url}/openapi.json", timeout=10)  # a large body through TLS
    assert big.status_code == 200 and big.json()["openapi"] == "3.1.0"


def test_serve_flags_start_https_with_an_admin_token(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "mlspace_sim.cli", "serve", "--port", "0", "--clock", "manual"]
    cmd += ["--tls-self-signed", str(tmp_path), "--admin-token", "s3cret"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while len(lines) < 20 and not any(ln.startswith("admin API") for ln in lines):
            lines.append(proc.stdout.readline())
            if not lines[-1]:  # the process ended: its output says why
                break
        banner = "".join(lines)
        url = lines[0].split()[-1]
        assert url.startswith("https://127.0.0.1:") and url.endswith("/public/v2"), banner
        assert f"TLS certificate: {tmp_path / 'cert.pem'}" in banner
        assert "x-admin-token required" in banner
        admin = url.replace("/public/v2", "/_mock/clock")
        cert = str(tmp_path / "cert.pem")
        assert requests.get(admin, verify=cert, timeout=10).status_code == 401
        assert requests.get(admin, verify=cert, headers={"x-admin-token": "s3cret"}, timeout=10).ok
    finally:
        proc.terminate()
        proc.wait(timeout=10)
