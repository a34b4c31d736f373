"""What the capacity operations read from the engine: a region's pools and nodes, which work
holds which node, and what an allocation uses, at the request's one virtual instant.

A region's pools are the job and Jupyter Server pools that serve some instance type of it (the
default pools serve every region, so several regions' allocations share their nodes). An
allocation is one workspace's view of its region: its ``current`` use is what the workspace's
placed work holds there, ``available`` the pools' free room (GPUs also capped by the
workspace's quota), ``all`` the pools' size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mock_server.errors import detail_error
from mock_server.state import state, workspace
from simulator.catalog import Region
from simulator.jobs import Job
from simulator.logs import format_ts
from simulator.notebooks import Notebook
from simulator.pools import Node, Pool
from simulator.tenancy import Allocation, Queue

KINDS = ("job", "notebook")
NOT_FOUND_NODE = "Node is not found"


@dataclass
class Settings:
    """What the capacity operations record beyond the engine: unset allocation defaults and
    assignments (who a queue is assigned to). Keys hold ids as text."""

    unset_defaults: set[tuple[str, str]] = field(default_factory=set)  # (allocation, for)
    assignments: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # (type, id)
    shared: set[tuple[str, str, str]] = field(default_factory=set)  # (region, type, id)


def settings() -> Settings:
    return state().area("capacity", Settings)


def region_pools(region: Region) -> list[Pool]:
    types = region.instance_types.values()
    return [
        pool
        for pool in state().world.engine.pools
        if any(pool.matches(kind, region.key, t) for kind in KINDS for t in types)
    ]


def region_nodes(region: Region) -> Iterator[tuple[Pool, int, Node]]:
    for pool in region_pools(region):
        for i, node in enumerate(pool.nodes):
            yield pool, i, node


def find_node(name: str) -> tuple[Pool, int, Node]:
    """The node called ``name`` in any job or server pool, or the platform's 404."""
    for pool in state().world.engine.pools:
        i = pool.index.get(name)
        if i is not None:
            return pool, i, pool.nodes[i]
    raise detail_error(404, NOT_FOUND_NODE)


def placed_work(workspace: str) -> Iterator[Job | Notebook]:
    """The workspace's jobs and servers that hold capacity now."""
    engine = state().world.engine
    for job in engine.jobs.values():
        if job.workspace == workspace and job.placement is not None:
            yield job
    for book in engine.notebooks.values():
        if book.workspace == workspace and book.placement is not None:
            yield book


def live_work(queue: Queue) -> Iterator[Job | Notebook]:
    """Jobs and servers of ``queue`` that are not over: waiting, starting or running."""
    engine = state().world.engine
    for job in engine.jobs.values():
        if job.queue is queue and not job.terminal:
            yield job
    for book in engine.notebooks.values():
        if book.queue is queue and (book.placement is not None or book.ticket is not None):
            yield book


def nodes_of(holder: Job | Notebook) -> list[tuple[Node, int]]:
    """The nodes ``holder`` runs on now, with how many of its workers each has."""
    if holder.placement is None:
        return []
    nodes = holder.pool.pool.nodes
    return [(nodes[i], k) for i, k in holder.placement]


def usage(allocation: Allocation, region: Region) -> dict[str, Any]:
    """``AllocationResourcesStatus`` of ``allocation`` now."""
    world = state().world
    now = format_ts(world.engine.now_epoch())
    total = {"cpu": 0.0, "gpu": 0.0, "ram": 0.0}
    free = dict(total)
    up = count = 0
    for _, _, node in region_nodes(region):
        count += 1
        up += not node.down
        for key, size, left in _resources(node):
            total[key] += size
            free[key] += left
    used = dict.fromkeys(total, 0.0)
    for holder in placed_work(allocation.workspace):
        if holder.region == allocation.region:
            d = holder.demand
            used["gpu"] += d.gpus * holder.n_workers
            used["cpu"] += d.mcpu * holder.n_workers / 1000
            used["ram"] += d.mem_mi * holder.n_workers / 1024
    quota_free = world.engine.quotas.limit(allocation.workspace)
    if quota_free is not None:
        quota_free = max(0, quota_free - world.engine.holdings.gpus(allocation.workspace))
        free["gpu"] = min(free["gpu"], quota_free)
    out: dict[str, Any] = {
        key: {"current": used[key], "available": free[key], "all": total[key], "timestamp": now}
        for key in total
    }
    out["nodes_status"] = {"all": count, "available": up, "timestamp": now}
    return out


def _resources(node: Node) -> tuple[tuple[str, float, float], ...]:
    """(resource, size, free) of a node: GPUs, CPU cores, RAM in GiB."""
    return (
        ("gpu", node.gpus, node.free_gpus),
        ("cpu", node.mcpu / 1000, node.free_mcpu / 1000),
        ("ram", node.mem_mi / 1024, node.free_mem / 1024),
    )


def resource_usage(node: Node) -> dict[str, Any]:
    """``ResourceUsage`` of a node: total, allocated, available."""
    rows = _resources(node)
    return {
        "total": {key: size for key, size, _ in rows},
        "allocated": {key: size - left for key, size, left in rows},
        "available": {key: left for key, _, left in rows},
    }


def limits(holder: Job | Notebook) -> dict[str, Any]:
    """``Limits`` of one worker (pod) of ``holder``."""
    d = holder.demand
    return {
        "cpu": f"{d.mcpu}m",
        "gpu": str(d.gpus),
        "memory": {"count": str(d.mem_mi), "postfix": "Mi"},
    }


def job_item(job: Job, workers: int | None = None) -> dict[str, Any]:
    """A job as node load and queue listings show it (``workers``: those on one node)."""
    ws = workspace()
    return {
        "id": job.uid,
        "name": job.name,
        "status": job.status,
        "gpu_count": (job.n_workers if workers is None else workers) * job.demand.gpus,
        "allocation_label": job.queue.allocation.name,
        "created_at": format_ts(job.created_at),
        "description": job.spec.job_desc or "",
        "instance_type": job.itype.key,
        "namespace": ws.namespace,
        "priority": job.priority_class,
        "queue_label": job.queue.name,
        "region": job.region,
        "retry_count": len(job.history),
        "try_count": len(job.history) + 1,
        "user_email": job.author,
        "user_id": job.author,
        "workspace": job.workspace,
    }


def notebook_item(book: Notebook, node_name: str | None) -> dict[str, Any]:
    """A server as node load and queue listings show it."""
    return {
        "id": book.uid,
        "name": book.name,
        "node_name": node_name,
        "status": book.status,
        "allocation_label": book.queue.allocation.name,
        "created_at": format_ts(book.created_at),
        "instance_type": book.itype.key,
        "limits": limits(book),
        "namespace": workspace().namespace,
        "queue_label": book.queue.name,
        "region": book.region,
        "user_email": book.author,
    }
