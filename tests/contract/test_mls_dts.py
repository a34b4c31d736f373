"""The real ``mls connector``/``mls transfer`` commands (cloudru-ml-cli 1.3.0) in a subprocess.

These commands print text by default: tables for ``list``, a Python repr of the response for the
rest (``connector create`` prints JSON). Each test checks the exit code AND what was printed.
Connector values are read by interactive prompts, fed here on stdin; the subprocess gets its own
session so the secret prompts cannot reach a terminal.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from mock_server.testing import MockServer

pytestmark = pytest.mark.sdk

MAX_RUN_S = 900  # the longest a source takes to copy
START = "2025-02-26T10:00:00Z"  # the fixture's virtual start
S3_ANSWERS = "https://s3.cloud.ru\nmy-bucket\nAKID\nTOP-SECRET\n"


def _mls() -> str:
    beside = Path(sys.executable).with_name("mls")
    return str(beside) if beside.exists() else shutil.which("mls") or "mls"


@dataclass
class Mls:
    """``mls`` with ``HOME`` holding the server's profile, run from an empty directory."""

    env: dict[str, str]
    cwd: Path

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [_mls(), *args],
            input=stdin,
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,
            check=False,
        )

    def ok(self, *args: str, stdin: str = "") -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def repr_(self, *args: str) -> Any:
        """The Python repr a text-mode command prints, as data."""
        return ast.literal_eval(self.ok(*args).strip())


def table(text: str) -> list[list[str]]:
    """The cells of a ``tabulate`` pretty table, header row first."""
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("|")
    ]


