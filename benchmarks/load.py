"""Load test on loopback: concurrent clients mixing submit, status, list, logs and kill.

The real server (waitress, in a thread of this process) runs a realtime clock at high speed, so
jobs queue, run and finish while the clients work. Each client has its own keep-alive session and
workspace (clients share four workspaces) and stops after ``--seconds`` or when the request
budget (``--max-requests``) is spent. Meanwhile a sampler reads ``/_mock/pools``.
Then it checks what must hold under any load:

* every request answered 200 (no 5xx, no refusal, no dropped connection); a client signs in
  again when its token expires, as the SDK does, and retries once;
* every acknowledged job exists exactly once, in its own workspace, and nothing else does; no
  name was handed out twice; no workspace listed another's job;
* a job once seen terminal never left that status; a killed job is terminal;
* no node was over-allocated in any sample (0 <= used <= total for GPUs, CPUs and memory);
* the bill is the sum of its lines, per workspace too, and only running jobs have open meters.

and prints throughput and p50/p99 latency per operation; it exits 1 when anything above failed
(any error is one: the aim is none) or when the p99 of every request together is 250 ms or
more. Log reads never follow: the server's
``log_follow_max_s`` is 0 here, so a running job's log answers with what is there now. The
client threads run in ``--processes`` spawned processes (default 2), so they do not compete with
the server for its interpreter lock; with 0 they run in the server's process.

    python benchmarks/load.py                        # 32 clients x 60 s
    python benchmarks/load.py --clients 8 --seconds 5
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests

from mock_server.app import create_app
from mock_server.server import THREADS, BackgroundServer
from mock_server.testing import DEFAULT_START_EPOCH, Credentials
from simulator.config import load_config
from simulator.jobs import RUNNING, TERMINAL
from simulator.world import World

OPS = ("submit", "status", "list", "logs", "kill")
AIM_P99_MS = 250.0  # every operation together
WEIGHTS = (3, 4, 2, 2, 1)
JOB_TYPES = (
    ("SR006", "a100plus.1gpu.80vG.12C.96G"),
    ("DGX2-MT", "v100.1gpu"),
    ("DGX2-MT", "v100.8gpu"),
    ("A100-MT", "a100.4gpu"),
    ("CCE-MT", "cpu.2C.8G"),
)
REGIONS = tuple(sorted({region for region, _ in JOB_TYPES}))
WORKSPACES = tuple(f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(1, 5))
PAGE = 6000  # the list endpoint's default and largest useful page
TOKEN_EXPIRED = 20  # the platform's error_code for an expired access token


@dataclass
class Options:
    clients: int = 32
    seconds: float = 60.0
    max_requests: int = 2_000_000
    speed: float = 120.0  # virtual seconds per wall second
    processes: int = 2  # client processes (0: client threads share the server's process)
    sample_s: float = 0.1
    seed: int = 0


@dataclass
class ClientLog:
    """What one client saw; merged after the run."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    codes: Counter[tuple[str, int]] = field(default_factory=Counter)
    acked: list[tuple[str, str]] = field(default_factory=list)  # (workspace, job name)
    killed: set[str] = field(default_factory=set)
    listed: set[tuple[str, str]] = field(default_factory=set)  # (workspace, name it listed)
    problems: list[str] = field(default_factory=list)
    reauth: int = 0  # sign-ins after a token expired


