"""API throughput: submit+status pairs over one keep-alive connection, three servers, one run.

1. mlspace-sim (POST jobs + GET jobs/{name}) on its production stack (waitress, in a thread);
2. a bare Flask app with two trivial routes on the same stack (the ceiling of Flask+waitress),
   sent the same requests (paths, credential headers, body) and answering bodies of the same
   shape and size, so the client works alike for both and their ratio is the servers';
3. moto's server (SageMaker CreateTrainingJob + DescribeTrainingJob), the usual AWS mock.
All three get raw HTTP from the same client loop, once with a `requests.Session` (what the
official SDK, `mls_core`, sends with) and once with a keep-alive `http.client` connection (about
a fifth of the client CPU per pair, so pairs/s follows the servers more than the client).
Each is measured ``--rounds`` times in turn (best of each), per client. Then p50/p99 latency of
GET jobs/{name} with 10,000 jobs in the world, each GET followed by the same to the bare route
(what the machine alone gives at that moment). Exits 1 when a figure misses its aim (ours
>= 0.8x the bare route and >= 4x moto when moto is installed, with each client; that p99 < 3
ms). CPU per pair is split into the client loop's own and the server's (the rest of the
process), so what the client costs both sides is visible.

    pip install -e '.[bench]' && python benchmarks/api.py [--code DIR ...]

``--code DIR`` also measures the mlspace-sim of another checkout (for example an earlier commit,
``git worktree add /tmp/before <commit>``) in a subprocess, interleaved with this one, and prints
its pairs/s beside this checkout's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from http.client import HTTPConnection
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from results import emit

from mock_server.app import create_app
from mock_server.auth import AuthRegistry
from mock_server.errors import json_response
from mock_server.server import BackgroundServer
from mock_server.testing import DEFAULT_START_EPOCH, Credentials, running_server

JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "cr.ai.cloud.ru/aicloud-base-images/img",
    "instance_type": "a100plus.1gpu.80vG.12C.96G",
    "region": "SR006",
    "env_variables": {"MLSPACE_SIM_RUNTIME_S": "600"},
}


class Answer:
    """What the pairs read of an answer (as from ``requests``)."""

    def __init__(self, status: int, content: bytes) -> None:
        self.status_code, self.content = status, content

    def json(self) -> Any:
        return json.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}: {self.content[:200]!r}")


class LightSession:
    """The calls of ``requests.Session`` the pairs make, on one keep-alive ``http.client``
    connection: no adapters, hooks, cookie jar or header merging, so the client costs about a
    fifth of what ``requests`` does per pair."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self._conn: HTTPConnection | None = None

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        parts = urlsplit(url)
        if self._conn is None:
            self._conn = HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
        self._conn.request(method, parts.path, body=body, headers={**self.headers, **headers})
        answer = self._conn.getresponse()
        return Answer(answer.status, answer.read())

    def post(
        self, url: str, json: Any = None, data: str | None = None, headers: dict | None = None
    ) -> Answer:
        if json is not None:
            data, headers = _dumps(json), {**(headers or {}), "Content-Type": "application/json"}
        return self._send("POST", url, (data or "").encode(), headers or {})

    def get(self, url: str) -> Answer:
        return self._send("GET", url, None, {})


_dumps = json.dumps  # ``post`` takes a ``json`` argument, as in requests, hiding the module
# client name -> a new session; the first is the SDK's own
CLIENTS: dict[str, Callable[[], Any]] = {"requests": requests.Session, "http.client": LightSession}

# the last rate()'s CPU seconds per pair: this process's, and the client loop's own (the
# server's is the difference: its threads run in this process)
CPU_PER_PAIR: list[float] = []


def rate(n: int, pair: Callable[[int], None]) -> float:
    """Pairs per second over ``n`` sequential pairs (after a short warm-up); the process's CPU
    time per pair (client and in-thread server: steadier than wall time on a busy machine) and
    the client thread's go to ``CPU_PER_PAIR``."""
    for i in range(min(50, n)):
        pair(-1 - i)
    t0, c0, client0 = time.perf_counter(), time.process_time(), time.thread_time()
    for i in range(n):
        pair(i)
    CPU_PER_PAIR[:] = [(time.process_time() - c0) / n, (time.thread_time() - client0) / n]
    return n / (time.perf_counter() - t0)


