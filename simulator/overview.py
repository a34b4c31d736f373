"""A read-only picture of the engine at one instant: what the web console shows.

Built from the engine's own objects without changing any of them (placement checks use
``Node.fits``, never ``Pool.place``). Every time is virtual (epoch seconds). Four parts:

* ``pools``: each node's capacity and who holds it (``held``: workspace, units, holders);
* ``queue``: per pool, the waiting requests in launch order with how long and why they wait;
* ``work``: jobs and servers as items of one shape (``kind`` says which, so inference
  deployments can join as ``kind: "deployment"``), each with a timeline of phases;
* ``money``: ledger totals by workspace and kind, the burn rate, the tariff and the prices.

Why a request waits (``reason.code``): ``capacity`` (the pool has no room for the whole gang
now) or ``order`` (it would fit, but strict priority + FIFO keeps it behind ``reason.behind``,
the blocked request at the head).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from simulator.deployments import Deployment
from simulator.jobs import Job
from simulator.notebooks import Notebook
from simulator.pools import Demand, Pool
from simulator.scheduler import PRIORITY_CLASSES

if TYPE_CHECKING:
    from simulator.engine import Engine

WORK_LIMIT = 300  # newest items shown; the rest are counted
QUEUE_LIMIT = 100  # first waiting requests shown per pool; the rest are counted
Holder = Job | Notebook


def snapshot(
    engine: Engine,
    *,
    workspace: str | None = None,
    region: str | None = None,
    work_limit: int = WORK_LIMIT,
) -> dict[str, Any]:
    """The console's data; ``workspace``/``region`` narrow the work list only."""
    now = engine.now_epoch()
    holders = _holders(engine)
    return {
        "now_epoch": now,
        "pools": [_pool(pool, holders.get(pool.name, {})) for pool in engine.pools],
        "queue": _queue(engine, now),
        "work": _work(engine, now, workspace, region, work_limit),
        "money": _money(engine, now),
        "faults": {
            **engine.faults.settings.to_dict(),
            "down_nodes": [n.name for p in engine.pools for n in p.nodes if n.down],
        },
        "workspaces": sorted(
            {j.workspace for j in engine.jobs.values()}
            | {b.workspace for b in engine.notebooks.values()}
            | {d.workspace for d in engine.deployments.items.values()}
        ),
        "regions": sorted(engine.catalog.regions),
    }


# ---- pools ----------------------------------------------------------------------------------
def _holders(engine: Engine) -> dict[str, dict[int, list[tuple[Holder, int]]]]:
    """pool name -> node index -> (holder, workers on that node)."""
    out: dict[str, dict[int, list[tuple[Holder, int]]]] = defaultdict(lambda: defaultdict(list))
    placed: list[Holder] = [j for j in engine.jobs.values() if j.placement is not None]
    placed += [b for b in engine.notebooks.values() if b.placement is not None]
    for holder in placed:
        pool = holder.pool.pool
        for i, workers in holder.placement or ():
            out[pool.name][i].append((holder, workers))
    return out


def _units(pool: Pool, d: Demand) -> int:
    """What one worker takes of the unit the pool is drawn in (GPUs, or whole CPUs)."""
    return d.gpus if pool.resource == "gpu" else max(1, round(d.mcpu / 1000))


def _pool(pool: Pool, by_node: dict[int, list[tuple[Holder, int]]]) -> dict[str, Any]:
    nodes = []
    for i, node in enumerate(pool.nodes):
        held: dict[str, dict[str, Any]] = {}
        models: set[str] = set()
        for holder, workers in by_node.get(i, ()):
            part = held.setdefault(holder.workspace, {"units": 0, "holders": []})
            part["units"] += workers * _units(pool, holder.demand)
            part["holders"].append(
                {"kind": _kind(holder), "id": _id(holder), "name": holder.name, "workers": workers}
            )
            if holder.itype.gpu_model:
                models.add(holder.itype.gpu_model)
        nodes.append(
            {
                "name": node.name,
                "capacity": node.gpus if pool.resource == "gpu" else node.mcpu // 1000,
                "down": node.down,
                "gpu_models": sorted(models or pool.gpu_models),
                "held": [{"workspace": ws, **part} for ws, part in sorted(held.items())],
            }
        )
    report = pool.report()
    return {
        "name": pool.name,
        "unit": "gpu" if pool.resource == "gpu" else "cpu",
        "serves": report["serves"],
        "regions": report["regions"],
        "gpu_models": sorted(pool.gpu_models),
        "gpus": report["gpus"],
        "cpus": report["cpus"],
        "down_nodes": report["down_nodes"],
        "nodes": nodes,
    }


