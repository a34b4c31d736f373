"""Replay checks what each command did, not the bytes of its answer (issue 10, item 6); a command
that fails after changing the world leaves no trace (issue 11, item 1); a streamed answer is
covered by the clock checkpoint (issue 11, item 3); start flags that contradict the file are
refused (issue 11, item 4). In-process, manual clock unless said otherwise."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from mlspace_sim.cli import main
from mock_server import errors, persistence
from mock_server.app import create_app
from mock_server.persistence import FlagConflict, StateFileError
from mock_server.testing import DEFAULT_START_EPOCH
from simulator.config import load_config
from simulator.world import World
from tests.reliability.support import JOB
from tests.reliability.test_persistence import WS_A, Api

REGION = {"region": "DGX2-MT"}


def session(path: Path, **kwargs: Any) -> tuple[Api, list[str]]:
    """Two jobs, a clock move and a kill; the file closed cleanly."""
    app = create_app(state_file=path, start_epoch=DEFAULT_START_EPOCH, seed=7, **kwargs)
    api = Api(app, WS_A)
    names = [api.call("POST", "jobs", json=JOB)["job_name"] for _ in range(2)]
    api.admin("POST", "clock/advance", json={"seconds": 60})
    api.call("DELETE", f"jobs/{names[0]}", query_string=REGION)
    persistence.of(app).close()
    return api, names


def statuses(api: Api) -> dict[str, str]:
    jobs = api.call("GET", "jobs", query_string=REGION)["jobs"]
    return {j["job_name"]: j["status"] for j in jobs}


def test_a_new_response_shape_does_not_make_an_old_file_unusable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.db"
    api, _ = session(path)
    first = create_app(state_file=path)
    before = statuses(api.on(first))
    persistence.of(first).close()

    def dumps(body: Any, **kwargs: Any) -> str:  # a later release adds a field everywhere
        if isinstance(body, dict):
            body = {**body, "served_by": "a later release"}
        return json.dumps(body, **kwargs)

    monkeypatch.setattr(errors, "json", SimpleNamespace(dumps=dumps))
    restarted = create_app(state_file=path)
    assert persistence.resume(restarted) == 4
    assert statuses(api.on(restarted)) == before


def test_a_file_that_replays_to_another_world_names_command_version_and_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.db"
    session(path)
    submit = World.submit_job

    def submit_and_kill(self: World, *args: Any, **kwargs: Any) -> Any:  # another behaviour
        job = submit(self, *args, **kwargs)
        self.kill_job(job.name)
        return job

    monkeypatch.setattr(World, "submit_job", submit_and_kill)
    with pytest.raises(StateFileError) as caught:
        persistence.resume(create_app(state_file=path))
    message = str(caught.value)
    assert "command #1 (POST /public/v2/jobs at 2025-02-26T10:00:00Z" in message
    assert "written by mlspace-sim" in message and "(state schema 2)" in message
    assert "its status is 'Deleted' where the first run had 'Pending'" in message


def test_a_command_that_fails_after_changing_the_world_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.db"
    app = create_app(state_file=path, start_epoch=DEFAULT_START_EPOCH)
    api = Api(app, WS_A)
    kept = api.call("POST", "jobs", json=JOB)["job_name"]
    api.admin("POST", "clock/advance", json={"seconds": 30})
    pools = api.admin("GET", "pools")
    bill = api.admin("GET", "billing")
    submit = World.submit_job

    def submit_then_crash(self: World, spec: Any, **kwargs: Any) -> Any:
        job = submit(self, spec, **kwargs)  # the engine has the job, GPUs and a queue place
        if spec.get("job_desc") == "doomed":
            raise RuntimeError("the handler fails after the engine changed")
        return job

    monkeypatch.setattr(World, "submit_job", submit_then_crash)
    api.call("POST", "jobs", json={**JOB, "job_desc": "doomed"}, status=500)

    assert list(statuses(api)) == [kept]
    assert api.admin("GET", "pools") == pools
    assert api.admin("GET", "billing") == bill
    assert api.admin("GET", "journal")["count"] == 2
    again = api.call("POST", "jobs", json=JOB)["job_name"]  # commands go on as before
    persistence.of(app).close()
    restarted = api.on(create_app(state_file=path))
    assert sorted(statuses(restarted)) == sorted([kept, again])


class Ticking:
    """A wall clock that moves a little each time it is read: real time, without sleeping."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 0.05
        return self.t


def test_a_streamed_log_is_covered_by_the_checkpoint_before_each_chunk(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    world = World(
        load_config(),
        start_epoch=DEFAULT_START_EPOCH,
        clock="realtime",
        speed=20.0,
        wall=Ticking(),
    )
    app = create_app(world, state_file=path, settings={"log_poll_s": 0.0})
    api = Api(app, WS_A)
    body = {**JOB, "env_variables": {"MLSPACE_SIM_RUNTIME_S": "120"}}
    name = api.call("POST", "jobs", json=body)["job_name"]
    while api.call("GET", f"jobs/{name}")["status"] != "running":
        pass
    streamed = api.call("GET", f"jobs/{name}/logs")  # follows the job to its end
    assert world.get_job(name).status == "Completed"
    last = world.job_logs(world.get_job(name), timestamps=True)[-1]
    assert streamed.splitlines()[-1] == last  # the user saw the job end
    crashed = tmp_path / "crashed.db"
    shutil.copyfile(path, crashed)  # the server is still running: no clean stop

    after = api.on(create_app(state_file=crashed))
    assert after.call("GET", f"jobs/{name}")["status"] == "completed"


def test_start_flags_that_contradict_the_file_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "state.db"
    session(path, clock="manual", speed=1.0)
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({"limits": {"max_job_gpus": 8}}))
    contradictions = [
        ["--seed", "3"],
        ["--start-time", "2025-03-01T00:00:00Z"],
        ["--clock", "realtime"],
        ["--speed", "5"],
        ["--tariff", "per_minute_ceil"],
        ["--config", str(other)],
    ]
    for flags in contradictions:
        assert main(["serve", "--port", "0", "--state", str(path), *flags]) == 2
        err = capsys.readouterr().err
        assert f"{flags[0]}" in err and "conflicts with the state file" in err, err

    same = {"seed": 7, "start_epoch": DEFAULT_START_EPOCH, "clock": "manual", "speed": 1.0}
    agreeing = create_app(state_file=path, given={"--seed", "--start-time", "--clock"}, **same)
    assert persistence.resume(agreeing) == 4
    persistence.of(agreeing).close()
    with pytest.raises(FlagConflict, match="--seed 8"):
        create_app(state_file=path, seed=8, given={"--seed"})
    create_app(state_file=path, seed=8)  # without the flag named, the file's world wins