@pytest.fixture
def mls(mlspace_server: MockServer, tmp_path: Path) -> Mls:
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    mlspace_server.write_mls_profile(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLS_")}
    env.update(HOME=str(home), NO_COLOR="1")
    return Mls(env, cwd)


def http(srv: MockServer, method: str, path: str, body: Any = None) -> Any:
    r = requests.request(
        method, f"{srv.api_url}/data_transfer/{path}", json=body, headers=srv.headers(), timeout=10
    )
    assert r.status_code == 200, r.text
    return r.json()


def s3_connector(srv: MockServer) -> tuple[str, str]:
    """(a new s3custom connector's id, the workspace bucket connector's id)."""
    made = http(
        srv,
        "POST",
        "v3/connectors",
        {
            "name": "src",
            "source_type": "s3custom",
            "parameters": {
                "endpoint": "https://s3.cloud.ru",
                "bucket": "data",
                "access_key_id": "a",
                "security_key": "b",
            },
        },
    )
    bucket = next(c for c in http(srv, "GET", "v3/connectors") if c["source_type"] == "s3mlspace")
    return made["connector_id"], bucket["connector_id"]


def create_transfer(mls: Mls, srv: MockServer, name: str, *schedule: str) -> dict[str, Any]:
    src, dst = s3_connector(srv)
    return mls.repr_(
        "transfer", "create", "--name", name, "--connector-id", src, "--dst-connector-id", dst,
        "--connector-type", "s3custom", "--dst-connector-type", "s3mlspace",
        "--source", "data/,model.pt", "--destination", "/in", "--strategy", "write_all",
        *schedule,
    )  # fmt: skip


def http_transfer(srv: MockServer, name: str, crontab: dict[str, Any]) -> str:
    """A rule made over HTTP (saves a CLI start-up where the CLI's own create is not the point)."""
    src, dst = s3_connector(srv)
    body = {
        "name": name, "connector_id": src, "destination_connector_id": dst,
        "query": {"source": ["data/", "model.pt"], "destination": "/in"},
        "connector_type": "s3custom", "destination_connector_type": "s3mlspace",
        "cluster_name": "christofari-1", "strategy": "write_all", "favorite": False,
        "description": "", "crontab": crontab,
    }  # fmt: skip
    return http(srv, "POST", "v5/transfer", body)["transfer_id"]


# ---- connectors -------------------------------------------------------------------------------
def test_connector_commands(mls: Mls, mlspace_server: MockServer) -> None:
    sources = mls.repr_("connector", "sources")
    assert {s["source_type"] for s in sources} >= {"s3custom", "postgresql"}

    out = mls.ok("connector", "create", "--connector-type", "s3custom", stdin=S3_ANSWERS + "src\n")
    s3 = json.loads(out[out.index("{") :])  # after the prompts
    assert (s3["name"], s3["status"], s3["workspace_id"]) == ("src", "success", None)
    assert s3["parameters"] == {"endpoint": "https://s3.cloud.ru", "bucket": "my-bucket"}
    assert "TOP-SECRET" not in out

    pg_answers = "analyst\npw\nwarehouse\ndb.example.com\n5432\npg\n"
    out = mls.ok(
        "connector", "create", "--connector-type", "postgresql", "--public", stdin=pg_answers
    )
    pg = json.loads(out[out.index("{") :])
    assert pg["workspace_id"] == mlspace_server.credentials.workspace_id
    assert pg["parameters"]["port"] == 5432

    rows = table(mls.ok("connector", "list"))
    assert rows[0] == ["ID", "Имя", "Тип", "Системный", "Статус", "Создан", "Параметры"]
    assert [r[1:5] for r in rows[1:]] == [
        ["s3mlspace", "s3mlspace", "True", "success"],
        ["nfs", "nfs", "True", "success"],
        ["src", "s3custom", "False", "success"],
        ["pg", "postgresql", "False", "success"],
    ]

    s3_id = s3["connector_id"]
    new_answers = "https://storage.example.com\nother-bucket\nk\ns\nrenamed\n"
    out = mls.ok(
        "connector", "update", "--connector-type", "s3custom", "--connector-id", s3_id,
        stdin=new_answers,
    )  # fmt: skip
    assert "коннектор найден" in out
    assert "'name': 'renamed'" in out and "'bucket': 'other-bucket'" in out
    missing = mls.run(
        "connector", "update", "--connector-type", "s3custom", "--connector-id", pg["connector_id"],
        stdin=new_answers,
    )  # fmt: skip
    assert missing.returncode != 0 and "коннектор не найден" in missing.stdout + missing.stderr

    tried = mls.repr_(
        "connector", "activate", "--connector-type", "s3custom", "--connector-id", s3_id
    )
    assert tried["status"] == "success"
    assert tried["logs"]["status"] == "success"
    assert tried["logs"]["logs"][-1] == "Connection test passed"

    halted = mls.repr_(
        "connector", "deactivate", "--connector-type", "s3custom", "--connector-id", s3_id
    )
    assert (halted["connector_id"], halted["status"]) == (s3_id, "inactive")

    assert mls.repr_("connector", "delete", pg["connector_id"]) == [pg["connector_id"]]
    names = [c["name"] for c in http(mlspace_server, "GET", "v3/connectors")]
    assert names == ["s3mlspace", "nfs", "renamed"]


# ---- transfers --------------------------------------------------------------------------------
def test_one_shot_transfer_runs_to_success(mls: Mls, mlspace_server: MockServer) -> None:
    made = create_transfer(mls, mlspace_server, "copy-once")
    tid = made["transfer_id"]
    assert made["execution_date"] == START and made["query"]["source"] == ["data/", "model.pt"]
    rows = table(mls.ok("transfer", "list"))
    assert rows[0] == ["Правило", "ID правила переноса", "Время запуска (UTC)", "Расписание"]
    assert [rows[1][0], rows[1][1], rows[1][3]] == ["copy-once", tid, "Один раз"]
    assert mls.repr_("transfer", "get", "--transfer-id", tid)["active"] is True

    running = mls.repr_("transfer", "history", "--transfer-id", tid)
    assert running["total_count"] == 2
    assert {(h["status"], h["progress"]) for h in running["data"]} == {("in_progress", 0)}

    mlspace_server.advance(MAX_RUN_S)
    done = mls.repr_("transfer", "history", "--transfer-id", tid)
    assert {(h["status"], h["progress"]) for h in done["data"]} == {("success", 100)}
    assert {h["source_name"] for h in done["data"]} == {"data", "model.pt"}

    logs = mls.repr_("transfer", "logs", "--transfer-id", tid)
    assert logs["count"] == 4
    assert [e["last_log"] for e in logs["items"] if e["event_type"] == 100] == [
        "File transfer success"
    ] * 2

    refused = mls.run("transfer", "update", "--transfer-id", tid, "--period", "3")
    assert "перенос не периодический" in refused.stdout + refused.stderr


def test_stop_cancels_the_running_transfer(mls: Mls, mlspace_server: MockServer) -> None:
    tid = http_transfer(mlspace_server, "big", {"start_at": START})
    mlspace_server.advance(1)
    stopped = mls.repr_(
        "transfer", "stop", "--transfer-id", tid, "--execution-date", "2025-02-26T10:00:00"
    )
    assert stopped == {"status": "cancelled"}
    mlspace_server.advance(MAX_RUN_S)
    history = mls.repr_("transfer", "history", "--transfer-id", tid)
    assert {h["status"] for h in history["data"]} == {"cancelled"}


def test_periodic_transfer_update_switch_and_delete(mls: Mls, mlspace_server: MockServer) -> None:
    every = create_transfer(mls, mlspace_server, "every-2h", "--period", "2")
    weekly = http_transfer(mlspace_server, "weekly", {"start_at": START, "weekdays": [3]})
    assert every["execution_date"] is None and every["crontab"]["period"] == 2
    schedules = {r[0]: r[3] for r in table(mls.ok("transfer", "list"))[1:]}
    assert schedules == {"every-2h": "Кажд. 2ч", "weekly": "Кажд. Ср в 10:00"}

    tid = every["transfer_id"]
    updated = mls.repr_("transfer", "update", "--transfer-id", tid, "--period", "3", "--name", "x")
    assert (updated["name"], updated["crontab"]["period"]) == ("x", 3)
    assert updated["query"] == every["query"]  # kept from the rule the CLI read first

    assert mls.repr_("transfer", "deactivate", "--transfer-id", tid)["active"] is False
    assert mls.repr_("transfer", "activate", "--transfer-id", tid)["active"] is True

    assert mls.repr_("transfer", "delete", tid, weekly) == [tid, weekly]
    assert http(mlspace_server, "GET", "v4/transfer") == []
