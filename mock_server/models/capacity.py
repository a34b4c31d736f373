"""Bodies of the allocation, queue and shared-cluster-queue operations (``DefaultRequest``,
``DefaultQueueRequest``, ``AssignmentRequest``, ``CreateQueueRequest``, ``UpdateQueueRequest``,
``AssignWorkspacesRequest``, ``AddNodesRequest`` of spec v2.8.1), and the queries of the
allocation, queue, node and availability reads."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field

from mock_server.models import OpenBody, choices
from mock_server.models.queries import Query

OrgStructureType = choices("OrgStructureType", ("workspace", "project", "cluster"))
DefaultFor = choices("DefaultFor", ("job", "notebook"))
SpecRegion = choices(
    "AllocationProdRegion", ("DGX2-MT", "A100-MT", "SR003", "SR004", "SR005", "SR006", "SR008")
)
GpuLimit = Annotated[int, Field(ge=0)]


class OrganizationStructure(OpenBody):
    id: uuid.UUID
    type: OrgStructureType


class Assignment(OpenBody):
    """``AssignmentRequest`` of a queue."""

    org_structure: OrganizationStructure


class Default(Assignment):
    """``DefaultRequest`` and ``DefaultQueueRequest``: the same two fields."""

    default_for: DefaultFor


class SharedClusterAssignment(Assignment):
    region_key: SpecRegion


class CreateQueue(OpenBody):
    """``CreateQueueRequest``; ``gpu_limit`` is mlspace-sim's own: the most GPUs the queue's
    placed work may hold at once (absent: no limit)."""

    name: Annotated[str, Field(min_length=1)]
    description: str
    allocation_id: uuid.UUID
    gpu_limit: GpuLimit | None = None


class UpdateQueue(OpenBody):
    """``UpdateQueueRequest``; ``gpu_limit`` as in :class:`CreateQueue` (null lifts it,
    absent keeps it)."""

    name: Annotated[str, Field(min_length=1)]
    description: str
    gpu_limit: GpuLimit | None = None


class AssignWorkspaces(OpenBody):
    workspace_ids: list[uuid.UUID]


class AddNodes(OpenBody):
    nodes: Annotated[list[str], Field(min_length=1)]
    force_withdrawal: bool


class AllocationDefaultsQuery(Query):
    region: Annotated[str, Field(description="the region's defaults; none for an unknown one")]


class QueuesQuery(Query):
    allocation_id: uuid.UUID
    workspace_id: Annotated[
        uuid.UUID | None, Field(description="none listed for another workspace")
    ] = None


class DefaultQueuesQuery(Query):
    allocation_id: uuid.UUID


class NodeLoadQuery(Query):
    """The caller's work on the named nodes, narrowed to one allocation or queue."""

    node_names: list[str]
    allocation_id: uuid.UUID | None = None
    queue_id: uuid.UUID | None = None


class AvailableQuery(Query):
    """Through which allocation and queue (the region's defaults when not named)."""

    allocation_name: str | None = None
    queue_name: str | None = None
