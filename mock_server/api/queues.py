"""Queues: the caller's default queue of each allocation and the custom queues it creates, with
what runs and waits in each; shared-cluster queue assignment.

A custom queue is an engine scheduling unit (``simulator.tenancy``): ``gpu_limit`` (an
mlspace-sim field of the create and update bodies) caps the GPUs its jobs and servers hold at
once, and nodes added to it run only its work. Assignments (to workspaces, projects, the shared
cluster queue) are recorded and listed, not enforced: every queue belongs to the one workspace
that created it. A custom queue chosen as a default takes the work (jobs or servers) that names
no queue.
"""

from __future__ import annotations

from typing import Any

from mock_server import routing
from mock_server.api.allocations import find, own_org
from mock_server.api.capacity import (
    job_item,
    limits,
    live_work,
    nodes_of,
    notebook_item,
    settings,
)
from mock_server.errors import detail_error, json_response, refusal
from mock_server.models.capacity import (
    AddNodes,
    CreateQueue,
    Default,
    QueuesQuery,
    SharedClusterAssignment,
    UpdateQueue,
)
from mock_server.params import uuid_text
from mock_server.state import state, workspace
from simulator.errors import NotFound, Rejected
from simulator.jobs import Job
from simulator.logs import format_ts
from simulator.scheduler import PRIORITY_CLASSES
from simulator.tenancy import Allocation, Queue, stable_uuid

DEFAULT_FOR = ("job", "notebook")
SUCCESS = {"success": True}


def _refused(exc: Rejected) -> Exception:
    if isinstance(exc, NotFound):
        return detail_error(404, exc.message)
    return refusal(exc, "platform")


def find_queue(queue_id: str, *, as_uuid: bool = True) -> Queue:
    """The caller's queue with this id; 404 if it has none (422 for a malformed UUID)."""
    if as_uuid:
        queue_id = uuid_text(["path", "queue_id"], queue_id)
    try:
        return state().world.engine.tenancy.queue(workspace().id, queue_id.lower())
    except NotFound:
        raise detail_error(404, f"Queue {queue_id} not found") from None


def _queue(q: Queue) -> dict[str, Any]:
    return {
        "id": q.id,
        "name": q.name,
        "description": q.description,
        "allocation_id": q.allocation.id,
        "active": True,
        "type": q.type,
        "gpu_limit": q.gpu_limit,
    }


def _defaults_of(alloc: Allocation) -> dict[str, Queue]:
    """The queue jobs and servers of ``alloc`` naming none go to."""
    world = state().world
    return {kind: world.default_queue(alloc.workspace, alloc.id, kind) for kind in DEFAULT_FOR}


def list_queues() -> Any:
    q: QueuesQuery = routing.query()
    alloc_id = str(q.allocation_id)
    if q.workspace_id is not None and str(q.workspace_id) != workspace().id.lower():
        return json_response([])
    try:
        queues = state().world.queues(workspace().id, alloc_id)
    except NotFound:
        return json_response([])
    return json_response([_queue(q) for q in queues])


def default_queues() -> Any:
    alloc, _ = find(str(routing.query().allocation_id))
    return json_response(
        [
            {"default_for": kind, "queue": {"id": q.id, "name": q.name, "type": q.type}}
            for kind, q in _defaults_of(alloc).items()
        ]
    )


def get(queue_id: str) -> Any:
    q = find_queue(queue_id)
    return json_response(
        {
            **_queue(q),
            "metadata": {
                "default_priority": {"job": "medium", "notebook": "medium"},
                "job_priority_allowed": list(PRIORITY_CLASSES),
            },
            "nodes": list(q.nodes),
        }
    )


def create() -> Any:
    req: CreateQueue = routing.body()
    try:
        q = state().world.create_queue(
            workspace().id, str(req.allocation_id), req.name, req.description, req.gpu_limit
        )
    except Rejected as exc:
        raise _refused(exc) from None
    return json_response({"id": q.id})


def update(queue_id: str) -> Any:
    q = find_queue(queue_id)
    req: UpdateQueue = routing.body()
    limit: dict[str, Any] = {}
    if "gpu_limit" in req.model_fields_set:
        limit = {"gpu_limit": req.gpu_limit, "unlimited": req.gpu_limit is None}
    try:
        state().world.update_queue(
            workspace().id, q.id, name=req.name, description=req.description, **limit
        )
    except Rejected as exc:
        raise _refused(exc) from None
    return json_response(SUCCESS)


def delete(queue_id: str) -> Any:
    q = find_queue(queue_id)
    try:
        state().world.delete_queue(workspace().id, q.id)
    except Rejected as exc:
        raise _refused(exc) from None
    with state().lock:
        settings().assignments.pop(q.id, None)
    return json_response(SUCCESS)