def ours(n: int, client: Callable[[], Any] = requests.Session) -> float:
    with running_server(seed=1) as srv:
        s = client()
        s.headers.update(srv.headers())
        url = srv.api_url

        def pair(_: int) -> None:
            name = s.post(f"{url}/jobs", json=JOB).json()["job_name"]
            assert s.get(f"{url}/jobs/{name}").json()["status"] == "pending"

        return rate(n, pair)


def latencies() -> tuple[list[float], list[float]]:
    """Wall seconds of GET jobs/{name} for 2,000 of 10,000 jobs (a fixed sample) in our world,
    each followed by the same GET to the bare route, so both see the same moments of a busy
    machine: (ours, bare)."""
    ours_lat: list[float] = []
    bare_lat: list[float] = []
    with running_server(seed=1) as srv, bare_server() as (bare_s, bare_url):
        s = requests.Session()
        s.headers.update(srv.headers())
        world = srv.world
        ws = srv.credentials.workspace_id
        names = [world.submit_job(JOB, workspace=ws).name for _ in range(10_000)]
        world.advance(120)
        for name in random.Random(1).sample(names, 2000):
            for session, url, lat in ((s, srv.api_url, ours_lat), (bare_s, bare_url, bare_lat)):
                t0 = time.perf_counter()
                session.get(f"{url}/jobs/{name}").raise_for_status()
                lat.append(time.perf_counter() - t0)
    return ours_lat, bare_lat


def bare_app() -> Flask:
    """A bare Flask app taking the same requests as ours (path, credential headers, body) and
    answering the same shape and size, doing nothing else: so the client works alike for both
    and their ratio is the servers'."""
    app = Flask("bare")
    uid = "8a5c7a2e-5b0f-4e8e-9f1d-3c2b1a0f9e8d"
    stamp = {"x-request-id": uid.replace("-", "")}

    @app.post("/public/v2/jobs")
    def submit() -> object:
        body = {"job_name": f"lm-mpi-job-{uid}", "status": "Pending", "created_at": 1740564000}
        return json_response(body), stamp

    @app.get("/public/v2/jobs/<name>")
    def status(name: str) -> object:
        body = {
            "uid": uid,
            "job_name": name,
            "status": "pending",
            "created_at": 1740564000,
            "pending_at": 1740564000,
            "running_at": 0,
            "completed_at": 0,
            "error_code": 0,
            "error_message": "",
        }
        return json_response(body), stamp

    return app


def our_app() -> tuple[Flask, str]:
    """Our app built in this process (seed 1, manual clock) and a token it accepts: the app
    measured without a server (``api_profile.py``, ``api_layers.py``)."""
    app = create_app(seed=1, clock="manual", start_epoch=DEFAULT_START_EPOCH)
    creds = Credentials()
    answer = app.test_client().post(
        "/public/v2/service_auth",
        json={"client_id": creds.client_id, "client_secret": creds.client_secret},
    )
    return app, answer.get_json()["token"]["access_token"]


@contextlib.contextmanager
def bare_server(
    client: Callable[[], Any] = requests.Session,
) -> Iterator[tuple[Any, str]]:
    """:func:`bare_app` on the production server; yields the client's session and the API's
    URL."""
    credentials = Credentials()
    token = AuthRegistry(None, time.time).issue(credentials.client_id, credentials.client_secret)
    bg = BackgroundServer(bare_app()).start()
    try:
        s = client()
        s.headers.update(
            {
                "authorization": token[0] if token else "",
                "x-workspace-id": credentials.workspace_id,
                "x-api-key": credentials.api_key,
            }
        )
        yield s, f"http://127.0.0.1:{bg.port}/public/v2"
    finally:
        bg.stop()


def bare(n: int, client: Callable[[], Any] = requests.Session) -> float:
    with bare_server(client) as (s, url):

        def pair(_: int) -> None:
            name = s.post(f"{url}/jobs", json=JOB).json()["job_name"]
            assert s.get(f"{url}/jobs/{name}").json()["status"] == "pending"

        return rate(n, pair)


