"""Where work runs: a job's nodes and parameters, a region's nodes, node load, and how many
workers of each type a region (or one of its queues) can start now.

Node load shows the caller's own jobs and servers only (another workspace's work on a shared
node is not the caller's to see), narrowed to one allocation or queue when asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mock_server import routing
from mock_server.api.capacity import (
    find_node,
    job_item,
    nodes_of,
    notebook_item,
    placed_work,
    region_nodes,
)
from mock_server.api.resources import STORAGE_PRESETS, FreeRoom
from mock_server.errors import detail_error, json_response, platform_error, validation_error
from mock_server.models.capacity import AvailableQuery, NodeLoadQuery
from mock_server.state import state, workspace
from simulator.catalog import Region
from simulator.errors import Rejected
from simulator.jobs import Job
from simulator.tenancy import Queue

JOB_NOT_FOUND = "job not found"


def region_path(value: str) -> Region:
    """The training region a ``{region}`` path parameter names, or FastAPI's enum 422."""
    regions = state().world.config.catalog.regions
    region = regions.get(value)
    if region is None:
        keys = list(regions)
        expected = ", ".join(f"'{k}'" for k in keys[:-1]) + f" or '{keys[-1]}'"
        raise validation_error(
            ["path", "region"],
            f"Input should be {expected}",
            "enum",
            input=value,
            ctx={"expected": expected},
        )
    return region


def _own_job(name: str) -> Job:
    job = state().world.get_job(name, workspace().id)
    if job is None:
        raise platform_error(404, 1, JOB_NOT_FOUND)
    return job


def job_nodes(job_name: str) -> Any:
    """The nodes a job's workers run on now (none while it waits or after it ends)."""
    names = list(dict.fromkeys(node.name for node, _ in nodes_of(_own_job(job_name))))
    return json_response({"node_names": names})


def job_params(name: str) -> Any:
    """What the job was submitted with, with the values the platform filled in."""
    job = _own_job(name)
    spec = job.spec
    return json_response(
        {
            **spec.params,
            "region": spec.region,
            "instance_type": job.itype.key,
            "type": spec.type,
            "n_workers": job.n_workers,
            "priority_class": job.priority_class,
            "job_desc": spec.job_desc,
            "allocation_name": job.queue.allocation.name,
            "queue_name": job.queue.name,
            "env_variables": spec.env_variables,
            "flags": spec.flags,
        }
    )


def region_node_list(region: str) -> Any:
    """``NodesResponse``: the nodes that serve the region, and how many are down."""
    nodes = [node for _, _, node in region_nodes(region_path(region))]
    return json_response(
        {"masked_nodes": [n.name for n in nodes], "failed": sum(n.down for n in nodes)}
    )


def _scope(q: NodeLoadQuery) -> tuple[str | None, str | None]:
    """The ``allocation_id`` and ``queue_id`` a load query is narrowed to (404 if unknown)."""
    world, ws_id = state().world, workspace().id
    alloc_id = str(q.allocation_id) if q.allocation_id else None
    queue_id = str(q.queue_id) if q.queue_id else None
    try:
        if alloc_id is not None:
            world.engine.tenancy.find_allocation(ws_id, alloc_id)
        if queue_id is not None:
            world.engine.tenancy.queue(ws_id, queue_id)
    except Rejected as exc:
        raise detail_error(404, exc.message) from None
    return alloc_id, queue_id


def _on_node(node_name: str, alloc_id: str | None, queue_id: str | None) -> Iterator[Any]:
    for holder in placed_work(workspace().id):
        queue: Queue = holder.queue
        if alloc_id is not None and queue.allocation.id != alloc_id:
            continue
        if queue_id is not None and queue.id != queue_id:
            continue
        for node, k in nodes_of(holder):
            if node.name == node_name:
                yield holder, k


def load() -> Any:
    """``LoadsResponse``: the caller's jobs and servers on each named node."""
    q: NodeLoadQuery = routing.query()
    names = q.node_names
    alloc_id, queue_id = _scope(q)
    for name in names:
        find_node(name)
    loads = []
    for name in names:
        jobs, books = [], []
        for holder, k in _on_node(name, alloc_id, queue_id):
            if isinstance(holder, Job):
                jobs.append(job_item(holder, k))
            else:
                books.append(notebook_item(holder, name))
        loads.append({"node_name": name, "jobs": jobs, "notebooks": books})
    return json_response({"loads": loads})


def available(region: str) -> Any:
    """``ResourceAvailabilityCountResponse``: workers of each type that could start now in
    the region, through the named allocation and queue (the region's defaults if none)."""
    reg = region_path(region)
    world = state().world
    q: AvailableQuery = routing.query()
    try:
        queue = world.engine.tenancy.resolve(
            workspace().id, reg.key, q.allocation_name, q.queue_name
        )
    except Rejected:
        raise detail_error(404, f"Allocation not found for region '{reg.key}'") from None
    room = FreeRoom(world)
    return json_response(
        {
            "instance_types": [
                {
                    "count": room.workers("job", reg.key, t, queue),
                    "name": t.name,
                    "key": t.key,
                    "storage_presets": [dict(p) for p in STORAGE_PRESETS],
                }
                for t in reg.instance_types.values()
            ]
        }
    )