@dataclass
class Report:
    elapsed: float
    logs: list[ClientLog]
    jobs: int
    pool_samples: int
    problems: list[str]

    @property
    def requests(self) -> int:
        return sum(sum(log.codes.values()) for log in self.logs)

    def latencies(self, op: str) -> list[float]:
        return [x for log in self.logs for x in log.latencies.get(op, [])]

    def lines(self) -> list[str]:
        """The human summary: throughput, then count and p50/p99 per operation."""
        out = [
            f"{self.requests} requests in {self.elapsed:.1f} s: "
            f"{self.requests / self.elapsed:.0f} requests/s; {self.jobs} jobs; "
            f"{self.pool_samples} pool samples; "
            f"{sum(log.reauth for log in self.logs)} sign-ins after a token expired",
            f"{'operation':<8} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}  status codes",
        ]
        codes: dict[str, Counter[int]] = defaultdict(Counter)
        for log in self.logs:
            for (op, code), n in log.codes.items():
                codes[op][code] += n
        for op in (*OPS, "all"):
            lat = [x for o in OPS for x in self.latencies(o)] if op == "all" else self.latencies(op)
            if len(lat) < 2:
                continue
            q = statistics.quantiles(lat, n=100)
            seen = " ".join(f"{c}:{n}" for c, n in sorted(codes[op].items()))
            out.append(f"{op:<8} {len(lat):>7} {q[49] * 1e3:>8.2f} {q[98] * 1e3:>8.2f}  {seen}")
        out += [f"PROBLEM: {p}" for p in self.problems[:50]] or ["all invariants held"]
        return out


class Budget:
    """A shared request count and deadline."""

    def __init__(self, requests_: int, seconds: float) -> None:
        self.left = requests_
        self.deadline = time.monotonic() + seconds
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.left <= 0 or time.monotonic() >= self.deadline:
                return False
            self.left -= 1
            return True


def auth_headers(session: requests.Session, base: str, workspace: str) -> dict[str, str]:
    """The SDK's headers for ``workspace``, with a fresh token."""
    creds = Credentials()
    r = session.post(
        f"{base}/public/v2/service_auth",
        json={"client_id": creds.client_id, "client_secret": creds.client_secret},
        timeout=30,
    )
    r.raise_for_status()
    return {
        "authorization": r.json()["token"]["access_token"],
        "x-workspace-id": workspace,
        "x-api-key": creds.api_key,
    }


def job_body(rng: random.Random) -> dict[str, Any]:
    region, itype = rng.choice(JOB_TYPES)
    return {
        "script": "/home/jovyan/train.py",
        "base_image": "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40",
        "instance_type": itype,
        "region": region,
        "type": "pytorch2",
        "n_workers": rng.choice((1, 1, 2)),
        "env_variables": {"MLSPACE_SIM_RUNTIME_S": str(rng.randint(30, 1800))},
    }