# ---- queue ----------------------------------------------------------------------------------
def _room(pool: Pool, d: Demand) -> int:
    """How many workers of ``d`` the pool could take right now."""
    return sum(node.fits(d) for node in pool.nodes)


def _queue(engine: Engine, now: float) -> list[dict[str, Any]]:
    out = []
    for name, sched in engine.schedulers.items():
        if "inference" in sched.pool.serves:  # replicas queue in the deployments, not here
            continue
        blocker: Holder | None = None
        rooms: dict[Demand, int] = {}  # the pool does not change while it is read
        items = []
        pending = sched.pending()
        for order, req in enumerate(pending[:QUEUE_LIMIT], 1):
            item: Holder = getattr(req, "book", req)
            room = rooms.get(req.demand)
            if room is None:
                room = rooms[req.demand] = _room(sched.pool, req.demand)
            if room >= req.n_workers and blocker is not None and not sched.backfill:
                reason = {
                    "code": "order",
                    "text": "fits now, but strict priority + FIFO (no backfill) keeps it behind",
                    "behind": blocker.name,
                }
            else:
                blocker = blocker or item
                reason = {
                    "code": "capacity",
                    "text": f"no room for the gang: {req.n_workers} worker(s) of "
                    f"{item.itype.key} needed, {room} fit now",
                }
            waiting_since = item.pending_at if isinstance(item, Job) else item.status_updated_at
            items.append(
                {
                    "order": order,
                    "kind": _kind(item),
                    "id": _id(item),
                    "name": item.name,
                    "workspace": item.workspace,
                    "region": item.region,
                    "instance_type": item.itype.key,
                    "queue_name": item.queue.name,
                    "priority": _priority(item),
                    "workers": req.n_workers,
                    "gpus": req.n_workers * item.itype.gpus,
                    "waited_s": max(0.0, now - waiting_since),
                    "reason": reason,
                }
            )
        out.append(
            {"pool": name, "backfill": sched.backfill, "waiting": len(pending), "items": items}
        )
    return out


# ---- work -----------------------------------------------------------------------------------
def _kind(item: Holder) -> str:
    return "job" if isinstance(item, Job) else item.kind


def _id(item: Holder) -> str:
    return item.name if isinstance(item, Job) else item.uid


def _priority(item: Holder) -> str:
    return item.priority_class if isinstance(item, Job) else PRIORITY_CLASSES[item.priority_rank]


def _span(phase: str, start: float, end: float) -> list[dict[str, Any]]:
    return [{"phase": phase, "start": start, "end": end}] if end > start else []


def _attempt(
    since: float, placed: float, started: float, ready: float, running: float, end: float
) -> list[dict[str, Any]]:
    """One run's phases: pending until placed, image pull, start-up, running; cut at ``end``."""
    return [
        *_span("pending", since, min(placed, end)),
        *_span("pull", placed, min(started, end)),
        *_span("starting", started, min(ready, end)),
        *(_span("running", running, end) if running else []),
    ]


def job_phases(job: Job, now: float) -> list[dict[str, Any]]:
    """The job's timeline over every attempt (a node failure restarts it from the queue)."""
    phases: list[dict[str, Any]] = []
    since = job.created_at
    for a in job.history:
        phases += _attempt(since, a.placed_at, a.start_at, a.ready_at, a.running_at, a.ended_at)
        since = a.ended_at
    end = job.completed_at or now
    if job.placed_at:
        phases += _attempt(since, job.placed_at, job.start_at, job.ready_at, job.running_at, end)
    else:
        phases += _span("pending", since, end)
    return phases


def server_phases(book: Notebook, lines: list[Any], now: float) -> list[dict[str, Any]]:
    """A server's timeline: waiting for capacity, then its billed spans, paused in between."""
    phases: list[dict[str, Any]] = []
    since = book.created_at
    for line in lines:
        phases += _span("pending" if not phases else "paused", since, line.start)
        since = line.end if line.end is not None else now
        phases += _span("running", line.start, since)
    if book.ticket is not None:
        phases += _span("pending", since, now)
    return phases


def _nodes(item: Holder) -> list[str]:
    if item.placement is None:
        return []
    pool = item.pool.pool
    return [pool.nodes[i].name for i, _ in item.placement]