def _assigned(queue_id: str, pairs: list[tuple[str, str]], add: bool) -> Any:
    q = find_queue(queue_id)
    with state().lock:
        held = settings().assignments.setdefault(q.id, set())
        if add:
            held.update(pairs)
        else:
            held.difference_update(pairs)
    return json_response(SUCCESS)


def assign(queue_id: str) -> Any:
    org = routing.body().org_structure
    return _assigned(queue_id, [(org.type.value, str(org.id))], add=True)


def unassign(queue_id: str) -> Any:
    org = routing.body().org_structure
    return _assigned(queue_id, [(org.type.value, str(org.id))], add=False)


def assign_workspaces(queue_id: str) -> Any:
    ids = routing.body().workspace_ids
    return _assigned(queue_id, [("workspace", str(i)) for i in ids], add=True)


def _changed_default(queue_id: str, unset: bool) -> Any:
    q = find_queue(queue_id)
    req: Default = routing.body()
    own_org(req)
    state().world.choose_default_queue(
        workspace().id, q.id, req.default_for.value, chosen=not unset
    )
    return json_response(SUCCESS)


def set_default(queue_id: str) -> Any:
    return _changed_default(queue_id, unset=False)


def unset_default(queue_id: str) -> Any:
    return _changed_default(queue_id, unset=True)


def defaults(queue_id: str) -> Any:
    """``QueueDefaultsResponse``: for this queue, what it is the default of."""
    q = find_queue(queue_id)
    kinds = [kind for kind, d in _defaults_of(q.allocation).items() if d is q]
    return json_response(
        {
            "defaults": {
                q.id: [
                    {
                        "org_structure_id": q.workspace,
                        "org_structure_type": "workspace",
                        "default_for": kind,
                    }
                    for kind in kinds
                ]
            }
        }
    )


def add_nodes(queue_id: str) -> Any:
    """Dedicate nodes to the queue; work already on them runs on (``force_withdrawal`` is
    accepted and changes nothing)."""
    q = find_queue(queue_id)
    req: AddNodes = routing.body()
    try:
        state().world.add_queue_nodes(workspace().id, q.id, req.nodes)
    except Rejected as exc:
        raise _refused(exc) from None
    return json_response(SUCCESS)


def jobs(queue_id: str) -> Any:
    """The queue's jobs that are not over (waiting, starting, running)."""
    q = find_queue(queue_id, as_uuid=False)
    return json_response(
        {
            "jobs": [
                {**job_item(w), "queue_name": q.name} for w in live_work(q) if isinstance(w, Job)
            ]
        }
    )


def notebooks(queue_id: str) -> Any:
    """The queue's Jupyter Servers and TensorBoards that hold or await capacity."""
    q = find_queue(queue_id, as_uuid=False)
    books = []
    for w in live_work(q):
        if not isinstance(w, Job):
            nodes = nodes_of(w)
            books.append(
                {**notebook_item(w, nodes[0][0].name if nodes else None), "queue_name": q.name}
            )
    return json_response({"notebooks": books})


def pods(queue_id: str) -> Any:
    """One pod per worker of the queue's live work, on its node (none while it waits)."""
    q = find_queue(queue_id, as_uuid=False)
    ns = workspace().namespace
    out = []
    for w in live_work(q):
        is_job = isinstance(w, Job)
        uid = w.uid
        hosts = [node.name for node, k in nodes_of(w) for _ in range(k)]
        for i in range(w.n_workers):
            out.append(
                {
                    "allocation_label": q.allocation.name,
                    "created_at": format_ts(w.created_at),
                    "id": stable_uuid(uid, "pod", str(i)),
                    "instance_type": w.itype.key,
                    "job_id": uid if is_job else None,
                    "job_name": w.name if is_job else None,
                    "limits": limits(w),
                    "name": f"{w.name}-{'worker' if is_job else 'server'}-{i}",
                    "namespace": ns,
                    "node_name": hosts[i] if i < len(hosts) else None,
                    "queue_label": q.name,
                    "queue_name": q.name,
                    "region": w.region,
                    "status": "Running" if hosts else "Pending",
                    "user_email": w.author,
                    "user_id": w.author,
                }
            )
    return json_response({"pods": out})


def _shared(add: bool) -> Any:
    req: SharedClusterAssignment = routing.body()
    own_org(req)
    key = (req.region_key.value, req.org_structure.type.value, str(req.org_structure.id))
    with state().lock:
        store = settings().shared
        if add:
            store.add(key)
        else:
            store.discard(key)
    return json_response(SUCCESS)


def assign_shared() -> Any:
    return _shared(add=True)


def unassign_shared() -> Any:
    return _shared(add=False)
