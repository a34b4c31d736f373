"""Crash test of ``mlspace-sim serve --state``: clients submit jobs and open Jupyter Servers
concurrently, the server is killed with SIGKILL at a seeded random moment and restarted on the
same file. Every acknowledged job and server must be there with a status at least as far along
as the last one a client saw, nothing may be duplicated, the bill must still add up, and (first
seed) a second crash and restart must change nothing.

The server runs as a real subprocess on a free loopback port, on the realtime clock (x50), so
commands race with virtual time as they would for a user. Loops are bounded in count and time.
"""

from __future__ import annotations

import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.reliability.support import IMAGE, JOB

SEEDS = (11, 22, 33)
START = "2025-02-26T10:00:00Z"
WORKSPACES = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")
CLIENTS = 3
MAX_ACTIONS = 400  # per client, far more than fit before the kill
STARTUP_S = 30.0
TIMEOUT_S = 10.0
JOB_RANK = {"pending": 0, "running": 1}  # anything else is an end
SERVER_RANK = {"waiting": 0, "creating": 0, "running": 1, "pausing": 2, "paused": 3}


def job_rank(status: str) -> int:
    return JOB_RANK.get(status.lower(), 2)


class Server:
    """``mlspace-sim serve --state FILE`` in a subprocess; the URL is read from its banner."""

    def __init__(self, state: Path, seed: int, log: Path) -> None:
        cmd = [sys.executable, "-m", "mlspace_sim.cli", "serve", "--state", str(state)]
        cmd += ["--port", "0", "--seed", str(seed), "--start-time", START]
        cmd += ["--clock", "realtime", "--speed", "50", "--threads", "8"]
        with log.open("ab") as err:
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=err, text=True, cwd=state.parent
            )
        ready, _, _ = select.select([self.proc.stdout], [], [], STARTUP_S)
        banner = self.proc.stdout.readline() if ready else ""  # type: ignore[union-attr]
        found = re.match(r"mlspace-sim serving (http://\S+)/public/v2", banner)
        if not found:
            self.proc.kill()
            pytest.fail(f"no banner ({banner!r}); stderr:\n{log.read_text()}")
        self.url = found.group(1)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(TIMEOUT_S)
        self.proc.stdout.close()  # type: ignore[union-attr]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[[int], Server]]:
    """Start servers on one state file; any still running at the end is killed."""
    started: list[Server] = []

    def run(seed: int, state: Path | None = None) -> Server:
        state = state or tmp_path / "state.db"
        started.append(Server(state, seed, tmp_path / "server.log"))
        return started[-1]

    yield run
    for server in started:
        server.kill()


@dataclass
class Seen:
    """What the clients were told: acknowledged ids and the latest status each showed."""

    jobs: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (workspace, status)
    servers: dict[str, tuple[str, str]] = field(default_factory=dict)  # uid -> (ws, status)
    killed: set[str] = field(default_factory=set)
    paused: set[str] = field(default_factory=set)
    cut: Counter[tuple[str, str]] = field(default_factory=Counter)  # (ws, action) without answer
    clock: float = 0.0
    surprises: list[str] = field(default_factory=list)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    working: threading.Event = field(default_factory=threading.Event)  # a server acknowledged


def _headers(url: str, ws: str) -> dict[str, str]:
    auth = requests.post(
        f"{url}/public/v2/service_auth",
        json={"client_id": "k", "client_secret": "s"},
        timeout=TIMEOUT_S,
    )
    token = auth.json()["token"]["access_token"]
    return {"authorization": token, "x-workspace-id": ws, "x-api-key": "key-" + ws[:4]}


