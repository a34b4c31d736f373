"""Per-workspace allocations and queues as the API shows them: names and stable ids by the
engine's rule (:mod:`simulator.tenancy`), and which workspaces a caller may list.

Every workspace gets one pay-as-you-go allocation per training region with one default queue;
jobs that name no allocation or queue are listed under these, as on the platform.
"""

from __future__ import annotations

from typing import Any

from mock_server.auth import AuthRegistry, Workspace
from mock_server.errors import ApiError
from simulator.tenancy import allocation_name, stable_uuid


def allocation_for(workspace_id: str, region: str) -> dict[str, Any]:
    return {
        "id": stable_uuid(workspace_id, region, "allocation"),
        "name": allocation_name(region),
        "region_key": region,
    }


def default_queue(workspace_id: str, region: str) -> dict[str, Any]:
    alloc = allocation_for(workspace_id, region)
    return {
        "id": stable_uuid(workspace_id, region, "queue"),
        "name": f"default-{region.lower()}",
        "allocation_id": alloc["id"],
        "allocation_name": alloc["name"],
    }


def placement_names(
    workspace_id: str, region: str, allocation_name: str | None, queue_name: str | None
) -> dict[str, str]:
    """Allocation and queue (names and ids) a request lands in: the ones it names, else the
    region's defaults. One rule for jobs, servers and the pending list, so their ids agree."""
    q = default_queue(workspace_id, region)
    alloc = allocation_name or q["allocation_name"]
    queue = queue_name or q["name"]
    return {
        "allocation_name": alloc,
        "allocation_id": q["allocation_id"]
        if alloc == q["allocation_name"]
        else stable_uuid(workspace_id, alloc),
        "queue_name": queue,
        "queue_id": q["id"] if queue == q["name"] else stable_uuid(workspace_id, queue),
    }


def listed_workspaces(auth: AuthRegistry, headers: Any) -> list[Workspace]:
    """The workspaces a token holder may look at (``GET workspaces/v3/`` and the other
    token-only workspace operations).

    Strict mode: the workspace the caller's ``x-workspace-id`` and ``x-api-key`` open (a key
    pair alone proves no membership, and names, ids and namespaces are a tenant's own), and the
    ones whose members include the caller's client id (those it bootstrapped, or configured
    ``members``). Permissive mode: every workspace, since any caller may create or enter one;
    the caller's own comes into being first, so ``mls ws list`` shows it even as the first
    command."""
    try:
        own: Workspace | None = auth.authenticate(headers)
    except ApiError:
        own = None
    if not auth.strict:
        return list(auth.workspaces.values())
    client = auth.check_token(headers).client_id
    return [
        ws for ws in auth.workspaces.values() if ws is own or client in ws.extra.get("members", ())
    ]
