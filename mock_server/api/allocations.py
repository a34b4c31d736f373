"""Allocations: the caller's pay-as-you-go allocation of each region, its nodes, what it uses
and what is free now, who it is assigned to and which allocations are defaults.

Each workspace has exactly one allocation per region (``simulator.tenancy``), so a default can
only be set or unset, never moved; jobs and servers that name no allocation use the region's
one either way. Lists show the regions of the spec's region enum; an allocation of another
region (SR002-MT, CCE-MT) is still found by id.
"""

from __future__ import annotations

import uuid
from typing import Any

from mock_server import routing
from mock_server.api.capacity import region_nodes, region_pools, resource_usage, settings
from mock_server.api.capacity import usage as usage_of
from mock_server.api.resources import STORAGE_PRESETS, FreeRoom
from mock_server.errors import detail_error, json_response
from mock_server.models.capacity import Default
from mock_server.params import uuid_text
from mock_server.state import state, workspace
from simulator.catalog import Region
from simulator.errors import NotFound
from simulator.pools import Demand, Pool
from simulator.tenancy import Allocation, stable_uuid

DEFAULT_FOR = ("job", "notebook")


def find(allocation_id: str, *, as_uuid: bool = True) -> tuple[Allocation, Region]:
    """The caller's allocation with this id and its region; 404 if it has none (422 for a
    malformed id where the spec types it as a UUID)."""
    if as_uuid:
        allocation_id = uuid_text(["path", "allocation_id"], allocation_id)
    world = state().world
    try:
        alloc = world.engine.tenancy.find_allocation(workspace().id, allocation_id.lower())
    except NotFound:
        raise detail_error(
            404, f"Allocation with allocation_id=UUID('{allocation_id}') not found."
        ) from None
    return alloc, world.config.catalog.regions[alloc.region]


def _own() -> list[tuple[Allocation, Region]]:
    world = state().world
    regions = world.config.catalog.regions
    return [
        (a, regions[a.region])
        for a in world.engine.tenancy.allocations(workspace().id)
        if regions[a.region].in_spec_enum
    ]


def _legacy(alloc: Allocation) -> dict[str, Any]:
    """``AllocationLegacy``: the fields every allocation answer shares."""
    ws = workspace()
    return {
        "id": alloc.id,
        "name": alloc.name,
        "region_key": alloc.region,
        "project_id": _uuid_or_none(ws.project_id),
        "project_name": ws.project_name,
        "workspace_access": [{"id": ws.id, "name": ws.name}],
    }


def _uuid_or_none(value: str) -> str | None:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def list_all() -> Any:
    return json_response([_legacy(a) for a, _ in _own()])


def get(allocation_id: str) -> Any:
    alloc, region = find(allocation_id)
    nodes = [node for _, _, node in region_nodes(region)]
    return json_response(
        {
            **_legacy(alloc),
            "status": "active",
            "nodes": [n.name for n in nodes],
            "target_resource": {"nodes": len(nodes), "gpus": sum(n.gpus for n in nodes)},
            "resources": usage_of(alloc, region),
        }
    )


def resources_status(allocation_id: str) -> Any:
    """``AllocationResourcesStatus``: CPU cores, GPUs and RAM (GiB) the allocation holds now
    (``current``), free in its region's pools (``available``, GPUs within the workspace's
    quota) and in all (``all``); nodes up (``available``) of all."""
    return json_response(usage_of(*find(allocation_id, as_uuid=False)))


def types_availability(allocation_id: str) -> Any:
    """How many workers of each of the region's types could start now."""
    _, region = find(allocation_id, as_uuid=False)
    room = FreeRoom(state().world)
    return json_response(
        [
            {"key": t.key, "instance_type": t.name, "available": room.workers("job", region.key, t)}
            for t in region.instance_types.values()
        ]
    )


def _pool_types(pool: Pool, region: Region) -> list[Any]:
    return [
        t
        for t in region.instance_types.values()
        if any(pool.matches(kind, region.key, t) for kind in DEFAULT_FOR)
    ]


def nodes(allocation_id: str) -> Any:
    """``AllocationNodesResponse``: each node of the region, its types, use and queue."""
    alloc, region = find(allocation_id)
    ws_id = workspace().id
    out = []
    for pool in region_pools(region):
        types = _pool_types(pool, region)
        gpu_type = ", ".join(sorted({t.gpu_model for t in types if t.gpus}))
        for i, node in enumerate(pool.nodes):
            entry: dict[str, Any] = {
                "name": node.name,
                "status": "NotReady" if node.down else "Ready",
                "unschedulable": node.down,
                "gpu_type": gpu_type,
                "instance_types": [
                    {
                        "key": t.key,
                        "name": t.name,
                        "storage_presets": [dict(p) for p in STORAGE_PRESETS],
                    }
                    for t in types
                    if node.capacity_for(Demand.of(t))
                ],
                "resource_usage": resource_usage(node),
            }
            queue = pool.dedicated.get(i)
            if queue is not None and queue.workspace == ws_id:
                entry["queue"] = {"id": queue.id, "name": queue.name, "type": queue.type}
            out.append(entry)
    return json_response({"name": alloc.name, "nodes": out})


def assignments(allocation_id: str) -> Any:
    alloc, _ = find(allocation_id)
    return json_response(
        [
            {
                "id": stable_uuid(alloc.id, "assignment"),
                "org_structure": {"id": alloc.workspace, "type": "workspace"},
            }
        ]
    )


def defaults() -> Any:
    """The region's allocation, for jobs and (where servers run) notebooks, unless unset."""
    region_key = routing.query().region
    unset = settings().unset_defaults
    out = []
    for alloc, region in _own():
        if alloc.region != region_key:
            continue
        for kind in _default_kinds(region):
            if (alloc.id, kind) not in unset:
                out.append(
                    {"default_for": kind, "allocation": {"id": alloc.id, "name": alloc.name}}
                )
    return json_response(out)


def _default_kinds(region: Region) -> tuple[str, ...]:
    jupyter = any(t.jupyter for t in region.instance_types.values())
    return DEFAULT_FOR if jupyter else DEFAULT_FOR[:1]


def own_org(req: Any) -> None:
    """404 unless ``req.org_structure`` is the caller's workspace: the only org structure
    the simulator has."""
    org = req.org_structure
    if org.type.value != "workspace" or str(org.id) != workspace().id.lower():
        raise detail_error(404, f"{org.type.value.capitalize()} {org.id} not found")


def _changed_default(allocation_id: str, unset: bool) -> Any:
    alloc, _ = find(allocation_id)
    req: Default = routing.body()
    own_org(req)
    key = (alloc.id, req.default_for.value)
    with state().lock:
        store = settings().unset_defaults
        if unset:
            store.add(key)
        else:
            store.discard(key)
    return json_response({"success": True})


def set_default(allocation_id: str) -> Any:
    return _changed_default(allocation_id, unset=False)


def unset_default(allocation_id: str) -> Any:
    return _changed_default(allocation_id, unset=True)
