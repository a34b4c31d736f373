"""Allocations, queues, their instance types, and a queue's pending-launch list.

Every workspace has one pay-as-you-go allocation with one default queue per catalog region
(``mock_server.tenancy``). Only regions of the spec's region enum are listed as allocations
(``region_key`` must be in that enum); the ids of the other regions (SR002-MT, CCE-MT) still
resolve, so jobs submitted there have a queue whose instance types and pending list can be read.
Availability is live: how many workers of a type fit right now on the free room of the pool that
would run it, whichever workspace holds the rest.

The ``configs`` and ``s3`` areas are mounted through this blueprint.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from mock_server import routing
from mock_server.api.capacity import settings
from mock_server.errors import json_response
from mock_server.models.queries import AwaitingLaunchQuery
from mock_server.params import uuid_text
from mock_server.state import state, workspace
from mock_server.tenancy import (
    allocation_for,
)
from simulator.catalog import InstanceType, Region
from simulator.errors import NotFound
from simulator.jobs import Job
from simulator.logs import format_ts
from simulator.pools import Demand, Node
from simulator.scheduler import PRIORITY_CLASSES
from simulator.tenancy import Queue
from simulator.world import World

STORAGE_PRESETS = (
    {"key": "default", "size_gb": 200},
    {"key": "small", "size_gb": 1250},
    {"key": "medium", "size_gb": 2500},
    {"key": "large", "size_gb": 3750},
    {"key": "xlarge", "size_gb": 5000},
)


class FreeRoom:
    """Free capacity of every pool at one moment, from one consistent pools report."""

    def __init__(self, world: World) -> None:
        self._pools = list(world.engine.pools)
        self._nodes = {p["name"]: [_free_part(n) for n in p["nodes"]] for p in world.pools_report()}

    def workers(
        self, kind: str, region: str, itype: InstanceType, queue: Queue | None = None
    ) -> int:
        """How many workers of ``itype`` fit right now in the pool that serves them (through
        ``queue``: on the nodes it may use, within its GPU limit)."""
        pool = next((p for p in self._pools if p.matches(kind, region, itype)), None)
        if pool is None:
            return 0
        demand = Demand.of(itype)
        allowed = None if queue is None else pool.allowed(queue)
        nodes = self._nodes.get(pool.name, [])
        fit = sum(
            n.capacity_for(demand) for i, n in enumerate(nodes) if allowed is None or i in allowed
        )
        if queue is not None and queue.gpu_limit is not None and demand.gpus:
            fit = min(fit, max(0, queue.gpu_limit - queue.held_gpus) // demand.gpus)
        return fit


def _free_part(node: dict[str, Any]) -> Node:
    """A node as big as the free part of ``node`` (a pools-report entry)."""

    def free(key: str) -> float:
        return node[key]["total"] - node[key]["used"]

    return Node(
        node["name"], int(free("gpus")), round(free("cpus") * 1000), round(free("memory_gi") * 1024)
    )


def _regions(listed_only: bool = False) -> list[Region]:
    regions = state().world.config.catalog.regions.values()
    return [r for r in regions if r.in_spec_enum or not listed_only]


def _region_where(ws_id: str, id_: str, of: Callable[[str, str], dict[str, Any]]) -> Region | None:
    """The region whose allocation (or default queue) of ``ws_id`` has this id."""
    return next((r for r in _regions() if of(ws_id, r.key)["id"] == id_), None)


def _for_notebooks(region: Region) -> bool:
    return any(t.jupyter for t in region.instance_types.values())


def _allocation(ws_id: str, region: Region) -> dict[str, Any]:
    alloc = allocation_for(ws_id, region.key)
    unset = settings().unset_defaults
    return {
        "id": alloc["id"],
        "name": alloc["name"],
        "node_type": "cpu" if region.cpu_only else "gpu",
        "description": f"Pay-as-you-go allocation in {region.name}",
        "region_key": region.key,
        "config": {"included_in_shared_cluster_queue": False},
        "org_structure_type": "workspace",
        "default_for_job": (alloc["id"], "job") not in unset,
        "default_for_notebook": _for_notebooks(region) and (alloc["id"], "notebook") not in unset,
    }


def _instance_types(region: Region, queue: Queue | None = None) -> list[dict[str, Any]]:
    room = FreeRoom(state().world)
    return [
        {
            "key": t.key,
            "name": t.name,
            "availability": room.workers("job", region.key, t, queue),
            "storage_presets": [dict(p) for p in STORAGE_PRESETS],
        }
        for t in region.instance_types.values()
    ]


def list_allocations(workspace_id: str) -> Any:
    """The caller's own allocations; another workspace's id lists nothing."""
    ws_id = workspace().id
    if uuid_text(["path", "workspace_id"], workspace_id) != ws_id.lower():
        return json_response([])
    return json_response([_allocation(ws_id, r) for r in _regions(listed_only=True)])


def allocation_instance_types(allocation_id: str) -> Any:
    region = _region_where(
        workspace().id, uuid_text(["path", "allocation_id"], allocation_id), allocation_for
    )
    return json_response([] if region is None else _instance_types(region))


def list_queues(workspace_id: str, allocation_id: str) -> Any:
    """The allocation's queues, its default first; ``default_for_*`` says which queue work
    naming none goes to."""
    ws_id = workspace().id
    own = uuid_text(["path", "workspace_id"], workspace_id) == ws_id.lower()
    region = _region_where(
        ws_id, uuid_text(["path", "allocation_id"], allocation_id), allocation_for
    )
    if not own or region is None:
        return json_response([])
    alloc = allocation_for(ws_id, region.key)
    world = state().world
    job_q, book_q = (world.default_queue(ws_id, alloc["id"], k) for k in ("job", "notebook"))
    return json_response(
        [
            {
                "id": q.id,
                "name": q.name,
                "description": q.description,
                "allocation_id": q.allocation.id,
                "active": True,
                "type": q.type,
                "default_for_job": q is job_q,
                "default_for_notebook": q is book_q and _for_notebooks(region),
            }
            for q in world.queues(ws_id, alloc["id"])
        ]
    )


def queue_instance_types(queue_id: str) -> Any:
    """Workers of each type that could start now through the queue (its nodes, its limit)."""
    queue_id = uuid_text(["path", "queue_id"], queue_id)
    try:
        queue = state().world.queue(workspace().id, queue_id)
    except NotFound:
        return json_response([])
    region = state().world.config.catalog.regions[queue.region]
    return json_response(_instance_types(region, queue))


def _pod_group(req: Any, order: int, queue_id: str, room: FreeRoom) -> dict[str, Any]:
    is_job = isinstance(req, Job)
    kind = "job" if is_job else "notebook"
    return {
        "launch_order": order,
        "name": req.name,
        "type": kind,
        "workspace_id": req.workspace,
        "instance_type": req.itype.key,
        "queue_id": queue_id,
        "priority": req.priority_class if is_job else PRIORITY_CLASSES[req.priority_rank],
        "author": req.author,
        "status": "Pending",
        "n_workers": req.n_workers,
        "gpu_count": req.n_workers * req.itype.gpus,
        "unschedulable_worker_count": max(
            0, req.n_workers - room.workers(kind, req.region, req.itype)
        ),
        "created_at": format_ts(int(req.created_at)),
    }


def _matcher(q: AwaitingLaunchQuery) -> Callable[[dict[str, Any], float], bool]:
    """The request's filters as a test of (pod group, created epoch)."""
    kind = q.type.value.lower() if q.type else ""
    low = q.created_at_from.timestamp() if q.created_at_from else None
    high = q.created_at_to.timestamp() if q.created_at_to else None
    gpu_max = q.gpu_count_max if q.gpu_count_max is not None else 1 << 62
    workspaces, authors = set(q.workspace_ids), set(q.authors)

    def match(row: dict[str, Any], created: float) -> bool:
        return (
            row["priority"] == q.priority.value
            and (not kind or row["type"] == kind)
            and q.gpu_count_min <= row["gpu_count"] <= gpu_max
            and (low is None or created >= low)
            and (high is None or created <= high)
            and (not workspaces or row["workspace_id"] in workspaces)
            and (not authors or row["author"] in authors)
            and q.search_by_name in row["name"]
        )

    return match