class Client:
    """One simulated user: submits jobs, then watches, lists, reads and kills its own. Like the
    SDK, it signs in again when its token expires (virtual time runs fast here)."""

    def __init__(self, base: str, workspace: str, seed: int) -> None:
        self.base = base
        self.workspace = workspace
        self.rng = random.Random(seed)
        self.session = requests.Session()
        self.session.headers.update(auth_headers(self.session, base, workspace))
        self.own: list[str] = []
        self.terminal: dict[str, str] = {}
        self.log = ClientLog()

    def run(self, budget: Budget) -> None:
        try:
            while budget.take():
                op = self.rng.choices(OPS, WEIGHTS)[0] if self.own else "submit"
                getattr(self, op)()
        except Exception as exc:  # a dropped connection is a finding, not a crash of the run
            self.log.problems.append(f"{self.workspace}: {type(exc).__name__}: {exc}")
        finally:
            self.session.close()

    def call(self, op: str, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON (or text) of a 200 answer; anything else is recorded as a problem."""
        url = f"{self.base}/public/v2/{path}"
        for _ in range(2):
            t0 = time.perf_counter()
            r = self.session.request(method, url, timeout=30, **kwargs)
            self.log.latencies[op].append(time.perf_counter() - t0)
            self.log.codes[op, r.status_code] += 1
            if r.status_code != 401 or r.json().get("error_code") != TOKEN_EXPIRED:
                break
            self.log.reauth += 1
            self.session.headers.update(auth_headers(self.session, self.base, self.workspace))
        if r.status_code != 200:
            self.log.problems.append(f"{op} {path}: {r.status_code} {r.text[:200]}")
            return None
        return r.json() if r.headers["Content-Type"] == "application/json" else r.text

    def submit(self) -> None:
        answer = self.call("submit", "POST", "jobs", json=job_body(self.rng))
        if answer is not None:
            self.own.append(answer["job_name"])
            self.log.acked.append((self.workspace, answer["job_name"]))

    def status(self) -> None:
        name = self.rng.choice(self.own)
        answer = self.call("status", "GET", f"jobs/{name}")
        if answer is None:
            return
        status, seen = answer["status"].capitalize(), self.terminal.get(name)
        if answer["error_message"]:
            self.log.problems.append(f"own job {name}: {answer['error_message']}")
        elif seen is not None and status != seen:
            self.log.problems.append(f"{name} left terminal {seen} for {status}")
        if status in TERMINAL:
            self.terminal[name] = status

    def list(self) -> None:
        params = {"region": self.rng.choice(REGIONS), "limit": 50}
        answer = self.call("list", "GET", "jobs", params=params)
        if answer is not None:
            self.log.listed.update((self.workspace, j["job_name"]) for j in answer["jobs"])

    def logs(self) -> None:
        self.call("logs", "GET", f"jobs/{self.rng.choice(self.own)}/logs", params={"tail": 20})

    def kill(self) -> None:
        name = self.rng.choice(self.own)
        answer = self.call("kill", "DELETE", f"jobs/{name}")
        if answer is not None and answer["status"] == "deleted":
            self.log.killed.add(name)


def over_allocated(pools: list[dict[str, Any]]) -> list[str]:
    """Every node resource outside 0 <= used <= total."""
    return [
        f"{pool['name']}/{node['name']} {res} used {node[res]['used']} of {node[res]['total']}"
        for pool in pools
        for node in pool["nodes"]
        for res in ("gpus", "cpus", "memory_gi")
        if not 0 <= node[res]["used"] <= node[res]["total"]
    ]


class PoolSampler(threading.Thread):
    """Reads ``/_mock/pools`` every ``every`` seconds until stopped; keeps any violation."""

    def __init__(self, base: str, every: float) -> None:
        super().__init__(name="pool-sampler", daemon=True)
        self.url, self.every = f"{base}/_mock/pools", every
        self.samples = 0
        self.problems: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with requests.Session() as s:
            while not self.stop.wait(self.every):
                try:
                    pools = s.get(self.url, timeout=30).json()["pools"]
                except (requests.RequestException, ValueError, KeyError) as exc:
                    self.problems.append(f"pool sample failed: {exc!r}")
                    continue
                self.samples += 1
                self.problems += over_allocated(pools)


def listed_jobs(base: str, workspace: str) -> Counter[str]:
    """How often each job name appears in the workspace's lists (every region, every page)."""
    s = requests.Session()
    s.headers.update(auth_headers(s, base, workspace))
    seen: Counter[str] = Counter()
    for region in REGIONS:
        offset = 0
        while True:
            params = {"region": region, "limit": PAGE, "offset": offset}
            r = s.get(f"{base}/public/v2/jobs", params=params, timeout=60).json()
            seen.update(j["job_name"] for j in r["jobs"])
            offset += PAGE
            if offset >= r["count"]:
                break
    return seen


def check_jobs(base: str, world: World, logs: list[ClientLog]) -> list[str]:
    """No lost, duplicated, foreign or phantom job; killed jobs ended."""
    problems = []
    acked = [pair for log in logs for pair in log.acked]
    names = Counter(name for _, name in acked)
    problems += [f"job name {n} acknowledged {c} times" for n, c in names.items() if c > 1]
    owner = {name: ws for ws, name in acked}
    jobs = {j.name: j for j in world.list_jobs()}
    problems += [f"acknowledged job {n} is missing" for n in owner if n not in jobs]
    problems += [f"job {n} was never acknowledged" for n in jobs if n not in owner]
    for name, job in jobs.items():
        if name in owner and job.workspace != owner[name]:
            problems.append(f"job {name} is in workspace {job.workspace}, not {owner[name]}")
        if (job.status in TERMINAL) != bool(job.completed_at):
            problems.append(f"job {name} is {job.status} with completed_at={job.completed_at}")
    killed = {name for log in logs for name in log.killed}
    problems += [f"killed job {n} is {jobs[n].status}" for n in killed if not jobs[n].terminal]
    for ws in WORKSPACES:
        seen = listed_jobs(base, ws)
        problems += [f"{ws} lists {n} {c} times" for n, c in seen.items() if c > 1]
        mine = {n for n, w in owner.items() if w == ws}
        if set(seen) != mine:
            problems.append(f"{ws} lists {len(seen)} jobs, owns {len(mine)}")
    problems += [
        f"{ws} listed {name} of {owner.get(name)}"
        for log in logs
        for ws, name in log.listed
        if owner.get(name) != ws
    ]
    return problems


def same_money(a: Decimal, b: Decimal, terms: int) -> bool:
    """Equal up to the rounding of ``terms`` additions at Decimal's 28 significant digits
    (line costs are exact quotients like 150 x 7 / 3600, so the order of a sum shows there)."""
    ulp = Decimal(1).scaleb(max(a.adjusted(), b.adjusted()) - 27)
    return abs(a - b) <= ulp * (terms + 1)


def bill_problems(bill: dict[str, Any], workspace: str | None = None) -> list[str]:
    """What is wrong with a ``/_mock/billing`` answer: a total that is not the sum of its lines
    (overall and per workspace), or a line of another workspace in a filtered bill."""
    lines = bill["lines"]
    problems = []
    if workspace and any(ln["workspace"] != workspace for ln in lines):
        problems.append(f"bill of {workspace} has another workspace's lines")
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for ln in lines:
        sums[ln["workspace"]] += Decimal(ln["cost"])
    stated = {ws: Decimal(v) for ws, v in bill["workspaces"].items()} | {
        "all": Decimal(bill["total"])
    }
    sums["all"] = sum(sums.values(), Decimal(0))
    for key in stated.keys() | sums.keys():
        if not same_money(stated.get(key, Decimal(0)), sums[key], len(lines)):
            problems.append(f"bill of {workspace or 'all'}: {key} {stated.get(key)} != {sums[key]}")
    return problems


def check_bill(base: str, world: World) -> list[str]:
    """Every bill is the sum of its lines; open meters are exactly the running jobs."""
    problems = []
    for ws in (None, *WORKSPACES):
        params = {"workspace": ws} if ws else {}
        bill = requests.get(f"{base}/_mock/billing", params=params, timeout=60).json()
        problems += bill_problems(bill, ws)
    open_lines = Counter(ln["item"] for ln in world.billing_report()["lines"] if ln["running"])
    running = Counter(j.name for j in world.list_jobs(statuses=[RUNNING]))
    if open_lines != running:
        problems.append(f"{sum(open_lines.values())} open meters for {len(running)} running jobs")
    return problems


class StoppableWall:
    """Wall time for the world's realtime clock that can be stopped, so the checks after the
    run all see one virtual instant."""

    def __init__(self) -> None:
        self.stopped_at: float | None = None

    def __call__(self) -> float:
        return time.monotonic() if self.stopped_at is None else self.stopped_at

    def stop(self) -> None:
        self.stopped_at = time.monotonic()


def run_clients(
    base: str, specs: list[tuple[str, int]], seconds: float, max_requests: int, ready: Any = None
) -> tuple[list[ClientLog], float]:
    """Sign in one client per (workspace, seed), wait at ``ready`` (a barrier) if given, then
    load the server from one thread per client; their logs and the wall time it took."""
    clients = [Client(base, ws, seed) for ws, seed in specs]
    if ready is not None:
        ready.wait()
    budget = Budget(max_requests, seconds)
    threads = [threading.Thread(target=c.run, args=(budget,)) for c in clients]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [c.log for c in clients], time.perf_counter() - t0


def _client_process(
    base: str, specs: Any, seconds: float, limit: int, ready: Any, out: Any
) -> None:
    out.put(run_clients(base, specs, seconds, limit, ready))


def load(base: str, opts: Options) -> tuple[list[ClientLog], float]:
    """All clients, in this process or spread over ``opts.processes`` spawned ones (so that the
    server does not share its interpreter lock with them)."""
    specs = [(WORKSPACES[i % len(WORKSPACES)], opts.seed * 1000 + i) for i in range(opts.clients)]
    if not opts.processes:
        return run_clients(base, specs, opts.seconds, opts.max_requests)
    ctx = multiprocessing.get_context("spawn")
    ready, out = ctx.Barrier(opts.processes + 1), ctx.Queue()
    limit = -(-opts.max_requests // opts.processes)
    procs = [
        ctx.Process(
            target=_client_process,
            args=(base, specs[i :: opts.processes], opts.seconds, limit, ready, out),
            daemon=True,
        )
        for i in range(opts.processes)
    ]
    for proc in procs:
        proc.start()
    ready.wait(timeout=120)
    parts = [out.get(timeout=opts.seconds + 120) for _ in procs]
    for proc in procs:
        proc.join(timeout=10)
    return [log for logs, _ in parts for log in logs], max(elapsed for _, elapsed in parts)


def run(opts: Options) -> Report:
    """Start a server, load it, stop its clock, and check everything."""
    wall = StoppableWall()
    world = World(
        load_config(),
        seed=opts.seed,
        start_epoch=DEFAULT_START_EPOCH,
        clock="realtime",
        speed=opts.speed,
        wall=wall,
    )
    server = BackgroundServer(create_app(world, settings={"log_follow_max_s": 0.0})).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        sampler = PoolSampler(base, opts.sample_s)
        sampler.start()
        logs, elapsed = load(base, opts)
        wall.stop()
        sampler.stop.set()
        sampler.join()
        pools = requests.get(f"{base}/_mock/pools", timeout=60).json()["pools"]
        problems = [p for log in logs for p in log.problems] + sampler.problems
        problems += over_allocated(pools) + check_jobs(base, world, logs) + check_bill(base, world)
        return Report(elapsed, logs, len(world.list_jobs()), sampler.samples, problems)
    finally:
        server.stop()


def main() -> int:
    from results import emit  # a sibling module when run as a script; tests import run() only

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=Options.clients)
    p.add_argument("--seconds", type=float, default=Options.seconds)
    p.add_argument("--max-requests", type=int, default=Options.max_requests)
    p.add_argument("--speed", type=float, default=Options.speed, help="virtual s per wall s")
    p.add_argument(
        "--processes",
        type=int,
        default=Options.processes,
        help="client processes (0: in the server's process)",
    )
    p.add_argument("--seed", type=int, default=Options.seed)
    args = p.parse_args()
    opts = Options(
        clients=args.clients,
        seconds=args.seconds,
        max_requests=args.max_requests,
        speed=args.speed,
        processes=args.processes,
        seed=args.seed,
    )
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # more clients than threads
    print(
        f"{opts.clients} clients in {opts.processes or 'the server'} process(es), "
        f"{THREADS} server threads, virtual clock x{opts.speed:g}, {opts.seconds:g} s"
    )
    report = run(opts)
    print("\n".join(report.lines()))
    errors = sum(n for log in report.logs for (_, code), n in log.codes.items() if code != 200)
    print(f"{errors} answers other than 200 (aim: none); exit 1 on any error or broken invariant")
    every = [x for op in OPS for x in report.latencies(op)]
    p99_ms = statistics.quantiles(every, n=100)[98] * 1e3 if len(every) > 1 else 0.0
    print(f"p99 of every request {p99_ms:.0f} ms (aim < {AIM_P99_MS:g}; exit 1 above it)")
    met = not report.problems and not errors and p99_ms < AIM_P99_MS
    emit(
        f"{opts.clients} clients mixing submit, status, list, logs, kill for {opts.seconds:g} s",
        f"{report.requests / report.elapsed:.0f} requests/s, p99 {p99_ms:.0f} ms, {errors} errors, "
        f"{len(report.problems)} broken invariants",
        aim=f"no errors, p99 < {AIM_P99_MS:g} ms",
        met=met,
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
