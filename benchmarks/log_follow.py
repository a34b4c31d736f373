"""Log followers against everyone else: status latency while N clients follow a running job's
log on a frozen (manual) clock, where a follow stays open until its job ends or
``log_follow_max_s`` passes.

The server runs as ``mlspace-sim serve --clock manual`` in a subprocess on loopback (its own
interpreter lock, as in production); ``--code DIR`` serves another checkout (e.g. main, for the
figures before a change). For each follower count, the followers open their streams on a fresh
running job, then one client times ``--probes`` sequential ``GET jobs/{name}`` calls; then the job
is killed, which ends the streams. Baseline: the same probes with no follower, in the same run.

    python benchmarks/log_follow.py                      # 0, 24, 40, 64 followers
    python benchmarks/log_follow.py --followers 0 40 --code /work/main
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from results import emit

HERE = Path(__file__).resolve().parents[1]
MAX_FOLLOWERS = 256
MAX_PROBES = 2000
TIMEOUT_S = 30.0  # a probe slower than this counts as timed out
OPEN_WAIT_S = 15.0  # how long followers get to open their streams
JOB = {"script": "/home/jovyan/train.py", "base_image": "cr.ai.cloud.ru/aicloud-base-images/img",
       "instance_type": "a100plus.1gpu.80vG.12C.96G", "region": "SR006",
       "env_variables": {"MLSPACE_SIM_RUNTIME_S": "36000"}}  # fmt: skip
STARTED_S = 30  # virtual seconds from submit to Running on an empty pool


@dataclass
class Phase:
    followers: int
    streaming: int = 0
    refused: int = 0
    probes: list[float] = field(default_factory=list)
    timeouts: int = 0

    def pct(self, q: float) -> float:
        ordered = sorted(self.probes)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Server:
    """``mlspace-sim serve`` in a subprocess, on a free loopback port."""

    def __init__(self, code: Path, follow_max_s: float) -> None:
        env = {**os.environ, "PYTHONPATH": str(code)}
        config = Path(os.environ.get("TMPDIR", "/tmp")) / f"follow-bench-{os.getpid()}.yaml"
        config.write_text(f"server: {{log_follow_max_s: {follow_max_s}}}\n")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mlspace_sim.cli", "serve", "--clock", "manual",
             "--host", "127.0.0.1", "--port", "0", "--config", str(config)],
            env=env, cwd=code, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        found = re.search(r"(http://127\.0\.0\.1:\d+)/public/v2", line)
        if not found:
            self.stop()
            raise SystemExit(f"the server did not start: {line!r}")
        self.base = found.group(1)
        self.api = f"{self.base}/public/v2"
        # its access log goes on coming: read it, or the full pipe stalls every request
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def sign_in(api: str) -> dict[str, str]:
    r = requests.post(f"{api}/service_auth", json={"client_id": "k", "client_secret": "s"},
                      timeout=TIMEOUT_S)  # fmt: skip
    return {
        "authorization": r.json()["token"]["access_token"],
        "x-workspace-id": "11111111-1111-4111-8111-111111111111",
        "x-api-key": "bench",
    }


def follow(url: str, headers: dict[str, str], opened: threading.Semaphore, phase: Phase) -> None:
    try:
        with requests.get(url, headers=headers, stream=True, timeout=TIMEOUT_S + 30) as r:
            if r.status_code == 429:
                phase.refused += 1
                opened.release()
                return
            chunks = r.iter_content(None)
            next(chunks, None)
            phase.streaming += 1
            opened.release()
            for _ in chunks:
                pass
    except requests.RequestException:
        opened.release()


def run_phase(srv: Server, headers: dict[str, str], followers: int, probes: int) -> Phase:
    phase = Phase(followers)
    session = requests.Session()
    session.headers.update(headers)
    name = session.post(f"{srv.api}/jobs", json=JOB, timeout=TIMEOUT_S).json()["job_name"]
    session.post(f"{srv.base}/_mock/clock/advance", json={"seconds": STARTED_S}, timeout=TIMEOUT_S)
    opened = threading.Semaphore(0)
    url = f"{srv.api}/jobs/{name}/logs"
    threads = [
        threading.Thread(target=follow, args=(url, headers, opened, phase), daemon=True)
        for _ in range(followers)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + OPEN_WAIT_S
    for _ in threads:
        opened.acquire(timeout=max(0.0, deadline - time.monotonic()))
    status_url = f"{srv.api}/jobs/{name}"
    for _ in range(probes):
        t0 = time.perf_counter()
        try:
            session.get(status_url, timeout=TIMEOUT_S).raise_for_status()
            phase.probes.append(time.perf_counter() - t0)
        except requests.RequestException:
            phase.timeouts += 1
            break  # the server is starved: one timed-out probe says it
    session.delete(f"{srv.api}/jobs/{name}", params={"region": "SR006"}, timeout=TIMEOUT_S + 30)
    for t in threads:
        t.join(timeout=TIMEOUT_S + 30)
    session.close()
    return phase


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--followers", type=int, nargs="+", default=[24, 40, 64])
    p.add_argument("--probes", type=int, default=200, help="status calls timed per phase")
    p.add_argument("--code", type=Path, default=HERE, help="checkout the server runs from")
    p.add_argument("--follow-max-s", type=float, default=20.0, help="the server's hold bound")
    args = p.parse_args()
    counts = [max(0, min(MAX_FOLLOWERS, n)) for n in args.followers]
    probes = max(1, min(MAX_PROBES, args.probes))
    srv = Server(args.code.resolve(), args.follow_max_s)
    try:
        headers = sign_in(srv.api)
        base = run_phase(srv, headers, 0, probes)
        phases = [run_phase(srv, headers, n, probes) for n in counts]
    finally:
        srv.stop()
    print(f"server code: {args.code.resolve()}; frozen clock; {probes} status probes per phase")
    print(f"{'followers':>9} {'streaming':>9} {'429':>5} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'p99/base':>8} {'timeouts':>8}")  # fmt: skip
    for ph in [base, *phases]:
        ratio = ph.pct(0.99) / base.pct(0.99)
        print(
            f"{ph.followers:>9} {ph.streaming:>9} {ph.refused:>5} {ph.pct(0.5) * 1e3:>8.1f} "
            f"{ph.pct(0.99) * 1e3:>8.1f} {max(ph.probes, default=float('nan')) * 1e3:>8.1f} "
            f"{ratio:>8.2f} {ph.timeouts:>8}"
        )
    print(f"baseline p50 {statistics.median(base.probes) * 1e3:.1f} ms (no follower)")
    for ph in phases:
        emit(
            f"`GET jobs/{{name}}` while {ph.followers} clients follow a log (frozen clock)",
            f"p99 {ph.pct(0.99) * 1e3:.1f} ms, {ph.streaming} streaming, {ph.timeouts} timeouts",
            f"p99 {base.pct(0.99) * 1e3:.1f} ms with no follower",
            f"{ph.pct(0.99) / base.pct(0.99):.2f}x",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