def client(url: str, n: int, rng: random.Random, seen: Seen, stop: threading.Event) -> None:
    """Random commands and looks until the server dies (or MAX_ACTIONS)."""
    ws = WORKSPACES[n % len(WORKSPACES)]
    api = f"{url}/public/v2"
    session = requests.Session()
    try:
        session.headers.update(_headers(url, ws))
        ns = session.get(f"{api}/workspaces/v3/", timeout=TIMEOUT_S).json()["workspaces"]
    except requests.RequestException:
        return
    namespace = next(w["namespace"] for w in ns if w["id"] == ws)
    with seen.lock:
        seen.headers[ws] = dict(session.headers)
    mine_jobs: list[str] = []
    mine_servers: list[str] = []
    for i in range(MAX_ACTIONS):
        if stop.is_set():
            return
        action = rng.choices(
            ("submit", "server", "kill", "pause", "look", "advance"), (6, 2, 1, 1, 3, 1)
        )[0]
        try:
            if action == "submit":
                runtime = str(rng.randint(20, 200))
                body = {**JOB, "env_variables": {"MLSPACE_SIM_RUNTIME_S": runtime}}
                r = session.post(f"{api}/jobs", json=body, timeout=TIMEOUT_S)
                if r.status_code == 200:
                    mine_jobs.append(r.json()["job_name"])
                    with seen.lock:
                        seen.jobs[mine_jobs[-1]] = (ws, "pending")
            elif action == "server":
                body = {
                    "name": f"nb-{n}-{i}",
                    "image": IMAGE,
                    "instance_type": "v100.1gpu",
                    "region": "DGX2-MT",
                }
                r = session.post(
                    f"{api}/notebooks/v2/{namespace}/notebook", json=body, timeout=TIMEOUT_S
                )
                if r.status_code == 200:
                    mine_servers.append(r.json()["uuid"])
                    with seen.lock:
                        seen.servers[mine_servers[-1]] = (ws, r.json()["status"])
                    seen.working.set()
            elif action == "kill" and mine_jobs:
                name = rng.choice(mine_jobs)
                r = session.delete(
                    f"{api}/jobs/{name}", params={"region": "DGX2-MT"}, timeout=TIMEOUT_S
                )
                if r.status_code == 200:
                    with seen.lock:
                        seen.killed.add(name)
            elif action == "pause" and mine_servers:
                uid = rng.choice(mine_servers)
                r = session.post(f"{api}/notebooks/v2/notebook/{uid}/pause", timeout=TIMEOUT_S)
                if r.status_code == 200:
                    with seen.lock:
                        seen.paused.add(uid)
            elif action == "look" and mine_jobs:
                name = rng.choice(mine_jobs)
                r = session.get(f"{api}/jobs/{name}", timeout=TIMEOUT_S)
                if r.status_code == 200:
                    with seen.lock:
                        seen.jobs[name] = (ws, r.json()["status"])
            elif action == "advance":
                r = session.post(
                    f"{url}/_mock/clock/advance", json={"seconds": 60}, timeout=TIMEOUT_S
                )
                if r.status_code == 200:
                    with seen.lock:
                        seen.clock = max(seen.clock, r.json()["now_epoch"])
            else:
                continue
        except requests.RequestException:  # the server died; this command may or may not count
            with seen.lock:
                seen.cut[ws, action] += 1
            return
        if r.status_code not in (200, 409):  # 409: pausing a server that is not running
            with seen.lock:
                seen.surprises.append(f"{action}: {r.status_code} {r.text[:200]}")


def observe(url: str, seen: Seen) -> dict[str, Any]:
    """The restarted server's view: every job and server of both workspaces, bill, clock."""
    out: dict[str, Any] = {"jobs": {}, "servers": {}}
    for ws, headers in seen.headers.items():  # the tokens issued before the crash
        got = requests.get(
            f"{url}/public/v2/jobs", params={"region": "DGX2-MT"}, headers=headers, timeout=30
        )
        assert got.status_code == 200, got.text
        jobs = got.json()["jobs"]
        assert len({j["job_name"] for j in jobs}) == len(jobs), "a job listed twice"
        out["jobs"].update({j["job_name"]: (ws, j["status"], j["uid"]) for j in jobs})
        got = requests.get(f"{url}/public/v2/notebooks/v2/notebooks", headers=headers, timeout=30)
        books = got.json()["notebooks"]
        assert len({b["uuid"] for b in books}) == len(books), "a server listed twice"
        out["servers"].update({b["uuid"]: (ws, b["status"]) for b in books})
    out["bill"] = requests.get(f"{url}/_mock/billing", timeout=30).json()
    out["clock"] = requests.get(f"{url}/_mock/clock", timeout=30).json()
    out["entries"] = requests.get(f"{url}/_mock/state", timeout=30).json()["entries"]
    return out


