"""The admin API under ``/_mock/``: reset, clock, run-until-idle, pools and billing."""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from typing import Any

import pytest
import requests

from mock_server.testing import DEFAULT_START_EPOCH, MockServer, running_server

STARTED_S = 25
EIGHT_GPU = "a100plus.8gpu.80vG.96C.1952G"
LAST_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z


def admin(srv: MockServer, method: str, path: str, **kw: Any) -> requests.Response:
    r = requests.request(method, f"{srv.base_url}/_mock/{path}", timeout=10, **kw)
    assert r.headers["Content-Type"] == "application/json"
    return r


def submit(srv: MockServer, runtime_s: int = 60, itype: str = EIGHT_GPU) -> str:
    body = {
        "script": "/home/jovyan/train.py",
        "base_image": "img",
        "instance_type": itype,
        "region": "SR006",
        "env_variables": {"MLSPACE_SIM_RUNTIME_S": str(runtime_s)},
    }
    r = requests.post(f"{srv.api_url}/jobs", json=body, headers=srv.headers(), timeout=10)
    return r.json()["job_name"]


def status(srv: MockServer, name: str) -> str:
    r = requests.get(f"{srv.api_url}/jobs/{name}", headers=srv.headers(), timeout=10)
    return r.json()["status"]


def test_reset_empties_the_world_and_replays_the_same_names(srv: MockServer) -> None:
    first = [submit(srv), submit(srv)]
    srv.advance(100)
    body = admin(srv, "POST", "reset").json()
    assert body["status"] == "ok" and body["seed"] == 0
    assert body["clock"]["now_epoch"] == DEFAULT_START_EPOCH and body["clock"]["elapsed_s"] == 0
    assert status(srv, first[0]) == "job not found"
    assert [submit(srv), submit(srv)] == first  # same seed, same commands: same names

    reseeded = admin(srv, "POST", "reset", json={"seed": 7}).json()
    assert reseeded["seed"] == 7 and reseeded["clock"]["seed"] == 7
    other = [submit(srv), submit(srv)]
    assert other != first
    admin(srv, "POST", "reset", json={"seed": 7})
    assert [submit(srv), submit(srv)] == other
    admin(srv, "POST", "reset", json={"seed": 0})


def test_reset_ends_the_log_streams_of_the_old_world() -> None:
    slow_poll = {"log_follow_max_s": 10.0, "log_poll_s": 1.0}
    with running_server(seed=0, settings=slow_poll) as srv:
        name = submit(srv, runtime_s=600)
        srv.advance(STARTED_S)
        first, ended = threading.Event(), threading.Event()

        def follow() -> None:
            r = requests.get(f"{srv.api_url}/jobs/{name}/logs", headers=srv.headers(),
                             stream=True, timeout=30)  # fmt: skip
            for _ in r.iter_content(None):
                first.set()
            ended.set()

        threading.Thread(target=follow, daemon=True).start()
        assert first.wait(5) and not ended.is_set()  # held open while the job runs
        srv.reset()  # within the server's next second of sleep: a new world ...
        assert submit(srv, runtime_s=600) == name  # ... with a new job of the same name
        srv.advance(STARTED_S)
        assert ended.wait(3)  # the old job is gone, so its stream closes (it would hold 10 s)


@pytest.mark.parametrize("body", [{"seed": "7"}, {"seed": True}, {"seed": 1.5}, [1], "x"])
def test_reset_refuses_a_bad_seed(srv: MockServer, body: Any) -> None:
    r = admin(srv, "POST", "reset", json=body)
    assert r.status_code == 422 and r.json()["detail"][0]["type"]


def test_clock_advance_moves_virtual_time_only(srv: MockServer) -> None:
    clock = admin(srv, "GET", "clock").json()
    assert clock["mode"] == "manual" and clock["now_epoch"] == DEFAULT_START_EPOCH
    assert clock["idle"] is True and clock["elapsed_s"] == 0
    moved = admin(srv, "POST", "clock/advance", json={"seconds": 90.5}).json()
    assert moved["now_epoch"] == DEFAULT_START_EPOCH + 90.5 and moved["elapsed_s"] == 90.5
    assert admin(srv, "GET", "clock").json()["now_epoch"] == DEFAULT_START_EPOCH + 90.5


