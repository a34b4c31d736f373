"""Per-workspace allocations and queues as the API shows them: names and stable ids by the
engine's rule (:mod:`simulator.tenancy`), and which workspaces a caller may list.

Every workspace gets one pay-as-you-go allocation per training region with one default queue;
jobs that name no allocation or queue are listed under these, as on the platform.
"""

from __future__ import annotations

from typing import Any

from mock_server.auth import AuthRegistry, Workspace
from mock_server.errors import ApiError
from simulator.tenancy import Queue, allocation_name, stable_uuid


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


def placement_names(queue: Queue) -> dict[str, str]:
    """Allocation and queue (names and ids) of the queue a job or server was placed through:
    one rule for jobs, servers and the pending list, so their ids agree (and follow a rename)."""
    return {
        "allocation_name": queue.allocation.name,
        "allocation_id": queue.allocation.id,
        "queue_name": queue.name,
        "queue_id": queue.id,
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