def _sort(rows: list[dict[str, Any]], order_by: str) -> list[dict[str, Any]]:
    """``order_by`` as the platform reads it; the empty default keeps launch order."""
    if not order_by:
        return rows
    fields = [part.split() for part in order_by.split(",")]
    for name, direction in reversed(fields):
        key = "gpu_count" if name == "gpus" else name
        rows = sorted(rows, key=lambda row: row[key], reverse=direction == "desc")
    return rows


def awaiting_launch(queue_id: str) -> Any:
    """The caller's jobs and servers waiting in this queue, with their place in the pool's line."""
    q: AwaitingLaunchQuery = routing.query()
    order_by = "created_at asc" if q.priority.value == "high" else q.order_by.value
    match = _matcher(q)
    ws_id = workspace().id
    world = state().world
    pending = world.pending()
    room = FreeRoom(world)
    places: Counter[str] = Counter()
    rows = []
    for req in pending:
        pool = req.pool.pool.name
        places[pool] += 1
        if req.workspace == ws_id and req.queue.id == queue_id:
            row = _pod_group(req, places[pool], queue_id, room)
            if match(row, req.created_at):
                rows.append(row)
    rows = _sort(rows, order_by)
    return json_response({"items": rows[q.offset : q.offset + q.limit], "count": len(rows)})