@pytest.mark.parametrize(
    "raw",
    [
        "{}", '{"seconds": null}', '{"seconds": -1}', '{"seconds": "10"}', '{"seconds": true}',
        '{"seconds": NaN}', '{"seconds": Infinity}', '{"seconds": 1e308}', '{"seconds": [1]}',
        "[]", "{", "",
    ],
)  # fmt: skip
def test_clock_advance_refuses_bad_input_with_422(srv: MockServer, raw: str) -> None:
    r = admin(srv, "POST", "clock/advance", data=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and isinstance(r.json()["detail"], list)
    clock = admin(srv, "GET", "clock").json()
    assert clock["now_epoch"] == DEFAULT_START_EPOCH  # untouched
    requests.get(f"{srv.api_url}/jobs", headers=srv.headers(), timeout=10).raise_for_status()


def test_clock_advance_up_to_the_last_representable_date(srv: MockServer) -> None:
    name = submit(srv, runtime_s=60)
    last = LAST_EPOCH
    r = admin(srv, "POST", "clock/advance", json={"seconds": last - DEFAULT_START_EPOCH + 1})
    assert r.status_code == 422
    r = admin(srv, "POST", "clock/advance", json={"seconds": last - DEFAULT_START_EPOCH})
    assert r.status_code == 200 and r.json()["now_epoch"] == last
    listing = requests.get(f"{srv.api_url}/jobs", params={"region": "SR006"},
                           headers=srv.headers(), timeout=10)  # fmt: skip
    assert listing.status_code == 200 and listing.json()["jobs"][0]["job_name"] == name
    assert admin(srv, "POST", "clock/advance", json={"seconds": 1}).status_code == 422


def test_run_until_idle_finishes_everything_or_stops_at_max_seconds(srv: MockServer) -> None:
    name = submit(srv, runtime_s=60)
    partial = admin(srv, "POST", "clock/run-until-idle", json={"max_seconds": 10}).json()
    assert partial["elapsed_s"] == 10 and partial["idle"] is False
    assert status(srv, name) == "pending"
    done = admin(srv, "POST", "clock/run-until-idle").json()
    assert done["idle"] is True and status(srv, name) == "completed"
    assert 17 + 60 <= done["elapsed_s"] <= 22 + 60  # placed at once, 17-21 s to Running
    for bad in ({"max_seconds": -5}, {"max_seconds": "1"}, {"max_seconds": 1e300}):
        assert admin(srv, "POST", "clock/run-until-idle", json=bad).status_code == 422


def test_a_run_time_the_calendar_cannot_hold_is_refused_at_submission(srv: MockServer) -> None:
    body = {
        "script": "/home/jovyan/train.py",
        "base_image": "img",
        "instance_type": EIGHT_GPU,
        "region": "SR006",
        "env_variables": {"MLSPACE_SIM_RUNTIME_S": str(10**300)},
    }
    r = requests.post(f"{srv.api_url}/jobs", json=body, headers=srv.headers(), timeout=10)
    assert r.status_code == 400 and "MLSPACE_SIM_RUNTIME_S" in r.json()["error_message"]
    clock = admin(srv, "POST", "clock/run-until-idle").json()
    assert clock["idle"] is True and clock["now_epoch"] < LAST_EPOCH


def test_pools_show_totals_and_what_a_running_job_uses(srv: MockServer) -> None:
    def region_pool() -> dict[str, Any]:
        pools = {p["name"]: p for p in admin(srv, "GET", "pools").json()["pools"]}
        training = {"direct", "region", "cpu"}
        assert set(pools) == training | {"inference-v100", "inference-a100", "inference-cpu"}
        return pools["region"]

    idle = region_pool()
    assert idle["gpus"] == {"total": 1000, "used": 0} and idle["waiting"] == 0
    assert sum(n["gpus"]["total"] for n in idle["nodes"]) == 1000
    name = submit(srv, runtime_s=600)
    srv.advance(STARTED_S)
    busy = region_pool()
    assert busy["gpus"] == {"total": 1000, "used": 8}
    used = [n for n in busy["nodes"] if n["gpus"]["used"]]
    assert len(used) == 1 and used[0]["gpus"]["used"] == 8
    assert used[0]["cpus"]["used"] == 96 and used[0]["memory_gi"]["used"] == 1952
    requests.delete(f"{srv.api_url}/jobs/{name}", headers=srv.headers(), timeout=10)
    assert region_pool()["gpus"]["used"] == 0


def test_billing_shows_kopecks_and_the_total_is_the_sum_of_the_lines(srv: MockServer) -> None:
    short = [submit(srv, runtime_s=7, itype="a100plus.1gpu.80vG.12C.96G") for _ in range(3)]
    submit(srv, runtime_s=600)  # still running: its cost so far
    srv.advance(STARTED_S + 100)
    bill = admin(srv, "GET", "billing").json()
    costs = {ln["item"]: ln["cost"] for ln in bill["lines"]}
    assert [costs[n] for n in short] == ["0.58"] * 3  # 7 s x 300/h = 0.5833
    amounts = [bill["total"], *bill["workspaces"].values(), *costs.values()]
    assert all(re.fullmatch(r"\d+\.\d\d", a) for a in amounts), amounts
    assert Decimal(bill["total"]) == sum(Decimal(c) for c in costs.values())


def test_billing_lines_add_up(srv: MockServer) -> None:
    names = [
        submit(srv, runtime_s=60),
        submit(srv, runtime_s=90, itype="a100plus.1gpu.80vG.12C.96G"),
    ]
    srv.advance(STARTED_S + 100)
    bill = admin(srv, "GET", "billing").json()
    assert bill["tariff"] == "per_second" and bill["illustrative_prices"] is True
    lines = {ln["item"]: ln for ln in bill["lines"]}
    assert set(lines) == set(names)
    assert [lines[n]["seconds"] for n in names] == [60, 90]
    assert all(ln["running"] is False and ln["kind"] == "job" for ln in lines.values())
    assert Decimal(bill["total"]) == sum(Decimal(ln["cost"]) for ln in bill["lines"])
    assert bill["workspaces"] == {srv.credentials.workspace_id: bill["total"]}
    assert admin(srv, "GET", "billing", params={"workspace": "nobody"}).json()["lines"] == []