def _work(
    engine: Engine, now: float, workspace: str | None, region: str | None, limit: int
) -> dict[str, Any]:
    items: list[Holder | Deployment] = [*engine.jobs.values()]
    items += [b for b in engine.notebooks.values() if not b.deleted]
    items += engine.deployments.listing()
    items = [
        it
        for it in items
        if (workspace is None or it.workspace == workspace)
        and (region is None or it.region == region)
    ]
    items.sort(key=lambda it: (it.created_at, it.seq), reverse=True)
    lines: dict[str, list[Any]] = defaultdict(list)
    for line in engine.ledger.lines:
        if line.kind != "job":
            lines[line.item].append(line)
    out = []
    for it in items[:limit]:
        if isinstance(it, Deployment):
            out.append(_deployment(engine, it, now))
            continue
        if isinstance(it, Job):
            phases, cost = job_phases(it, now), engine.job_cost(it)
            ended = it.completed_at or None
        else:
            phases, cost = server_phases(it, lines[it.uid], now), engine.notebook_cost(it)
            ended = None
        out.append(
            {
                "kind": _kind(it),
                "id": _id(it),
                "name": it.name,
                "workspace": it.workspace,
                "region": it.region,
                "instance_type": it.itype.key,
                "workers": it.n_workers,
                "gpus": it.n_workers * it.itype.gpus,
                "status": it.status,
                "created": it.created_at,
                "ended": ended,
                "nodes": _nodes(it),
                "cost": str(cost),
                "phases": phases,
                "has_log": isinstance(it, Job),
            }
        )
    return {"total": len(items), "items": out}


def deployment_phases(dep: Deployment, now: float) -> list[dict[str, Any]]:
    """A deployment's timeline: pending until its first replica is placed, then running while
    any replica is billed and paused while it has none (scaled to zero)."""
    spans: list[list[float]] = []  # union of the replicas' billed spans, in time order
    for line in sorted(dep.lines, key=lambda ln: ln.start):
        end = line.end if line.end is not None else now
        if spans and line.start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([line.start, end])
    if not spans:
        return _span("pending", dep.created_at, now)
    phases = _span("pending", dep.created_at, spans[0][0])
    for (start, end), after in zip(spans, [*(s[0] for s in spans[1:]), now], strict=True):
        phases += _span("running", start, end) + _span("paused", end, after)
    return phases


def _deployment(engine: Engine, dep: Deployment, now: float) -> dict[str, Any]:
    placed = [r for r in dep.replicas if r.placement is not None]
    nodes = sorted({dep.pool.nodes[i].name for r in placed for i, _ in r.placement or ()})
    return {
        "kind": "deployment",
        "id": dep.name,
        "name": dep.spec.alias or dep.name,
        "workspace": dep.workspace,
        "region": dep.region,
        "instance_type": dep.itype.key,
        "workers": len(placed),
        "gpus": len(placed) * dep.itype.gpus,
        "status": dep.status,
        "created": dep.created_at,
        "ended": None,
        "nodes": nodes,
        "cost": str(engine.deployments.cost(dep)),
        "phases": deployment_phases(dep, now),
        "has_log": False,
    }


# ---- money ----------------------------------------------------------------------------------
def _money(engine: Engine, now: float) -> dict[str, Any]:
    ledger = engine.ledger
    by_ws: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    burn: dict[str, Decimal] = defaultdict(Decimal)
    running = 0
    for line in ledger.lines:
        by_ws[line.workspace][line.kind] += line.cost(now, ledger.tariff)
        if line.end is None:
            burn[line.workspace] += line.price_per_hour
            running += 1
    workspaces = [
        {
            "workspace": ws,
            "total": str(sum(kinds.values(), Decimal(0))),
            "by_kind": {k: str(v) for k, v in sorted(kinds.items())},
            "burn_per_hour": str(burn.get(ws, Decimal(0))),
        }
        for ws, kinds in sorted(by_ws.items())
    ]
    total = sum((c for kinds in by_ws.values() for c in kinds.values()), Decimal(0))
    return {
        "tariff": ledger.tariff,
        "currency": ledger.currency,
        "illustrative_prices": ledger.illustrative,
        "total": str(total),
        "burn_per_hour": str(sum(burn.values(), Decimal(0))),
        "running_lines": running,
        "lines": len(ledger.lines),
        "workspaces": workspaces,
        "prices": engine.prices.to_data(),
    }
