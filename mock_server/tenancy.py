"""Per-workspace allocations and queues: stable ids derived from (workspace, region).

Every workspace gets one pay-as-you-go allocation per training region with one default queue;
jobs that name no allocation or queue are listed under these, as on the platform.
"""

from __future__ import annotations

import uuid
from typing import Any

NAMESPACE = uuid.UUID("5f1c1d64-1d0e-4c1b-9a36-6d2b8b8f5e11")


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def allocation_for(workspace_id: str, region: str) -> dict[str, Any]:
    return {
        "id": stable_uuid(workspace_id, region, "allocation"),
        "name": f"payg-{region.lower()}",
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
