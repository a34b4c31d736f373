"""What must hold in every world at every instant, and a driver that checks it event by event.

The driver applies commands (plain tuples, so a sequence can be replayed on a fresh world) and,
when observing, wraps the SimPy environment's ``step`` so capacity and queue order are checked
after every engine event, not only between commands, without changing how time advances. The
checks read the engine under the World (its reports and tables), never the World itself, since
a World call in the middle of a step would try to run the clock.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from simulator import Rejected, World
from simulator.engine import Engine
from simulator.jobs import Job
from tests.unit.builders import gpu_pool, job, world

NB_HOLDING = frozenset({"creating", "resuming", "running"})
TERMINAL = frozenset({"Completed", "Succeeded", "Failed", "Deleted", "Terminated"})

TOPOLOGY: dict[str, Any] = {
    "pools": [
        gpu_pool("direct", 16, serves=("notebook",)),
        gpu_pool("region", 16, 8, 8),
        {
            "name": "cpu",
            "serves": ["job"],
            "resource": "cpu",
            "nodes": [{"count": 2, "cpus": 16, "memory_gi": 64}],
        },
        {
            "name": "cpu-nb",
            "serves": ["notebook"],
            "resource": "cpu",
            "nodes": [{"cpus": 8, "memory_gi": 32}],
        },
    ],
    "runtime": {
        "gpu": {"median_s": 600, "sigma": 1.0, "failure_p": 0.2},
        "cpu": {"median_s": 120, "sigma": 1.0, "failure_p": 0.2},
        "elastic": {"median_s": 300, "sigma": 1.0, "failure_p": 0.2},
    },
}
JOB_TYPES = [
    ("DGX2-MT", "v100.1gpu"),
    ("DGX2-MT", "v100.2gpu"),
    ("DGX2-MT", "v100.4gpu"),
    ("DGX2-MT", "v100.8gpu"),
    ("DGX2-MT", "v100.16gpu"),
    ("A100-MT", "a100.1gpu"),
    ("A100-MT", "a100.8gpu"),
    ("CCE-MT", "cpu.2C.8G"),
    ("CCE-MT", "cpu.8C.32G"),
    ("CCE-MT", "cpu.16C.64G"),
]
NOTEBOOK_TYPES = [
    ("DGX2-MT", "free.0gpu"),
    ("DGX2-MT", "v100.1gpu"),
    ("DGX2-MT", "v100.4gpu"),
    ("DGX2-MT", "v100.8gpu"),
    ("DGX2-MT", "v100.16gpu"),
    ("A100-MT", "a100.2gpu"),
    ("CCE-MT", "cpu.2C.8G"),
]


def small_world(seed: int, **overrides: Any) -> World:
    return world({**TOPOLOGY, **overrides}, seed=seed)


def job_pool(j: Job) -> str:
    return "region" if j.itype.gpus else "cpu"


def notebook_pool(book: Any) -> str | None:
    if book.itype.gpus:
        return "direct"
    return "cpu-nb" if book.itype.key != "free.0gpu" else None


def can_ever_fit(w: World, region: str, itype_key: str, n_workers: int) -> bool:
    """Independent oracle: whole workers on the empty nodes of the pool that serves the job."""
    itype = w.config.catalog.instance_type(region, itype_key)
    spec = next(p for p in w.config.pools if p["name"] == ("region" if itype.gpus else "cpu"))
    room = 0
    for group in spec["nodes"]:
        per_node = [
            math.floor(group.get("cpus", 0) * 1000 / round(itype.cpu * 1000)),
            math.floor(group.get("memory_gi", 0) * 1024 / round(itype.memory_gi * 1024)),
        ]
        if itype.gpus:
            per_node.append(group["gpus"] // itype.gpus)
        room += min(per_node) * group.get("count", 1)
    return n_workers * itype.gpus <= 1000 and room >= n_workers


def live_books(e: Engine) -> list[Any]:
    return [b for b in e.notebooks.values() if not b.deleted]


def waiting_requests(e: Engine) -> list[tuple[str, Any]]:
    """(pool, job or server) for each entry of ``pending()``, in launch order; a server may be
    listed through its queue ticket, which names it as ``book``."""
    out: list[tuple[str, Any]] = []
    for entry in e.pending():
        if isinstance(entry, Job):
            out.append((job_pool(entry), entry))
        else:
            book = getattr(entry, "book", entry)
            out.append((notebook_pool(book), book))
    return out


def waiting_jobs(e: Engine) -> list[Job]:
    return [req for _, req in waiting_requests(e) if isinstance(req, Job)]


# ---- invariants ---------------------------------------------------------------------------------
def check_capacity(e: Engine) -> None:
    """No node or pool over-allocated, and what is used is exactly what the holders hold."""
    expected: dict[str, Counter] = {}
    for j in e.jobs.values():
        if j.placed_at and j.status not in TERMINAL:
            use = expected.setdefault(job_pool(j), Counter())
            use["gpus"] += j.gpu_count
            use["mcpu"] += j.n_workers * round(j.itype.cpu * 1000)
    for book in live_books(e):
        name = notebook_pool(book)
        if name and book.status in NB_HOLDING:
            use = expected.setdefault(name, Counter())
            use["gpus"] += book.itype.gpus
            use["mcpu"] += round(book.itype.cpu * 1000)
    for rep in e.pools_report():
        for node in rep["nodes"]:
            for resource in ("gpus", "cpus", "memory_gi"):
                assert 0 <= node[resource]["used"] <= node[resource]["total"], (rep["name"], node)
                if node["down"]:  # a failed node: nothing runs there, nothing can start there
                    assert node[resource]["used"] == node[resource]["total"], node
        assert 0 <= rep["gpus"]["used"] <= rep["gpus"]["total"], rep["name"]
        assert rep["gpus"]["used"] == sum(n["gpus"]["used"] for n in rep["nodes"])
        assert rep["down_nodes"] == sum(n["down"] for n in rep["nodes"])
        assert rep["waiting"] >= 0, rep["name"]
        use = expected.get(rep["name"], Counter())
        up = [n for n in rep["nodes"] if not n["down"]]
        held_gpus = sum(n["gpus"]["used"] for n in up)
        held_mcpu = round(sum(n["cpus"]["used"] for n in up) * 1000)
        assert held_gpus == use["gpus"], (rep["name"], "GPUs held vs used")
        assert held_mcpu == use["mcpu"], (rep["name"], "CPUs held vs used")


def check_jobs(e: Engine, seen_terminal: dict[str, str]) -> None:
    """Timelines in order, waits >= 0, one terminal state that is never left; a job restarts
    (after a node failure) only within its max_retry."""
    for j in waiting_jobs(e):
        assert not j.placed_at and j.status in ("Pending", "Restarting"), j.name
    for j in e.jobs.values():
        assert j.created_at == j.pending_at
        if j.placed_at:
            assert j.placed_at >= j.created_at
        if j.running_at:
            assert j.placed_at and j.running_at >= j.placed_at
        if j.name in seen_terminal:
            assert j.status == seen_terminal[j.name], f"{j.name} left {seen_terminal[j.name]}"
        if j.status in TERMINAL:
            seen_terminal[j.name] = j.status
            assert j.completed_at >= max(j.created_at, j.running_at)
        else:
            assert j.completed_at == 0
            waiting = "Restarting" if j.history else "Pending"
            assert j.status == ("Running" if j.running_at else waiting)
        assert len(j.history) <= (j.spec.params.get("max_retry") or 0)
        if j.status == "Terminated":
            assert j.preemptors and j.preemptors[0]["name"] in e.jobs
        if j.status == "Completed":
            assert j.itype.gpus, "Completed is for GPU jobs"
        if j.status == "Succeeded":
            assert not j.itype.gpus, "Succeeded is for CPU jobs"


def check_order(before: list[Job]) -> None:
    """Strict queue (no backfill): nothing is placed while an earlier-ranked request of its pool
    (a higher class, or the same class and earlier) still waits."""
    placed = [b for b in before if b.placed_at]
    for b in placed:
        for a in before:
            if a is b or job_pool(a) != job_pool(b) or a.placed_at or a.status in TERMINAL:
                continue
            assert (a.priority_rank, a.seq) > (b.priority_rank, b.seq), (
                f"{b.priority_class} job {b.name} started while {a.priority_class} job "
                f"{a.name} (submitted earlier or higher) still waits"
            )


def check_progress(e: Engine, *, backfill: bool) -> None:
    """Free capacity is used: the head of each pool's line (with backfill: every waiting request)
    does not fit in what is free right now."""
    free = {rep["name"]: rep["nodes"] for rep in e.pools_report()}
    heads: set[str] = set()
    for name, req in waiting_requests(e):
        if name in heads and not backfill:
            continue
        heads.add(name)
        room = 0
        for node in free[name]:
            left = [
                round((node["cpus"]["total"] - node["cpus"]["used"]) * 1000)
                // round(req.itype.cpu * 1000),
                round((node["memory_gi"]["total"] - node["memory_gi"]["used"]) * 1024)
                // round(req.itype.memory_gi * 1024),
            ]
            if req.itype.gpus:
                left.append((node["gpus"]["total"] - node["gpus"]["used"]) // req.itype.gpus)
            room += min(left)
        workers = req.n_workers if isinstance(req, Job) else 1
        assert room < workers, f"{req.name} waits in {name} though it fits now"


HALF_KOPECK = Decimal("0.005")


def assert_kopecks_of(cost: Decimal, exact: Decimal) -> None:
    """``cost`` is ``exact`` rounded half up to kopecks: two places, within half a kopeck, and a
    half-kopeck tie goes up."""
    assert cost.as_tuple().exponent == -2, cost
    assert -HALF_KOPECK < cost - exact <= HALF_KOPECK, (cost, exact)


def check_billing(e: Engine) -> None:
    """The bill is the sum of its lines; a line is metered seconds x price; meters match holders."""
    bill = e.billing_report()
    now = e.now_epoch()
    per_ws: Counter = Counter()
    running: Counter = Counter()
    for line in bill["lines"]:
        elapsed = (now if line["end"] is None else line["end"]) - line["start"]
        seconds = line["seconds"]
        step = 60 if bill["tariff"] == "per_minute_ceil" else 1
        assert seconds % step == 0, line
        assert elapsed - 1e-6 <= seconds < elapsed + step + 1e-6, (elapsed, line)
        cost = Decimal(line["cost"])
        assert_kopecks_of(cost, Decimal(seconds) * Decimal(line["price_per_hour"]) / Decimal(3600))
        per_ws[line["workspace"]] += cost
        if line["running"]:
            running[line["item"]] += 1
    assert Decimal(bill["total"]) == sum(per_ws.values(), Decimal(0))
    assert {ws: Decimal(v) for ws, v in bill["workspaces"].items()} == dict(per_ws)
    holders = Counter(j.name for j in e.jobs.values() if j.status == "Running")
    holders.update(b.uid for b in live_books(e) if b.status in NB_HOLDING)
    assert running == holders, "running meters must be exactly the running jobs and servers"


# ---- driving ------------------------------------------------------------------------------------
@dataclass
class Driver:
    """Applies command tuples to one world; ``observe`` checks invariants after every event."""

    world: World
    observe: bool = False
    strict_order: bool = True
    restarts: bool = False  # jobs may restart (node failures): a restarted job queues again
    jobs: list[Job] = field(default_factory=list)
    books: list[Any] = field(default_factory=list)
    seen_terminal: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.observe:
            env = self.world.engine.env
            step = env.step

            def checked_step() -> None:
                before = waiting_jobs(self.world.engine)
                step()
                self.check_instant(before)

            env.step = checked_step

    def check_instant(self, before: list[Job]) -> None:
        """After any change: nothing overtook ``before`` (the jobs that were waiting), nothing
        is over-allocated, and free capacity is not left idle."""
        if self.strict_order and not self.restarts:
            check_order(before)
        check_capacity(self.world.engine)
        check_progress(self.world.engine, backfill=not self.strict_order)

    def apply(self, cmd: tuple) -> Any:
        """Run ``cmd``; returns what a caller saw (hashable), ``"rejected:<kind>"`` if refused."""
        engine = self.world.engine
        before = waiting_jobs(engine) if self.observe else []
        known = len(self.jobs)
        try:
            result = getattr(self, f"_{cmd[0]}")(*cmd[1:])
        except Rejected as exc:
            result = f"rejected:{type(exc).__name__}"
        if self.observe:
            self.check_instant(before + self.jobs[known:])
            check_jobs(engine, self.seen_terminal)
            check_billing(engine)
        return result

    def _submit(self, spec: dict[str, Any], workspace: str) -> str:
        self.jobs.append(self.world.submit_job(spec, workspace=workspace))
        return self.jobs[-1].status

    def _kill(self, i: int) -> str:
        return self.world.kill_job(self.jobs[i].name).status

    def _restart(self, i: int) -> str:
        self.jobs.append(self.world.restart_job(self.jobs[i].name))
        return self.jobs[-1].status

    def _create(self, region: str, itype: str, workspace: str) -> str:
        name = f"nb-{len(self.books)}"
        book = self.world.create_notebook(
            workspace=workspace, name=name, region=region, instance_type=itype
        )
        self.books.append(book)
        return book.status

    def _pause(self, i: int) -> str:
        return self.world.pause_notebook(self.books[i].uid).status

    def _resume(self, i: int, region: str, itype: str) -> str:
        return self.world.resume_notebook(self.books[i].uid, region, itype).status

    def _delete(self, i: int) -> str:
        return self.world.delete_notebook(self.books[i].uid).status

    def _fail(self, node: str) -> str:
        self.world.fail_node(node)
        return "failed"

    def _advance(self, seconds: float) -> float:
        return self.world.advance(seconds)

    def _idle(self) -> float:
        return self.world.run_until_idle()


def submit(spec_args: dict[str, Any], workspace: str) -> tuple:
    """A submit command from strategy-drawn arguments (see :func:`job`)."""
    return ("submit", job(**spec_args), workspace)


def snapshot(d: Driver, *, with_bill: bool = True) -> tuple:
    """Everything a user could observe, for comparing two runs."""
    w = d.world
    jobs = tuple(
        (j.name, j.status, j.created_at, j.placed_at, j.running_at, j.completed_at) for j in d.jobs
    )
    books = tuple((b.uid, b.status, b.status_updated_at, b.itype.key) for b in d.books)
    extra = (w.billing_report(), w.pools_report()) if with_bill else ()
    return (w.now_epoch(), jobs, books, *extra)
