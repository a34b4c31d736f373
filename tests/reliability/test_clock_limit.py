"""With ``--clock realtime`` near year 9999 the clock stops at the last instant a date can show
(9999-12-31T23:59:59Z) and says so on the admin API; job lists, statuses and logs keep answering
(issue 11, item 9). The wall clock is faked: no sleeping."""

from __future__ import annotations

from datetime import datetime, timezone

from mock_server.app import create_app
from simulator.clock import LAST_EPOCH
from simulator.config import load_config
from simulator.world import World
from tests.reliability.support import JOB
from tests.reliability.test_persistence import WS_A, Api


class Wall:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_realtime_clock_stops_at_the_last_representable_instant() -> None:
    wall = Wall()
    world = World(load_config(), start_epoch=LAST_EPOCH - 100, clock="realtime", wall=wall)
    api = Api(create_app(world, settings={"log_follow_max_s": 0.2, "log_poll_s": 0.0}), WS_A)
    short = api.call("POST", "jobs", json={**JOB, "env_variables": {"MLSPACE_SIM_RUNTIME_S": "30"}})
    long = api.call("POST", "jobs", json={**JOB, "env_variables": {"MLSPACE_SIM_RUNTIME_S": "600"}})
    wall.t = 10_000.0  # virtual time would now be long past year 10000

    clock = api.admin("GET", "clock")
    assert clock["now_epoch"] == LAST_EPOCH
    assert "stopped at 9999-12-31T23:59:59Z" in clock["error"]
    listed = api.call("GET", "jobs", query_string={"region": "DGX2-MT"})["jobs"]
    assert {j["job_name"]: j["status"] for j in listed} == {
        short["job_name"]: "Completed",
        long["job_name"]: "Running",  # it would end after the last instant: it never does
    }
    for job in (short, long):
        name = job["job_name"]
        assert api.call("GET", f"jobs/{name}")["status"] in ("completed", "running")
        last = api.call("GET", f"jobs/{name}/logs").splitlines()[-1]
        stamp = datetime.strptime(last[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
        assert stamp.timestamp() <= LAST_EPOCH
    late = api.call("POST", "jobs", json=JOB)  # accepted at the last instant, and listed
    assert late["created_at"] == LAST_EPOCH
    assert len(api.call("GET", "jobs", query_string={"region": "DGX2-MT"})["jobs"]) == 3
