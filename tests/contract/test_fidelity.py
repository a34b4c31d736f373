"""Wire-level fidelity of the jobs area: the platform quirks the SDK depends on (api-contract.md
sections 3, 6.2-6.8, 7, 8 and the checklist of section 9), checked over real HTTP."""

from __future__ import annotations

import re
import threading
import time
from decimal import Decimal
from typing import Any

import pytest
import requests
from mls_core import TrainingJobApi

from mock_server.testing import DEFAULT_START_EPOCH, MockServer, running_server
from tests.contract.conftest import advance_until, wait_until

STARTED_S = 25
ONE_GPU = "a100plus.1gpu.80vG.12C.96G"
EIGHT_GPU = "a100plus.8gpu.80vG.96C.1952G"
LOG_TEXT = "text/plain; charset=utf-8"
LONG_DIR = "/home/jovyan/" + "данные-🚀" * 25  # a "Working dir" line of ~560 bytes


class Http:
    """Plain ``requests`` with the SDK's headers (raw token) against one server."""

    def __init__(self, srv: MockServer) -> None:
        self.srv = srv
        self.headers = srv.headers()

    def __call__(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("headers", self.headers)
        return requests.request(method, f"{self.srv.api_url}/{path}", timeout=30, **kw)

    def json(self, method: str, path: str, **kw: Any) -> Any:
        r = self(method, path, **kw)
        assert r.headers["Content-Type"] == "application/json"
        return r.json()

    def submit(self, **extra: Any) -> str:
        body = {
            "script": "/home/jovyan/train.py",
            "base_image": "cr.ai.cloud.ru/img:1",
            "instance_type": ONE_GPU,
            "region": "SR006",
            "type": "binary",
            "env_variables": {"MLSPACE_SIM_RUNTIME_S": "60"},
            **extra,
        }
        r = self("POST", "jobs", json=body)
        assert r.status_code == 200, r.text
        return r.json()["job_name"]


@pytest.fixture
def http(srv: MockServer) -> Http:
    return Http(srv)


# ---- content types ------------------------------------------------------------------------------
def test_every_json_answer_has_the_exact_content_type(
    http: Http, srv: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {
        200: http("GET", "jobs", params={"region": "SR006"}),
        401: http("GET", "jobs", headers={}),
        404: http("GET", "no/such/path"),
        405: http("PUT", "jobs"),
        413: http("POST", "jobs", data=b"{" + b" " * (2 << 20) + b"}"),
        422: http("POST", "jobs", json={"script": 1}),
    }

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("engine failure")

    monkeypatch.setattr(srv.world, "get_job", boom)
    answers[500] = http("GET", "jobs/x")
    for status, r in answers.items():
        assert (r.status_code, r.headers["Content-Type"]) == (status, "application/json")
        assert isinstance(r.json(), dict)
    assert answers[500].json() == {"error_code": 500, "error_message": "Oops, something went wrong"}
    assert answers[401].json()["error_code"] == 19


# ---- logs on the wire ---------------------------------------------------------------------------
def chunks_of(r: requests.Response) -> list[bytes]:
    """The HTTP chunks exactly as sent (urllib3 yields one per chunk)."""
    return list(r.raw.read_chunked(decode_content=False))


def assert_line_per_chunk(chunks: list[bytes], lines: list[str]) -> None:
    assert b"".join(chunks) == "".join(f"{ln}\n" for ln in lines).encode()
    for chunk in chunks:
        chunk.decode("utf-8")  # a multibyte character is never split between chunks
        assert len(chunk) <= 256
        assert chunk.endswith(b"\n") or len(chunk) > 252  # only an over-long line is cut
        assert b"\n" not in chunk[:-1]  # never two lines in one chunk


def test_logs_are_chunked_utf8_text_one_line_per_chunk(http: Http, srv: MockServer) -> None:
    name = http.submit(script=f"{LONG_DIR}/train.py")
    srv.advance(STARTED_S + 60)
    r = http("GET", f"jobs/{name}/logs", params={"region": "SR006", "verbose": "True"},
             stream=True)  # fmt: skip
    assert r.headers["Content-Type"] == LOG_TEXT
    assert r.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in r.headers
    chunks = chunks_of(r)
    lines = srv.world.job_logs(srv.world.get_job(name), timestamps=True)
    assert any(len(ln.encode()) > 256 for ln in lines)
    assert_line_per_chunk(chunks, lines)
    assert len(chunks) > len(lines)


def test_a_running_jobs_log_stream_stays_open_until_the_job_ends(
    http: Http, srv: MockServer
) -> None:
    name = http.submit(script=f"{LONG_DIR}/train.py")
    advance_until(srv, lambda: srv.world.get_job(name).status == "Running")
    chunks: list[bytes] = []
    ended = threading.Event()

    def read() -> None:
        r = http("GET", f"jobs/{name}/logs", params={"verbose": "False"}, stream=True)
        assert r.headers["Transfer-Encoding"] == "chunked"
        for chunk in r.raw.read_chunked(decode_content=False):
            chunks.append(chunk)
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    wait_until(lambda: any(b"All workers are READY" in c for c in chunks))
    assert not ended.wait(0.2)  # still open: the job runs
    seen = len(chunks)
    assert not any(b"Epoch" in c for c in chunks)
    srv.advance(20)
    wait_until(lambda: any(b"Epoch 2/" in c for c in chunks))
    assert not ended.is_set() and len(chunks) > seen
    srv.advance(60)
    assert ended.wait(10)  # closed once the job left Running
    assert_line_per_chunk(chunks, srv.world.job_logs(srv.world.get_job(name)))


def test_a_log_stream_is_held_at_most_log_follow_max_s() -> None:
    with running_server(seed=0, settings={"log_follow_max_s": 0.3}) as srv:
        http = Http(srv)
        name = http.submit()
        srv.advance(STARTED_S)
        began = time.monotonic()
        r = http("GET", f"jobs/{name}/logs")
        assert time.monotonic() - began < 5 and r.status_code == 200
        assert "All workers are READY" in r.text
        assert http.json("GET", f"jobs/{name}")["status"] == "running"  # the clock was frozen


def test_tail_pending_and_unknown_logs(http: Http, srv: MockServer) -> None:
    name = http.submit()
    pending = http("GET", f"jobs/{name}/logs", params={"region": "SR006", "tail": 0})
    assert (pending.status_code, pending.headers["Content-Type"]) == (200, LOG_TEXT)
    assert pending.text == f"Job {name} in queue. Try later\n"
    srv.advance(STARTED_S + 60)
    lines = srv.world.job_logs(srv.world.get_job(name))
    tail = http("GET", f"jobs/{name}/logs", params={"tail": 3, "verbose": "false"})
    assert tail.text.splitlines() == lines[::-1][:3]  # newest first
    whole = http("GET", f"jobs/{name}/logs", params={"tail": 0, "verbose": "0"})
    assert whole.text.splitlines() == lines
    assert http.json("GET", "jobs/lm-mpi-job-gone/logs")["status"] == "job not found"
    for bad in ({"tail": "-1"}, {"tail": "x"}, {"verbose": "maybe"}):
        assert http("GET", f"jobs/{name}/logs", params=bad).status_code == 422


# ---- job status and list shapes -----------------------------------------------------------------
def test_status_lowercase_with_integer_timestamps(http: Http, srv: MockServer) -> None:
    name = http.submit()
    t0 = int(DEFAULT_START_EPOCH)
    body = http.json("GET", f"jobs/{name}")
    assert body["status"] == "pending"
    assert [body[k] for k in ("created_at", "pending_at", "running_at", "completed_at")] == [
        t0, t0, 0, 0,
    ]  # fmt: skip
    srv.advance(STARTED_S + 60)
    body = http.json("GET", f"jobs/{name}")
    assert body["status"] == "completed" and (body["error_code"], body["error_message"]) == (0, "")
    assert all(type(body[k]) is int for k in ("running_at", "completed_at"))
    assert t0 < body["running_at"] < body["completed_at"] <= t0 + STARTED_S + 60
    assert http("GET", "jobs/lm-mpi-job-gone").status_code == 200
    assert http.json("GET", "jobs/lm-mpi-job-gone") == {
        "job_name": "lm-mpi-job-gone",
        "status": "job not found",
        "error_code": 0,
        "error_message": "job not found",
    }


def test_list_items_are_capitalised_with_string_cost_and_duration(
    http: Http, srv: MockServer
) -> None:
    done, running = http.submit(), http.submit(env_variables={"MLSPACE_SIM_RUNTIME_S": "900"})
    pending = http.submit(instance_type=EIGHT_GPU, n_workers=125)  # all 1000 GPUs: waits
    srv.advance(STARTED_S + 70)
    jobs = {j["job_name"]: j for j in http.json("GET", "jobs", params={"region": "SR006"})["jobs"]}
    assert [jobs[n]["status"] for n in (done, running, pending)] == [
        "Completed", "Running", "Pending",
    ]  # fmt: skip
    for job in jobs.values():
        assert re.fullmatch(r"\d+\.\d\d", job["cost"])
        assert re.fullmatch(r"\d+s", job["duration"])
        for key in ("job_desc", "instance_type", "job_name", "queue_name", "allocation_name"):
            assert isinstance(job[key], str)
    assert (jobs[done]["duration"], jobs[done]["cost"]) == ("60s", "5.00")  # 60 s x 300/h
    assert (jobs[pending]["duration"], jobs[pending]["cost"]) == ("0s", "0.00")
    assert jobs[pending]["gpu_count"] == 1000


def test_delete_is_logical_and_idempotent(http: Http, srv: MockServer) -> None:
    name = http.submit()
    srv.advance(STARTED_S)
    for target in (name, name, "lm-mpi-job-never-existed"):
        body = http.json("DELETE", f"jobs/{target}", params={"region": "SR006"})
        assert body == {
            "job_name": target,
            "deleted_at": str(int(srv.world.now_epoch())),  # fresh on every call
            "status": "deleted",
            "error_code": 0,
            "error_message": "",
        }
        srv.advance(1)
    assert http.json("GET", f"jobs/{name}")["status"] == "deleted"
    listing = http.json("GET", "jobs", params={"region": "SR006", "status": "Deleted"})
    assert [j["job_name"] for j in listing["jobs"]] == [name]


def test_list_needs_a_region_and_accepts_the_sdks_query_forms(http: Http) -> None:
    name = http.submit()
    empty = {"count": 0, "jobs": [], "status": "ok", "error_code": 0, "error_message": ""}
    assert http.json("GET", "jobs") == empty
    assert http.json("GET", "jobs", params={"region": ""}) == empty

    def names(query: str) -> list[str]:
        r = http("GET", f"jobs?region=SR006&{query}")
        assert r.status_code == 200, r.text
        return [j["job_name"] for j in r.json()["jobs"]]

    assert names("status=Pending&status=Running&limit=6000&offset=0") == [name]
    assert names("start_date=2025-02-26+09%3A59%3A59") == [name]  # str(datetime): a space
    assert names("start_date=2025-02-26T10:00:01Z") == []
    assert names("end_date=2025-02-26T10:00:00%2B00:00") == [name]
    assert http("GET", "jobs?region=SR006&status=pending").status_code == 422
    assert http("GET", "jobs?region=SR006&start_date=yesterday").status_code == 422


def test_double_slashes_route_like_single_ones(http: Http, srv: MockServer) -> None:
    api = TrainingJobApi(
        endpoint_url=srv.api_url + "/", max_retries=1, **srv.sdk_credentials()
    )  # the SDK joins f"{endpoint}/{path}": ".../public/v2//jobs"
    name = api.run_job({"script": "/home/jovyan/a.py", "base_image": "i", "instance_type": ONE_GPU,
                        "region": "SR006"})["job_name"]  # fmt: skip
    assert api.get_job_status(name)["status"] == "pending"
    assert http.json("GET", f"/jobs//{name}")["job_name"] == name


# ---- submission rules ---------------------------------------------------------------------------
def test_unknown_body_fields_and_bad_enums_are_422_naming_the_field(http: Http) -> None:
    base = {"script": "/home/jovyan/a.py", "base_image": "i", "instance_type": ONE_GPU}
    r = http("POST", "jobs", json={**base, "region": "SR006", "n_gpus": 1, "warm_cache": False})
    assert (r.status_code, r.headers["Content-Type"]) == (422, "application/json")
    assert r.json() == {
        "detail": [
            {"type": "extra_forbidden", "loc": ["body", field], "msg":
             "Extra inputs are not permitted", "input": value}
            for field, value in (("n_gpus", 1), ("warm_cache", False))
        ]
    }  # fmt: skip
    for field, value in [("type", "mpi"), ("region", "SR009"), ("priority_class", "urgent"),
                         ("shm_size_class", "huge"), ("region", "")]:  # fmt: skip
        r = http("POST", "jobs", json={**base, field: value})
        assert r.status_code == 422
        (err,) = r.json()["detail"]
        assert (err["type"], err["loc"], err["input"]) == ("enum", ["body", field], value)
    r = http("POST", "jobs", json={**base, "health_params": {"log_period": 30, "action": "x"}})
    assert r.json()["detail"][0]["loc"] == ["body", "health_params", "action"]


def test_an_instance_type_the_region_lacks_is_400(http: Http) -> None:
    r = http("POST", "jobs", json={"script": "/home/jovyan/a.py", "base_image": "i",
                                   "instance_type": "v100.1gpu", "region": "SR006"})  # fmt: skip
    assert (r.status_code, r.headers["Content-Type"]) == (400, "application/json")
    assert r.json() == {
        "error_code": 1,
        "error_message": "Can't find instance_type_key='v100.1gpu' for region=SR006",
    }


def test_more_than_1000_gpus_is_refused_with_a_reason(http: Http, srv: MockServer) -> None:
    too_big = {"script": "/home/jovyan/a.py", "base_image": "i", "instance_type": EIGHT_GPU,
               "region": "SR006", "n_workers": 126}  # fmt: skip
    r = http("POST", "jobs", json=too_big)
    assert (r.status_code, r.headers["Content-Type"]) == (400, "application/json")
    assert "1008" in r.json()["error_message"] and "1000" in r.json()["error_message"]
    name = http.submit(instance_type=EIGHT_GPU, n_workers=125)  # exactly 1000: accepted
    srv.advance(STARTED_S)
    assert http.json("GET", f"jobs/{name}")["status"] == "running"
    region = next(p for p in srv.world.pools_report() if p["name"] == "region")
    assert region["gpus"] == {"total": 1000, "used": 1000}


def test_a_bad_script_path_is_accepted_then_fails_without_a_traceback(
    http: Http, srv: MockServer
) -> None:
    name = http.submit(script="train.py", env_variables={}, type="pytorch2")
    assert http.json("GET", f"jobs/{name}")["status"] == "pending"
    srv.advance(17)
    assert http.json("GET", f"jobs/{name}")["status"] in ("pending", "running")
    srv.advance(STARTED_S - 17)
    body = http.json("GET", f"jobs/{name}")
    assert body["status"] == "failed" and body["error_message"] == ""
    assert 18 <= body["completed_at"] - body["created_at"] <= STARTED_S
    text = http("GET", f"jobs/{name}/logs").text
    assert "python: can't open file 'train.py': [Errno 2] No such file or directory" in text
    assert "Traceback" not in text
    cost = Decimal(http.json("GET", "jobs", params={"region": "SR006"})["jobs"][0]["cost"])
    assert cost < Decimal("1")  # billed only for the seconds it ran
