"""The real ``mls`` CLI (cloudru-ml-cli 1.3.0) driving the jobs area, in a subprocess.

Every test checks the exit code AND what the CLI printed: the CLI exits 0 on API errors too.
Set-up that is not under test (extra jobs) goes over plain HTTP, and side checks read the World,
to keep the number of CLI processes (~0.4 s each) down.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from mock_server.testing import DEFAULT_START_EPOCH, MockServer
from tests.contract.conftest import Cli, advance_until, make_cli, wait_until

pytestmark = pytest.mark.sdk

ONE_GPU = "a100plus.1gpu.80vG.12C.96G"
EIGHT_GPU = "a100plus.8gpu.80vG.96C.1952G"
JOB_NAME = re.compile(
    r"^lm-mpi-job-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)
ANY_JOB = re.compile(r"lm-mpi-job-[0-9a-f-]{36}")
STARTED_S = 25  # submit -> Running is at most 6 s pull + 15.1 s worker wait on an empty pool
T0 = int(DEFAULT_START_EPOCH)


def submit(mls: Cli, *extra: str, runtime_s: int = 600) -> str:
    """``mls job submit`` of a binary job; returns the printed job name."""
    out = mls.json(
        "job", "submit", "-s", "/home/jovyan/train.py", "-I", "cr.ai.cloud.ru/img:1",
        "-i", ONE_GPU, "-t", "binary", "-v", f"MLSPACE_SIM_RUNTIME_S={runtime_s}", *extra,
    )  # fmt: skip
    assert set(out) == {"job_name", "status", "created_at"} and out["status"] == "Pending"
    assert JOB_NAME.match(out["job_name"])
    return out["job_name"]


def http_submit(srv: MockServer, *, runtime_s: int = 600, **extra: Any) -> str:
    body = {
        "script": "/home/jovyan/train.py",
        "base_image": "cr.ai.cloud.ru/img:1",
        "instance_type": ONE_GPU,
        "region": "SR006",
        "type": "binary",
        "env_variables": {"MLSPACE_SIM_RUNTIME_S": str(runtime_s)},
        **extra,
    }
    r = requests.post(f"{srv.api_url}/jobs", json=body, headers=srv.headers(), timeout=10)
    return r.json()["job_name"]


def status_of(srv: MockServer, name: str) -> str:
    return srv.world.get_job(name).status


def listed(mls: Cli, *args: str, env: dict[str, str] | None = None) -> list[str]:
    body = mls.json("job", "list", *args, env=env)
    assert body["count"] >= len(body["jobs"])
    return [j["job_name"] for j in body["jobs"]]


# ---- submit -------------------------------------------------------------------------------------
def test_submit_with_flags_sends_what_was_asked(mls: Cli, srv: MockServer) -> None:
    out = mls.json(
        "job", "submit", "-s", "/home/jovyan/train.py", "-I", "cr.ai.cloud.ru/img:1",
        "-i", ONE_GPU, "-t", "pytorch2", "-w", "2", "-d", "my описание", "--use_env",
        "-f", "lr=0.1", "--priority_class", "high", "-A", "true",
    )  # fmt: skip
    assert out["status"] == "Pending" and out["created_at"] == T0
    job = srv.world.get_job(out["job_name"])
    assert (job.status, job.region, job.gpu_count, job.priority_class) == (
        "Pending", "SR006", 2, "high",
    )  # fmt: skip
    assert {k: job.spec.params[k] for k in ("type", "job_desc", "flags", "internet")} == {
        "type": "pytorch2",
        "job_desc": "my описание",
        "flags": {"lr": "0.1"},
        "internet": True,
    }
    assert job.spec.params["pytorch_use_env"] is True


def test_submit_from_a_yaml_manifest(mls: Cli, srv: MockServer) -> None:
    manifest = yaml.safe_load(mls.ok("job", "yaml", "binary"))
    manifest["job"]["resource"]["instance_type"] = ONE_GPU
    manifest["job"]["script"] = "/home/jovyan/train.py"
    path = mls.cwd / "job.yaml"
    path.write_text(yaml.safe_dump(manifest))

    refused = json.loads(mls.ok("job", "submit", "-c", str(path)))  # the template's made-up names
    assert refused == {
        "error_code": 1,
        "error_message": "Allocation 'my-favorite-allocation' not found in region SR006",
    }
    assert mls.json("job", "list")["jobs"] == []

    ws = srv.credentials.workspace_id
    alloc = next(a for a in srv.world.allocations(ws) if a.region == "SR006")
    srv.world.create_queue(ws, alloc.id, "my-favorite-queue")
    manifest["job"]["policy"]["allocation_name"] = alloc.name
    path.write_text(yaml.safe_dump(manifest))
    out = mls.json("job", "submit", "-c", str(path))

    assert out["status"] == "Pending"
    item = mls.json("job", "list")["jobs"][0]
    assert item["job_name"] == out["job_name"]
    assert item["job_desc"] == "set any useful description"
    assert (item["queue_name"], item["allocation_name"]) == ("my-favorite-queue", "payg-sr006")
    params = srv.world.get_job(out["job_name"]).spec.params
    assert params["health_params"] == {
        "log_period": 20,
        "action": "restart",
        "sub_actions": ["notify"],
    }
    assert (params["max_retry"], params["priority_class"]) == (5, "medium")


def test_submit_to_an_extra_region_needs_mls_regions(mls: Cli) -> None:
    args = ("job", "submit", "-s", "/home/jovyan/a.py", "-I", "img", "-i", "a100.1gpu.40",
            "-t", "binary", "-R", "SR002-MT")  # fmt: skip
    refused = mls.run(*args)
    assert refused.returncode != 0 and "SR002-MT" in refused.stdout + refused.stderr

    out = mls.json(*args, env={"MLS_REGIONS": "SR002-MT, DGX2-MT"})
    assert out["status"] == "Pending"
    assert listed(mls, "-R", "SR002-MT", env={"MLS_REGIONS": "SR002-MT"}) == [out["job_name"]]


def test_submit_of_a_type_the_region_lacks_prints_the_platform_error(mls: Cli) -> None:
    out = mls.json("job", "submit", "-s", "/home/jovyan/a.py", "-I", "img", "-i", "a100.1gpu",
                   "-t", "binary")  # fmt: skip
    assert out == {
        "error_code": 1,
        "error_message": "Can't find instance_type_key='a100.1gpu' for region=SR006",
    }


# ---- list and table -----------------------------------------------------------------------------
def test_list_filters_by_status_page_and_dates(mls: Cli, srv: MockServer) -> None:
    day = 86400
    first = http_submit(srv, runtime_s=day)  # 10:00
    srv.advance(3600)
    second = http_submit(srv, runtime_s=day)  # 11:00
    srv.advance(3600)
    third = http_submit(srv, runtime_s=day)  # 12:00
    srv.world.kill_job(first)

    assert listed(mls) == [third, second, first]
    assert listed(mls, "-s", "Deleted") == [first]
    assert listed(mls, "-s", "Pending", "-s", "Running") == [third, second]
    page = mls.json("job", "list", "-l", "1", "-o", "1")
    assert page["count"] == 3 and [j["job_name"] for j in page["jobs"]] == [second]
    assert listed(mls, "-b", "2025-02-26T10:30:00") == [third, second]  # sent with a space
    assert listed(mls, "-b", "2025-02-26", "-e", "2025-02-26 11:30:00") == [second, first]


def test_list_without_any_region_is_empty(srv: MockServer, tmp_path: Path) -> None:
    http_submit(srv)
    no_region = make_cli(srv, tmp_path, region="")  # the CLI then sends region=
    assert no_region.json("job", "list") == {
        "count": 0,
        "jobs": [],
        "status": "ok",
        "error_code": 0,
        "error_message": "",
    }


def test_table_prints_rows_and_filters_them(mls: Cli, srv: MockServer) -> None:
    alpha = http_submit(srv, job_desc="alpha run")
    beta = http_submit(srv, job_desc="beta run", instance_type=EIGHT_GPU)
    srv.advance(STARTED_S + 100)

    table = mls.ok("job", "table")
    assert "Имя задачи" in table and "Длительность" in table
    rows = {line.split("|")[1].strip(): line for line in table.splitlines() if "lm-mpi-job" in line}
    assert set(rows) == {alpha, beta}
    assert "Running" in rows[alpha] and "alpha run" in rows[alpha] and ONE_GPU in rows[alpha]
    assert re.search(r"\| +0:01:\d\d +\|", rows[beta])  # duration "<int>s" shown as a timedelta

    def names(*args: str) -> set[str]:
        return set(ANY_JOB.findall(mls.ok("job", "table", *args)))

    assert names("-g", "8") == {beta}
    assert names("-i", "1gpu", "-s", "Running") == {alpha}
    assert names("-d", "beta") == {beta}
    assert names("-j", alpha[-12:]) == {alpha}


# ---- status, logs -------------------------------------------------------------------------------
def test_status_is_lowercase_with_integer_timestamps(mls: Cli, srv: MockServer) -> None:
    name = submit(mls, runtime_s=60)
    pending = mls.json("job", "status", name)
    assert pending == {
        "uid": pending["uid"],
        "job_name": name,
        "status": "pending",
        "created_at": T0,
        "pending_at": T0,
        "running_at": 0,
        "completed_at": 0,
        "error_code": 0,
        "error_message": "",
    }
    srv.advance(STARTED_S + 60)
    done = mls.json("job", "status", name)
    assert done["status"] == "completed" and T0 < done["running_at"] <= T0 + STARTED_S
    assert done["completed_at"] - done["running_at"] in (59, 60, 61)
    assert mls.json("job", "status", "lm-mpi-job-nope") == {
        "job_name": "lm-mpi-job-nope",
        "status": "job not found",
        "error_code": 0,
        "error_message": "job not found",
    }


def test_logs_plain_tail_and_timestamps(mls: Cli, srv: MockServer) -> None:
    name = http_submit(srv, runtime_s=40)
    assert mls.ok("job", "logs", name) == f"Job {name} in queue. Try later\n\n"
    srv.advance(STARTED_S + 60)
    assert status_of(srv, name) == "Completed"
    lines = srv.world.job_logs(srv.world.get_job(name))

    assert mls.ok("job", "logs", name) == "".join(f"{ln}\n" for ln in lines) + "\n"
    assert (
        mls.ok("job", "logs", name, "-t", "3") == "".join(f"{ln}\n" for ln in lines[:-4:-1]) + "\n"
    )
    stamped = mls.ok("job", "logs", name, "-v").splitlines()[: len(lines)]
    for raw, line in zip(stamped, lines, strict=True):
        stamp, text = raw.split(" ", 1)
        assert re.fullmatch(r"2025-02-26T10:\d\d:\d\d(\.\d{1,9})?Z", stamp) and text == line


def test_logs_wait_follows_a_job_from_pending_to_done(mls: Cli, srv: MockServer) -> None:
    name = http_submit(srv, runtime_s=30)
    proc = mls.popen("job", "logs", name, "-w")
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(iter(proc.stdout.readline, "")))
    reader.start()

    def printed(text: str) -> None:
        wait_until(lambda: any(text in line for line in out))

    try:
        printed("pending")
        advance_until(srv, lambda: status_of(srv, name) == "Running")
        # the CLI sees "running", opens the stream, and the server holds it open
        printed("All workers are READY")
        assert not any("Epoch" in line for line in out)
        srv.advance(10)  # lines produced by virtual time reach the open stream
        printed("Epoch 1/")
        assert proc.poll() is None
        srv.advance(60)  # the job ends: the stream closes, the CLI sees "completed" and stops
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join(timeout=5)

    lines = srv.world.job_logs(srv.world.get_job(name))
    assert lines[-1].endswith(f"saving model to /home/jovyan/checkpoints/{name}")
    waited = [line for line in out if line == "pending\n"]
    assert waited and out[: len(waited)] == waited
    assert "".join(out[len(waited) :]) == "".join(f"{ln}\n\n" for ln in lines)


# ---- kill, restart, pods ------------------------------------------------------------------------
def test_kill_stops_a_running_job_and_is_idempotent(mls: Cli, srv: MockServer) -> None:
    name = http_submit(srv)
    srv.advance(STARTED_S)
    assert status_of(srv, name) == "Running"
    for target in (name, name, "lm-mpi-job-never"):
        assert mls.json("job", "kill", target) == {
            "job_name": target,
            "deleted_at": str(T0 + STARTED_S),
            "status": "deleted",
            "error_code": 0,
            "error_message": "",
        }
    assert status_of(srv, name) == "Deleted"
    assert listed(mls, "-s", "Deleted") == [name]


def test_restart_submits_a_new_job_with_the_same_parameters(mls: Cli, srv: MockServer) -> None:
    old = http_submit(srv, job_desc="again", runtime_s=30)
    srv.advance(STARTED_S + 60)
    out = mls.json("job", "restart", old)
    assert set(out) == {"job_name", "status", "created_at"}
    assert out["status"] == "Pending" and out["job_name"] != old
    assert out["created_at"] == T0 + STARTED_S + 60
    new = srv.world.get_job(out["job_name"])
    assert (status_of(srv, old), new.status, new.spec.job_desc) == ("Completed", "Pending", "again")
    assert mls.json("job", "restart", "lm-mpi-job-never") == {
        "error_code": 1,
        "error_message": "not found",
    }


def test_pods_of_an_elastic_job(mls: Cli, srv: MockServer) -> None:
    name = submit(
        mls, "-t", "pytorch_elastic", "-w", "3", "--elastic_min_workers", "2",
        "--elastic_max_workers", "3", "--elastic_max_restarts", "4",
    )  # fmt: skip
    pods = mls.json("job", "pods", name)["pods"]
    assert [p["job_version"] for p in pods] == ["mpimaster-0", "mpiworker-0", "mpiworker-1"]
    assert {p["status"] for p in pods} == {"Pending"} and {p["job_name"] for p in pods} == {name}
    srv.advance(STARTED_S + 30)
    pods = mls.json("job", "pods", name)["pods"]
    assert {p["status"] for p in pods} == {"Running"}
    assert all(p["running_at"].startswith("2025-02-26T10:00:") for p in pods)
    assert all(0 < p["duration"] < STARTED_S + 30 for p in pods)
    assert mls.json("job", "pods", http_submit(srv)) == {"pods": []}  # only elastic jobs have pods


# ---- commands without HTTP ----------------------------------------------------------------------
def test_types_regions_and_yaml(mls: Cli) -> None:
    assert mls.ok("job", "types").split() == [
        "binary", "horovod", "pytorch", "pytorch2", "torchrun", "pytorch_elastic", "binary_exp",
    ]  # fmt: skip
    regions = mls.ok("job", "regions", env={"MLS_REGIONS": "SR002-MT, DGX2-MT"}).split()
    assert regions == ["SR003", "SR004", "SR005", "SR006", "SR008", "SR009", "SR002-MT", "DGX2-MT"]
    manifest = yaml.safe_load(mls.ok("job", "yaml", "pytorch_elastic"))["job"]
    assert manifest["type"] == "pytorch_elastic" and manifest["resource"]["workers"] == 3
