"""API throughput: submit+status pairs over one keep-alive connection, three servers, one run.

1. mlspace-sim (POST jobs + GET jobs/{name}) on its production stack (waitress, in a thread);
2. a bare Flask app with two trivial routes on the same stack (the ceiling of Flask+waitress);
3. moto's server (SageMaker CreateTrainingJob + DescribeTrainingJob), the usual AWS mock.
All three get raw HTTP from the same `requests.Session` loop, so client cost is the same.
Each is measured ``--rounds`` times in turn (best of each). Then p50/p99 latency of
GET jobs/{name} with 10,000 jobs in the world. Exits 1 when a ratio falls under its aim (ours
>= 0.8x the bare route, >= 4x moto when moto is installed).

    pip install -e '.[bench]' && python benchmarks/api.py [--code DIR ...]

``--code DIR`` also measures the mlspace-sim of another checkout (for example an earlier commit,
``git worktree add /tmp/before <commit>``) in a subprocess, interleaved with this one, and prints
its pairs/s beside this checkout's.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import requests
from flask import Flask

from mock_server.errors import json_response
from mock_server.server import BackgroundServer
from mock_server.testing import running_server

JOB = {"script": "/home/jovyan/train.py", "base_image": "cr.ai.cloud.ru/aicloud-base-images/img",
       "instance_type": "a100plus.1gpu.80vG.12C.96G", "region": "SR006",
       "env_variables": {"MLSPACE_SIM_RUNTIME_S": "600"}}


CPU_PER_PAIR: list[float] = []  # this process's CPU seconds per pair of the last rate()


def rate(n: int, pair: Callable[[int], None]) -> float:
    """Pairs per second over ``n`` sequential pairs (after a short warm-up); the process's CPU
    time per pair (client and in-thread server: steadier than wall time on a busy machine)
    goes to ``CPU_PER_PAIR``."""
    for i in range(min(50, n)):
        pair(-1 - i)
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(n):
        pair(i)
    CPU_PER_PAIR[:] = [(time.process_time() - c0) / n]
    return n / (time.perf_counter() - t0)


def ours(n: int, *, latency: bool = True) -> tuple[float, list[float]]:
    with running_server(seed=1) as srv:
        s = requests.Session()
        s.headers.update(srv.headers())
        url = srv.api_url

        def pair(_: int) -> None:
            name = s.post(f"{url}/jobs", json=JOB).json()["job_name"]
            assert s.get(f"{url}/jobs/{name}").json()["status"] == "pending"

        pairs = rate(n, pair)
        if not latency:
            return pairs, []
        world = srv.world
        ws = srv.credentials.workspace_id
        names = [world.submit_job(JOB, workspace=ws).name for _ in range(10_000)]
        world.advance(120)
        lat = []
        for name in random.Random(1).sample(names, 2000):
            t0 = time.perf_counter()
            s.get(f"{url}/jobs/{name}").raise_for_status()
            lat.append(time.perf_counter() - t0)
        return pairs, lat


def bare(n: int) -> float:
    app = Flask("bare")

    @app.post("/jobs")
    def submit() -> object:
        return json_response({"job_name": "lm-mpi-job-x", "status": "Pending"})

    @app.get("/jobs/<name>")
    def status(name: str) -> object:
        return json_response({"job_name": name, "status": "pending"})

    bg = BackgroundServer(app).start()
    try:
        s = requests.Session()
        url = f"http://127.0.0.1:{bg.port}"

        def pair(_: int) -> None:
            name = s.post(f"{url}/jobs", json=JOB).json()["job_name"]
            s.get(f"{url}/jobs/{name}").raise_for_status()

        return rate(n, pair)
    finally:
        bg.stop()


def moto(n: int) -> float | None:
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
        s = requests.Session()
        auth = ("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/sagemaker/"
                "aws4_request, SignedHeaders=host;x-amz-date, Signature=0")
        url = f"http://127.0.0.1:{port}/"

        def call(target: str, body: dict) -> dict:
            r = s.post(url, data=json.dumps(body), headers={
                "X-Amz-Target": f"SageMaker.{target}", "Authorization": auth,
                "Content-Type": "application/x-amz-json-1.1", "X-Amz-Date": "20250101T000000Z"})
            r.raise_for_status()
            return r.json()

        def pair(i: int) -> None:
            name = f"job-{i + 100}"
            call("CreateTrainingJob", {
                "TrainingJobName": name,
                "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
                "RoleArn": "arn:aws:iam::123456789012:role/sim",
                "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
                "ResourceConfig": {"InstanceType": "ml.p3.2xlarge", "InstanceCount": 1,
                                   "VolumeSizeInGB": 10},
                "StoppingCondition": {"MaxRuntimeInSeconds": 3600}})
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


def interleaved(pairs: int, rounds: int) -> dict[str, tuple[float, float]]:
    """Best pairs/s (and the CPU s/pair of that round) of ours, bare and moto over ``rounds``
    rounds taken in turn, so machine load falls on each alike; moto is left out when absent."""
    runs: dict[str, list[tuple[float, float]]] = {"ours": [], "bare": [], "moto": []}
    for _ in range(rounds):
        for name, measure in (("ours", lambda: ours(pairs, latency=False)[0]),
                              ("bare", lambda: bare(pairs)), ("moto", lambda: moto(pairs))):
            got = measure()
            if got is not None:
                runs[name].append((got, CPU_PER_PAIR[0]))
    return {name: max(got) for name, got in runs.items() if got}


AIM_BARE = 0.8  # ours/bare Flask on the same server
AIM_MOTO = 4.0  # ours/moto


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds, best of each")
    p.add_argument("--code", action="append", default=[], help="another checkout to compare")
    p.add_argument("--ours-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.ours_only:
        pairs_per_s = ours(args.pairs, latency=False)[0]
        print(json.dumps({"pairs_per_s": pairs_per_s, "cpu_ms_per_pair": CPU_PER_PAIR[0] * 1e3}))
        return 0
    if args.code:
        compare(args.code, args.pairs)
    best = interleaved(args.pairs, args.rounds)
    (ours_rate, ours_cpu), (bare_rate, bare_cpu) = best["ours"], best["bare"]
    moto_rate = best["moto"][0] if "moto" in best else None
    lat = ours(args.pairs)[1]
    short = []  # the ratios under their aim
    print(f"mlspace-sim submit+status   {ours_rate:8.0f} pairs/s   "
          f"CPU {ours_cpu * 1e3:.2f} ms/pair")
    ratio = ours_rate / bare_rate
    print(f"bare Flask, same stack      {bare_rate:8.0f} pairs/s   "
          f"CPU {bare_cpu * 1e3:.2f} ms/pair   ours/bare = {ratio:.2f} (aim >= {AIM_BARE})")
    if ratio < AIM_BARE:
        short.append(f"ours/bare {ratio:.2f} < {AIM_BARE}")
    if moto_rate:
        ratio = ours_rate / moto_rate
        print(f"moto SageMaker create+desc  {moto_rate:8.0f} pairs/s   ours/moto = "
              f"{ratio:.2f} (aim >= {AIM_MOTO})")
        if ratio < AIM_MOTO:
            short.append(f"ours/moto {ratio:.2f} < {AIM_MOTO}")
    else:
        print("moto not installed: pip install -e '.[bench]'")
    q = statistics.quantiles(lat, n=100)
    print(f"GET jobs/{{name}} with 10,000 jobs: p50 {q[49] * 1e3:.2f} ms, p99 {q[98] * 1e3:.2f} ms")
    print("\n".join(f"UNDER AIM: {s}" for s in short) or "every ratio at its aim")
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
