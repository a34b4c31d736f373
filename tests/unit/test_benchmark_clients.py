"""``benchmarks/api.py`` measures with two clients: the light one must speak to our server as the
SDK's ``requests`` session does (same answers), or its pairs/s would measure something else."""

from __future__ import annotations

import pytest

from mock_server.testing import running_server
from tests.support.bench import bench_script

api = bench_script("api")


@pytest.mark.parametrize("client", sorted(api.CLIENTS))
def test_each_client_submits_and_reads_a_job_alike(client: str) -> None:
    with running_server(seed=1) as srv:
        s = api.CLIENTS[client]()
        s.headers.update(srv.headers())
        submitted = s.post(f"{srv.api_url}/jobs", json=api.JOB)
        submitted.raise_for_status()
        name = submitted.json()["job_name"]
        status = s.get(f"{srv.api_url}/jobs/{name}")
        assert status.status_code == 200
        assert status.json()["status"] == "pending"
        assert srv.world.get_job(name) is not None  # the server saw the same body


def test_the_light_client_reports_a_refusal_as_requests_does() -> None:
    with running_server(seed=1) as srv:
        answer = api.LightSession().get(f"{srv.api_url}/jobs/lm-mpi-job-x")  # no credentials
        assert answer.status_code == 401
        with pytest.raises(RuntimeError, match="HTTP 401"):
            answer.raise_for_status()