def moto(n: int, client: Callable[[], Any] = requests.Session) -> float | None:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        return None
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        s = client()
        auth = (
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/sagemaker/"
            "aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
        )
        url = f"http://127.0.0.1:{port}/"

        def call(target: str, body: dict) -> dict:
            r = s.post(
                url,
                data=json.dumps(body),
                headers={
                    "X-Amz-Target": f"SageMaker.{target}",
                    "Authorization": auth,
                    "Content-Type": "application/x-amz-json-1.1",
                    "X-Amz-Date": "20250101T000000Z",
                },
            )
            r.raise_for_status()
            return r.json()

        def pair(i: int) -> None:
            name = f"job-{i + 100}"
            call(
                "CreateTrainingJob",
                {
                    "TrainingJobName": name,
                    "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
                    "RoleArn": "arn:aws:iam::123456789012:role/sim",
                    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
                    "ResourceConfig": {
                        "InstanceType": "ml.p3.2xlarge",
                        "InstanceCount": 1,
                        "VolumeSizeInGB": 10,
                    },
                    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
                },
            )
            assert call("DescribeTrainingJob", {"TrainingJobName": name})["TrainingJobName"] == name

        return rate(n, pair)
    finally:
        server.stop()


def other_checkout(code: str, pairs: int) -> dict[str, float]:
    """Submit+status pairs/s and CPU ms per pair of the mlspace-sim in checkout ``code`` (same
    script, its code)."""
    env = {**os.environ, "PYTHONPATH": os.path.abspath(code)}
    out = subprocess.run(
        [sys.executable, __file__, "--pairs", str(pairs), "--ours-only"],
        env=env,
        cwd=code,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(codes: list[str], pairs: int, rounds: int = 3) -> None:
    """This checkout against others, alternating so machine load falls on each alike."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    runs: dict[str, list[dict[str, float]]] = {here: [], **{c: [] for c in codes}}
    for _ in range(rounds):
        for code in runs:
            runs[code].append(other_checkout(code, pairs))
    best_rate = max(r["pairs_per_s"] for r in runs[here])
    best_cpu = min(r["cpu_ms_per_pair"] for r in runs[here])
    for code, got in runs.items():
        rate_ = max(r["pairs_per_s"] for r in got)
        cpu = min(r["cpu_ms_per_pair"] for r in got)
        print(
            f"{code:32s} best {rate_:5.0f} pairs/s (x{rate_ / best_rate:.2f}), "
            f"CPU {cpu:.2f} ms/pair (x{cpu / best_cpu:.2f}) vs this checkout, best of {rounds}"
        )


def interleaved(
    pairs: int, rounds: int, client: Callable[[], Any]
) -> dict[str, tuple[float, float, float]]:
    """Best pairs/s (and the process's and client's CPU s/pair of that round) of ours, bare and
    moto over ``rounds`` rounds taken in turn, so machine load falls on each alike; moto is left
    out when absent."""
    runs: dict[str, list[tuple[float, float, float]]] = {"ours": [], "bare": [], "moto": []}
    for _ in range(rounds):
        for name, measure in (("ours", ours), ("bare", bare), ("moto", moto)):
            got = measure(pairs, client)
            if got is not None:
                runs[name].append((got, *CPU_PER_PAIR))
    return {name: max(got) for name, got in runs.items() if got}


AIM_BARE = 0.8  # ours/bare Flask on the same server
AIM_MOTO = 4.0  # ours/moto
AIM_P99_MS = 3.0  # GET jobs/{name} with 10,000 jobs


def server_ms(cpu: float, client: float) -> float:
    """The server's CPU ms per pair: the process's less the client loop's own."""
    return (cpu - client) * 1e3


def cpu_text(cpu: float, client: float) -> str:
    return (
        f"CPU {cpu * 1e3:.2f} ms/pair (client {client * 1e3:.2f}, "
        f"server {server_ms(cpu, client):.2f})"
    )


def report(client: str, best: dict[str, tuple[float, float, float]]) -> list[str]:
    """Print and emit one client's pairs against the bare route and moto, and the servers' CPU
    alone; the aims it misses."""
    print(f"client: {client}")
    (ours_rate, *ours_cpu), (bare_rate, *bare_cpu) = best["ours"], best["bare"]
    moto_rate, *moto_cpu = best.get("moto") or (None,)
    print(f"mlspace-sim submit+status   {ours_rate:8.0f} pairs/s   {cpu_text(*ours_cpu)}")
    vs_bare = ours_rate / bare_rate
    print(
        f"bare Flask, same stack      {bare_rate:8.0f} pairs/s   {cpu_text(*bare_cpu)}   "
        f"ours/bare = {vs_bare:.2f} (aim >= {AIM_BARE})"
    )
    short = [] if vs_bare >= AIM_BARE else [f"{client}: ours/bare {vs_bare:.2f} < {AIM_BARE}"]
    emit(
        f"API submit+status pairs over one keep-alive connection (waitress, `{client}` client)",
        f"{ours_rate:,.0f} pairs/s, server CPU {server_ms(*ours_cpu):.2f} ms/pair",
        f"bare Flask route, same requests: {bare_rate:,.0f} pairs/s, server CPU "
        f"{server_ms(*bare_cpu):.2f} ms/pair",
        f"{vs_bare:.2f}x",
        f">= {AIM_BARE}x",
        not short,
    )
    if moto_rate:
        vs_moto = ours_rate / moto_rate
        print(
            f"moto SageMaker create+desc  {moto_rate:8.0f} pairs/s   ours/moto = "
            f"{vs_moto:.2f} (aim >= {AIM_MOTO}; bare/moto = {bare_rate / moto_rate:.2f}, the "
            "most any app reaches on this server and client)"
        )
        if vs_moto < AIM_MOTO:
            short.append(f"{client}: ours/moto {vs_moto:.2f} < {AIM_MOTO}")
        emit(
            f"the same pairs against moto (SageMaker CreateTrainingJob + DescribeTrainingJob), "
            f"`{client}` client",
            f"{ours_rate:,.0f} pairs/s",
            f"moto {moto_rate:,.0f} pairs/s (bare Flask/moto {bare_rate / moto_rate:.2f}x)",
            f"{vs_moto:.2f}x",
            f">= {AIM_MOTO}x",
            vs_moto >= AIM_MOTO,
        )
        ours_server, moto_server = server_ms(*ours_cpu), server_ms(*moto_cpu)
        print(
            f"server CPU per pair: ours {ours_server:.2f} ms, moto {moto_server:.2f} ms, "
            f"moto/ours = {moto_server / ours_server:.2f} (what pairs/s would show with a client "
            "that cost nothing)"
        )
        emit(
            f"the same pairs, server CPU only (the `{client}` client's own CPU taken out)",
            f"{ours_server:.2f} ms/pair",
            f"moto {moto_server:.2f} ms/pair",
            f"{moto_server / ours_server:.2f}x",
            "",
            None,
        )
    else:
        print("moto not installed: pip install -e '.[bench]'")
    return short


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds, best of each")
    p.add_argument("--code", action="append", default=[], help="another checkout to compare")
    p.add_argument("--ours-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.ours_only:
        pairs_per_s = ours(args.pairs)
        print(json.dumps({"pairs_per_s": pairs_per_s, "cpu_ms_per_pair": CPU_PER_PAIR[0] * 1e3}))
        return 0
    if args.code:
        compare(args.code, args.pairs)
    short: list[str] = []
    for name, client in CLIENTS.items():
        short += report(name, interleaved(args.pairs, args.rounds, client))
    lat, bare_lat = latencies()
    q = statistics.quantiles(lat, n=100)
    p50_ms, p99_ms = q[49] * 1e3, q[98] * 1e3
    b = statistics.quantiles(bare_lat, n=100)
    bare_p50_ms, bare_p99_ms = b[49] * 1e3, b[98] * 1e3
    print(
        f"GET jobs/{{name}} with 10,000 jobs: p50 {p50_ms:.2f} ms, p99 {p99_ms:.2f} ms "
        f"(aim < {AIM_P99_MS:g}; bare route, interleaved: p50 {bare_p50_ms:.2f} ms, "
        f"p99 {bare_p99_ms:.2f} ms)"
    )
    if p99_ms >= AIM_P99_MS:
        short.append(f"GET jobs/{{name}} p99 {p99_ms:.2f} ms >= {AIM_P99_MS:g}")
    emit(
        "`GET jobs/{name}` with 10,000 jobs in the world",
        f"p50 {p50_ms:.2f} ms, p99 {p99_ms:.2f} ms",
        f"bare route interleaved: p50 {bare_p50_ms:.2f} ms, p99 {bare_p99_ms:.2f} ms",
        f"{p99_ms / bare_p99_ms:.2f}x",
        f"p99 < {AIM_P99_MS:g} ms",
        p99_ms < AIM_P99_MS,
    )
    print("\n".join(f"UNDER AIM: {s}" for s in short) or "every ratio at its aim")
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
