"""The state file (``--state``): what one self-contained file costs, and what it survives.

1. Cost per command: job submits through the app (in-process, manual clock) with no file, with
   the previous release's write-ahead log, and with this release's rollback journal (the one
   file whole after every acknowledged command); then answers on the realtime clock, each
   covered by a clock checkpoint. Same run, interleaved rounds, ratios against the WAL.
2. SIGKILL under load: ``mlspace-sim serve --state`` (realtime x50) with concurrent writers,
   killed at a random moment; a COPY of the one file (nothing beside it) is served again and
   every acknowledged job must be listed.
3. Damage: truncations, flipped bytes and a deleted tail of a recorded file; each load is
   refused naming the last good command, or loads every command; never fewer.

    python benchmarks/state_file.py [--commands 300] [--kills 10] [--writers 12] [--trials 30]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import select
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import requests

from mock_server import persistence, state_file
from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH

JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "cr.ai.cloud.ru/aicloud-base-images/horovod-cuda11.0-tf2.4.0:0.0.1",
    "instance_type": "v100.2gpu",
    "region": "DGX2-MT",
    "env_variables": {"MLSPACE_SIM_RUNTIME_S": "600"},
}
WS = "11111111-1111-4111-8111-111111111111"


def _headers(client: Any) -> dict[str, str]:
    auth = client.post("/public/v2/service_auth", json={"client_id": "k", "client_secret": "s"})
    token = auth.get_json()["token"]["access_token"]
    return {"authorization": token, "x-workspace-id": WS, "x-api-key": "k"}


def _app(where: Path | None, journal: str, **kwargs: Any) -> Any:
    state_file.JOURNAL_MODE = journal
    return create_app(state_file=where, start_epoch=DEFAULT_START_EPOCH, **kwargs)


def per_command_ms(where: Path | None, journal: str, n: int) -> float:
    app = _app(where, journal)
    client = app.test_client()
    h = _headers(client)
    t0 = time.perf_counter()
    for _ in range(n):
        assert client.post("/public/v2/jobs", json=JOB, headers=h).status_code == 200
    ms = (time.perf_counter() - t0) * 1000 / n
    persistence.of(app).close()
    return ms


def per_answer_ms(where: Path | None, journal: str, n: int) -> float:
    """GET jobs/{name} on the realtime clock: time moves, so every answer is checkpointed."""
    app = _app(where, journal, clock="realtime", speed=50.0)
    client = app.test_client()
    h = _headers(client)
    name = client.post("/public/v2/jobs", json=JOB, headers=h).get_json()["job_name"]
    t0 = time.perf_counter()
    for _ in range(n):
        assert client.get(f"/public/v2/jobs/{name}", headers=h).status_code == 200
    ms = (time.perf_counter() - t0) * 1000 / n
    persistence.of(app).close()
    return ms


def cost(n: int, rounds: int = 3) -> None:
    kinds = {"in memory": None, "WAL (previous)": "WAL", "rollback (this)": "DELETE"}
    commands: dict[str, list[float]] = {k: [] for k in kinds}
    answers: dict[str, list[float]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for kind, journal in kinds.items():
                where = None if journal is None else Path(tmp) / f"{r}-{journal}.db"
                commands[kind].append(per_command_ms(where, journal or "DELETE", n))
                where = None if journal is None else Path(tmp) / f"{r}-{journal}-get.db"
                answers[kind].append(per_answer_ms(where, journal or "DELETE", n))
    state_file.JOURNAL_MODE = "DELETE"
    print(f"1. cost, median of {rounds} rounds of {n}:")
    base_c = statistics.median(commands["WAL (previous)"])
    base_a = statistics.median(answers["WAL (previous)"])
    for kind in kinds:
        c, a = statistics.median(commands[kind]), statistics.median(answers[kind])
        print(
            f"   {kind:16} submit {c:6.2f} ms ({c / base_c:4.2f}x WAL)   "
            f"GET on realtime {a:6.2f} ms ({a / base_a:4.2f}x WAL)"
        )


class Server:
    def __init__(self, state: Path, log: Path, *flags: str) -> None:
        cmd = [sys.executable, "-m", "mlspace_sim.cli", "serve", "--state", str(state)]
        cmd += ["--port", "0", "--threads", "16", *flags]
        with log.open("ab") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        ready = select.select([self.proc.stdout], [], [], 60)[0]
        banner = self.proc.stdout.readline() if ready else ""  # type: ignore[union-attr]
        found = re.match(r"mlspace-sim serving (http://\S+)/public/v2", banner)
        self.url = found.group(1) if found else ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc.stdout.close()  # type: ignore[union-attr]


def api_headers(url: str) -> dict[str, str]:
    auth = requests.post(
        f"{url}/public/v2/service_auth", json={"client_id": "k", "client_secret": "s"}, timeout=10
    )
    token = auth.json()["token"]["access_token"]
    return {"authorization": token, "x-workspace-id": WS, "x-api-key": "k"}


def writer(url: str, acked: list[str], stop: threading.Event, lock: threading.Lock) -> None:
    s = requests.Session()
    try:
        s.headers.update(api_headers(url))
        while not stop.is_set():
            r = s.post(f"{url}/public/v2/jobs", json=JOB, timeout=10)
            if r.status_code == 200:
                with lock:
                    acked.append(r.json()["job_name"])
    except requests.RequestException:
        return


def sigkills(kills: int, writers: int, rng: random.Random) -> None:
    lost = total = refused = 0
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(kills):
            state, log = Path(tmp) / f"{k}.db", Path(tmp) / "server.log"
            server = Server(state, log, "--clock", "realtime", "--speed", "50")
            acked: list[str] = []
            stop, lock = threading.Event(), threading.Lock()
            threads = [
                threading.Thread(target=writer, args=(server.url, acked, stop, lock))
                for _ in range(writers)
            ]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.5, 2.0))  # wall time on purpose: the kill lands mid-load
            server.kill()
            stop.set()
            for t in threads:
                t.join(10)
            copy = Path(tmp) / f"{k}-copy" / "state.db"
            copy.parent.mkdir()
            shutil.copyfile(state, copy)
            again = Server(copy, log)
            if not again.url:
                refused += 1
                again.kill()
                continue
            jobs = requests.get(
                f"{again.url}/public/v2/jobs",
                params={"region": "DGX2-MT"},
                headers=api_headers(again.url),
                timeout=60,
            ).json()["jobs"]
            again.kill()
            listed = {j["job_name"] for j in jobs}
            lost += len(set(acked) - listed)
            total += len(acked)
    print(
        f"2. SIGKILL under {writers} writers, restart from a copy of the one file: {kills} kills, "
        f"{total} acknowledged submits, {lost} lost, {refused} copies refused"
    )


def damage(trials: int, rng: random.Random) -> None:
    def truncate(p: Path) -> None:
        with p.open("r+b") as f:
            f.truncate(rng.randrange(4096, p.stat().st_size))

    def flip(p: Path) -> None:
        data = bytearray(p.read_bytes())
        for i in rng.sample(range(100, len(data)), rng.choice((1, 3, 16))):
            data[i] ^= 1 << rng.randrange(8)
        p.write_bytes(bytes(data))

    def drop_tail(p: Path) -> None:
        with closing(sqlite3.connect(p)) as db, db:
            db.execute(
                "DELETE FROM commands WHERE seq > (SELECT max(seq) FROM commands) - ?",
                (rng.randint(1, 5),),
            )

    kinds: dict[str, Callable[[Path], None]] = {
        "truncated": truncate,
        "flipped bytes": flip,
        "missing tail": drop_tail,
    }
    with tempfile.TemporaryDirectory() as tmp:
        pristine = Path(tmp) / "pristine.db"
        app = _app(pristine, "DELETE")
        client, n = app.test_client(), 79
        h = _headers(client)
        for i in range(n):
            client.post("/public/v2/jobs", json={**JOB, "job_desc": f"{i} " + "x" * 300}, headers=h)
        persistence.of(app).close()
        print(f"3. damaged copies of a file of {n} commands, {trials} of each kind:")
        for kind, hurt in kinds.items():
            counts = {"refused": 0, "whole": 0, "short": 0}
            for t in range(trials):
                path = Path(tmp) / f"{kind}-{t}.db"
                shutil.copyfile(pristine, path)
                hurt(path)
                try:
                    loaded = _app(path, "DELETE")
                    replayed = persistence.resume(loaded)
                    persistence.of(loaded).close()
                except persistence.StateFileError:
                    counts["refused"] += 1
                    continue
                counts["whole" if replayed == n else "short"] += 1
            print(f"   {kind:14} {counts}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=300)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--writers", type=int, default=12)
    ap.add_argument("--trials", type=int, default=30)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    rng = random.Random(11)
    cost(args.commands)
    sigkills(args.kills, args.writers, rng)
    damage(args.trials, rng)


if __name__ == "__main__":
    main()
