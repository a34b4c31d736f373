"""The state file (``--state``): a restart rebuilds the same world by replaying the journal, a
snapshot round-trips through ``/_mock/state``, and a file that cannot be used is refused with a
clear message. In-process (Flask test client), manual virtual clock unless said otherwise."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from mock_server import persistence
from mock_server.app import create_app
from mock_server.persistence import StateFileError
from mock_server.testing import DEFAULT_START_EPOCH
from tests.reliability.support import IMAGE, JOB

WS_A = "11111111-1111-4111-8111-111111111111"
WS_B = "22222222-2222-4222-8222-222222222222"
START = "2025-02-26T10:00:00Z"  # DEFAULT_START_EPOCH
S3 = {
    "endpoint": "https://s3.cloud.ru",
    "bucket": "my-bucket",
    "access_key_id": "AKID",
    "security_key": "SECRET",
}


class Api:
    """One workspace of an in-process mock; its token is kept, as an SDK client keeps it."""

    def __init__(self, app: Any, ws_id: str) -> None:
        self.client = app.test_client()
        self.ws = ws_id
        auth = self.client.post(
            "/public/v2/service_auth", json={"client_id": "k", "client_secret": "s"}
        )
        self.headers = {
            "authorization": auth.get_json()["token"]["access_token"],
            "x-workspace-id": ws_id,
            "x-api-key": "key-" + ws_id[:4],
        }

    def on(self, app: Any) -> Api:
        """The same credentials against another app (a restarted server)."""
        other = object.__new__(Api)
        other.client, other.ws, other.headers = app.test_client(), self.ws, self.headers
        return other

    def call(self, method: str, path: str, *, status: int = 200, **kwargs: Any) -> Any:
        resp = self.client.open(f"/public/v2/{path}", method=method, headers=self.headers, **kwargs)
        assert resp.status_code == status, resp.get_data(as_text=True)
        return resp.get_json() if resp.is_json else resp.get_data(as_text=True)

    def admin(self, method: str, path: str, *, status: int = 200, **kwargs: Any) -> Any:
        resp = self.client.open(f"/_mock/{path}", method=method, **kwargs)
        assert resp.status_code == status, resp.get_data(as_text=True)
        return resp.get_json()


def new_app(path: Path | None, **kwargs: Any) -> Any:
    kwargs.setdefault("start_epoch", DEFAULT_START_EPOCH)
    return create_app(state_file=path, **kwargs)


def drive(a: Api, b: Api) -> None:
    """A bit of every area: jobs, kills, servers, a pause, an image build, connectors and a
    periodic transfer rule, S3 credentials, clock moves; some reads in between."""
    a.call("GET", "data_transfer/v3/connectors")  # system connectors first looked at, at t=0
    long = a.call("POST", "jobs", json={**JOB, "env_variables": {"MLSPACE_SIM_RUNTIME_S": "900"}})
    b.call("POST", "jobs", json={**JOB, "env_variables": {"MLSPACE_SIM_RUNTIME_S": "120"}})
    b.call("POST", "jobs", json={**JOB, "env_variables": {"MLSPACE_SIM_RUNTIME_S": "120"}})
    ns = a.call("GET", "workspaces/v3/")["workspaces"][0]["namespace"]
    book = a.call(
        "POST",
        f"notebooks/v2/{ns}/notebook",
        json={"name": "nb", "image": IMAGE, "instance_type": "v100.1gpu", "region": "DGX2-MT"},
    )
    form = {
        "from_image": "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40",
        "requirements": (io.BytesIO(b"numpy==1.26.4\n"), "requirements.txt"),
    }
    a.call("POST", "build-image/jobs", data=form)
    a.admin("POST", "clock/advance", json={"seconds": 100})
    a.call("DELETE", f"jobs/{long['job_name']}", query_string={"region": "DGX2-MT"})
    source = a.call(
        "POST",
        "data_transfer/v3/connectors",
        json={"name": "src", "source_type": "s3custom", "parameters": S3},
    )
    bucket = next(c for c in a.call("GET", "data_transfer/v3/connectors") if c["system"])
    rule = {
        "name": "hourly",
        "connector_id": source["connector_id"],
        "destination_connector_id": bucket["connector_id"],
        "query": {"source": "data/", "destination": "/in"},
        "connector_type": "s3custom",
        "destination_connector_type": bucket["source_type"],
        "cluster_name": "christofari-1",
        "strategy": "write_all",
        "favorite": False,
        "description": "",
        "crontab": {"start_at": START, "period": 1},
    }
    a.call("POST", "data_transfer/v5/transfer", json=rule)
    b.call(
        "POST",
        "s3/credentials",
        json={"s3_namespace": "ns", "s3_endpoint": "e", "access_key_id": "k", "security_key": "s"},
    )
    a.admin("POST", "clock/advance", json={"seconds": 200})
    a.call("POST", f"notebooks/v2/notebook/{book['uuid']}/pause")
    a.admin("POST", "clock/run-until-idle", json={"max_seconds": 3 * 3600})


def observe(a: Api, b: Api) -> dict[str, Any]:
    """What a user can see of the world, from both workspaces and the admin API."""
    seen: dict[str, Any] = {}
    for api in (a, b):
        jobs = api.call("GET", "jobs", query_string={"region": "DGX2-MT"})
        seen[api.ws, "jobs"] = jobs
        for job in jobs["jobs"]:
            name = job["job_name"]
            seen[api.ws, name] = api.call("GET", f"jobs/{name}")
            seen[api.ws, name, "logs"] = api.call("GET", f"jobs/{name}/logs")
        seen[api.ws, "notebooks"] = api.call("GET", "notebooks/v2/notebooks")
        builds = api.call("GET", "build-image/jobs")
        seen[api.ws, "builds"] = builds
        for build in builds["jobs"]:
            name = build["name"]
            seen[api.ws, name] = api.call("GET", f"build-image/jobs/{name}")
            seen[api.ws, name, "logs"] = api.call("GET", f"build-image/jobs/{name}/logs")
        seen[api.ws, "connectors"] = api.call("GET", "data_transfer/v3/connectors")
        seen[api.ws, "transfers"] = api.call("GET", "data_transfer/v4/transfer")
        seen[api.ws, "history"] = api.call("GET", "data_transfer/v3/history")
        seen[api.ws, "s3"] = api.call("GET", "s3/credentials")
    for path in ("clock", "billing", "pools", "journal"):
        seen[path] = a.admin("GET", path)
    return seen


def test_a_restart_rebuilds_the_same_world_and_keeps_tokens(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = new_app(path, seed=5)
    a, b = Api(app, WS_A), Api(app, WS_B)
    drive(a, b)
    before = observe(a, b)
    assert before["billing"]["lines"] and before["journal"]["count"] == 13
    persistence.of(app).close()

    again = create_app(state_file=path, seed=99, start_epoch=0.0)  # the file's world wins
    assert persistence.resume(again) == 13
    after = observe(a.on(again), b.on(again))  # the tokens issued before still work
    assert after == before
    assert after["clock"]["seed"] == 5


def crash_copy(path: Path, to: Path) -> Path:
    """What a crash would leave on disk now: the database and its write-ahead log as they are."""
    for suffix in ("", "-wal"):
        if Path(f"{path}{suffix}").exists():
            shutil.copyfile(f"{path}{suffix}", f"{to}{suffix}")
    return to


def test_after_a_crash_the_clock_resumes_where_the_last_answer_left_it(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = new_app(path, seed=1)
    a = Api(app, WS_A)
    name = a.call("POST", "jobs", json=JOB)["job_name"]
    app.extensions["mlspace_sim"].world.advance(250)  # not a command: only the answer shows it
    shown = a.call("GET", f"jobs/{name}")
    assert shown["status"] == "running"
    crashed = crash_copy(path, tmp_path / "crashed.db")

    again = a.on(create_app(state_file=crashed))
    assert again.admin("GET", "clock")["now_epoch"] == DEFAULT_START_EPOCH + 250
    assert again.call("GET", f"jobs/{name}") == shown


def test_reset_starts_the_file_over_with_the_new_seed(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = new_app(path, seed=1)
    a = Api(app, WS_A)
    a.call("POST", "jobs", json=JOB)
    a.admin("POST", "reset", json={"seed": 9})
    a.admin("POST", "clock/advance", json={"seconds": 30})
    persistence.of(app).close()

    restarted = a.on(create_app(state_file=path))
    assert restarted.call("GET", "jobs", query_string={"region": "DGX2-MT"})["jobs"] == []
    clock = restarted.admin("GET", "clock")
    assert (clock["seed"], clock["elapsed_s"]) == (9, 30.0)


def test_realtime_commands_happen_at_one_instant_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = new_app(path, clock="realtime", speed=1000.0)
    a = Api(app, WS_A)
    names = [a.call("POST", "jobs", json=JOB)["job_name"] for _ in range(3)]
    world = app.extensions["mlspace_sim"].world
    journal = a.admin("GET", "journal")["entries"]
    # journaled at the very instant the job was created, although the clock runs meanwhile
    assert [(e["ref"], e["epoch"]) for e in journal] == [
        (name, world.get_job(name).created_at) for name in names
    ]
    statuses = {name: a.call("GET", f"jobs/{name}") for name in names}
    shown = a.admin("GET", "clock")["now_epoch"]
    persistence.of(app).close()

    restarted = a.on(create_app(state_file=path))
    clock = restarted.admin("GET", "clock")
    assert clock["mode"] == "realtime" and clock["now_epoch"] >= shown
    assert restarted.admin("GET", "journal")["entries"] == journal
    for name, seen in statuses.items():
        again = restarted.call("GET", f"jobs/{name}")
        assert (again["uid"], again["created_at"]) == (seen["uid"], seen["created_at"])


def test_a_snapshot_round_trips_through_the_admin_api() -> None:
    app = new_app(None, seed=5)  # no file: the journal is kept in memory
    a, b = Api(app, WS_A), Api(app, WS_B)
    drive(a, b)
    before = observe(a, b)
    snapshot = a.admin("GET", "state?secrets=true")
    assert (snapshot["format"], snapshot["schema"], snapshot["meta"]["seed"]) == (
        "mlspace-sim-state",
        2,
        5,
    )
    assert len(snapshot["entries"]) == 13
    assert any("body_base64" in e or "multipart" in e["content_type"] for e in snapshot["entries"])

    other = new_app(None, seed=1, start_epoch=DEFAULT_START_EPOCH - 86_400)
    imported = Api(other, WS_A).admin("POST", "state", json=snapshot)
    assert (imported["status"], imported["entries"]) == ("ok", 13)
    assert observe(Api(other, WS_A), Api(other, WS_B)) == before  # tokens are not part of it
    assert Api(other, WS_A).admin("GET", "state?secrets=true") == snapshot


def _tampered(snapshot: dict[str, Any], change: str) -> Any:
    snap = json.loads(json.dumps(snapshot))
    entries = snap["entries"]
    if change == "not an object":
        return [snap]
    if change == "wrong format":
        snap["format"] = "something-else"
    elif change == "entries missing":
        del snap["entries"]
    elif change == "bad method":
        entries[0]["method"] = "GET"
    elif change == "time goes back":
        entries[1]["at"] = entries[2]["at"] + 1  # the clock advance after the second job
    elif change == "infinite time":
        entries[0]["at"] = float("inf")
    elif change == "bad base64":
        entries[0].pop("body")
        entries[0]["body_base64"] = "***"
    elif change == "another configuration":
        snap["meta"]["config"]["limits"]["max_job_gpus"] = 8
    elif change == "a command that replays otherwise":
        entries[0]["body"] = entries[0]["body"].replace("v100.2gpu", "v100.4gpu")
    elif change == "a refused command":
        entries[0]["body"] = "{}"
    return snap


@pytest.mark.parametrize(
    "change",
    [
        "not an object",
        "wrong format",
        "entries missing",
        "bad method",
        "time goes back",
        "infinite time",
        "bad base64",
        "another configuration",
        "a command that replays otherwise",
        "a refused command",
    ],
)
def test_a_bad_snapshot_is_a_422_and_the_world_stays(change: str) -> None:
    source = new_app(None, seed=3)
    api = Api(source, WS_A)
    api.call("POST", "jobs", json=JOB)
    api.admin("POST", "clock/advance", json={"seconds": 60})
    api.call("POST", "jobs", json=JOB)
    snapshot = api.admin("GET", "state?secrets=true")

    target = new_app(None, seed=4)
    mine = Api(target, WS_A)
    kept = mine.call("POST", "jobs", json=JOB)["job_name"]
    body = _tampered(snapshot, change)
    resp = mine.client.post("/_mock/state", data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert resp.content_type == "application/json" and resp.get_json()["detail"]
    assert mine.call("GET", f"jobs/{kept}")["job_name"] == kept
    assert mine.admin("GET", "clock")["seed"] == 4
    assert len(mine.admin("GET", "journal")["entries"]) == 1


def _garbage(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 a zip, not a database" * 100)


def _garbage(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 a zip, not a database" * 100)


def _foreign_sqlite(path: Path) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE notes (text TEXT)")
        db.execute("INSERT INTO notes VALUES ('mine')")


def _newer_schema(path: Path) -> None:
    persistence.of(new_app(path)).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA user_version=7")


def _truncated(path: Path) -> None:
    app = new_app(path)
    api = Api(app, WS_A)
    for _ in range(60):
        api.call("POST", "jobs", json={**JOB, "job_desc": "x" * 500})
    persistence.of(app).close()
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_garbage, "not an mlspace-sim state file"),
        (_foreign_sqlite, "another application"),
        (_newer_schema, "newer mlspace-sim"),
        (_truncated, "damaged"),
    ],
)
def test_a_file_that_is_not_our_state_is_refused_at_start(
    tmp_path: Path, make: Any, message: str
) -> None:
    path = tmp_path / "state.db"
    make(path)
    before = path.read_bytes()
    with pytest.raises(StateFileError, match=message):
        create_app(state_file=path)
    assert path.read_bytes() == before  # left as it was


def test_serve_says_why_it_cannot_use_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("my notes, not a database\n" * 50)
    done = subprocess.run(
        [sys.executable, "-m", "mlspace_sim.cli", "serve", "--port", "0", "--state", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"mlspace-sim: {path}: not an mlspace-sim state file" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_file_in_use_by_another_server_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first = new_app(path)
    with pytest.raises(StateFileError, match="in use by another mlspace-sim server"):
        create_app(state_file=path)
    persistence.of(first).close()
    create_app(state_file=path)


def test_a_command_the_file_cannot_keep_is_not_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.db"
    app = new_app(path)
    api = Api(app, WS_A)
    kept = api.call("POST", "jobs", json=JOB)["job_name"]

    def disk_full(*_args: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(persistence.StateFile, "append", disk_full)
    api.call("POST", "jobs", json=JOB, status=500)  # the write comes before the answer
    refused = api.call("POST", "jobs", json=JOB, status=503)
    assert "database or disk is full" in refused["error_message"]
    monkeypatch.undo()
    persistence.of(app).close()

    restarted = api.on(create_app(state_file=path))
    jobs = restarted.call("GET", "jobs", query_string={"region": "DGX2-MT"})["jobs"]
    assert [j["job_name"] for j in jobs] == [kept]


def test_system_connectors_date_from_the_start_whenever_first_listed() -> None:
    app = new_app(None)
    app.extensions["mlspace_sim"].world.advance(5000)
    api = Api(app, WS_A)
    connectors = api.call("GET", "data_transfer/v3/connectors")
    assert [(c["source_type"], c["created"], c["modified"]) for c in connectors] == [
        ("s3mlspace", START, START),
        ("nfs", START, START),
    ]


def test_replay_checks_builds_connectors_and_transfer_rules_too() -> None:
    app = new_app(None, seed=5)
    a, b = Api(app, WS_A), Api(app, WS_B)
    drive(a, b)
    snapshot = a.admin("GET", "state?secrets=true")
    last = snapshot["entries"][-1]["effect"]["census"]
    assert (last["builds"], last["connectors"], last["transfers"]) == (1, 1, 1)

    # a file whose build command made two builds the first time cannot be this world
    build = next(e for e in snapshot["entries"] if e["path"].endswith("build-image/jobs"))
    build["effect"]["census"]["builds"] = 2
    other = Api(new_app(None, seed=1), WS_A)
    resp = other.client.post("/_mock/state", json=snapshot)
    assert resp.status_code == 422
    assert "1 builds where the first run left 2" in resp.get_data(as_text=True)


def test_effects_recorded_before_builds_were_counted_still_replay() -> None:
    app = new_app(None, seed=5)
    a, b = Api(app, WS_A), Api(app, WS_B)
    drive(a, b)
    snapshot = a.admin("GET", "state?secrets=true")
    for entry in snapshot["entries"]:  # as stop 19's release recorded them
        census = entry["effect"]["census"]
        entry["effect"]["census"] = {k: census[k] for k in ("jobs", "servers", "bill_lines")}
    imported = Api(new_app(None, seed=1), WS_A).admin("POST", "state", json=snapshot)
    assert imported["status"] == "ok"