def check(after: dict[str, Any], seen: Seen) -> None:
    jobs, servers = after["jobs"], after["servers"]
    assert not seen.surprises
    for name, (ws, status) in seen.jobs.items():
        assert name in jobs, f"acknowledged job {name} lost"
        assert jobs[name][0] == ws
        assert job_rank(jobs[name][1]) >= job_rank(status), (name, status, jobs[name])
        if name in seen.killed:
            assert job_rank(jobs[name][1]) == 2, (name, jobs[name])
    for ws in WORKSPACES:  # only a submit cut by the crash may have landed unacknowledged
        extra = [n for n, v in jobs.items() if v[0] == ws and n not in seen.jobs]
        assert len(extra) <= seen.cut[ws, "submit"], (ws, extra)
        extra = [u for u, v in servers.items() if v[0] == ws and u not in seen.servers]
        assert len(extra) <= seen.cut[ws, "server"], (ws, extra)
    for uid, (ws, status) in seen.servers.items():
        assert uid in servers, f"acknowledged server {uid} lost"
        assert servers[uid][0] == ws
        now = servers[uid][1]
        assert SERVER_RANK[now] >= SERVER_RANK[status], (uid, status, now)
        if uid in seen.paused:
            assert now in ("pausing", "paused"), (uid, now)
    bill = after["bill"]
    lines = bill["lines"]
    assert len({ln["line_id"] for ln in lines}) == len(lines)
    for ws, total in bill["workspaces"].items():
        mine = [Decimal(ln["cost"]) for ln in lines if ln["workspace"] == ws]
        assert Decimal(total) == sum(mine, Decimal(0))
    # line costs are kopecks, so the total is their exact sum
    assert Decimal(bill["total"]) == sum((Decimal(ln["cost"]) for ln in lines), Decimal(0))
    assert {ln["item"] for ln in lines} <= set(jobs) | set(servers)
    assert after["clock"]["now_epoch"] >= seen.clock


@pytest.mark.parametrize("seed", SEEDS)
def test_acknowledged_work_survives_sigkill(
    start: Callable[..., Server], seed: int, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    server = start(seed)
    seen, stop = Seen(), threading.Event()
    threads = [
        threading.Thread(
            target=client, args=(server.url, n, random.Random(rng.random()), seen, stop)
        )
        for n in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    assert seen.working.wait(STARTUP_S), "no server was ever acknowledged"
    time.sleep(rng.uniform(0.2, 1.2))  # wall time on purpose: the crash comes mid-traffic
    server.kill()
    stop.set()
    for t in threads:
        t.join(TIMEOUT_S)
    assert seen.jobs and seen.servers, "the crash came before any work was acknowledged"

    moved = tmp_path / "moved" / "state.db"
    moved.parent.mkdir()
    shutil.copyfile(tmp_path / "state.db", moved)  # the one file, nothing beside it
    server = start(seed, moved)
    after = observe(server.url, seen)
    server.kill()  # with nothing in flight
    check(after, seen)
    if seed != SEEDS[0]:  # (each start costs a second or two)
        return

    server = start(seed, moved)  # a restart after a quiet crash changes nothing
    again = observe(server.url, seen)
    server.kill()
    assert again["entries"] == after["entries"]
    assert {n: v[2] for n, v in again["jobs"].items()} == {
        n: v[2] for n, v in after["jobs"].items()
    }
    check(again, seen)
