"""Workspaces over HTTP: list, details, users, status, the api key lookup, bootstrap and
debootstrap.

These operations take a token alone (no ``x-workspace-id`` in the spec); which workspaces a
caller may see is :func:`mock_server.tenancy.listed_workspaces`. Credentials (id, api key) are
the auth registry's; the bootstrap and debootstrap records are the engine's
(:mod:`simulator.workspaces`). A bootstrap or debootstrap is journaled as acting for the workspace
it made or ended, so a state file replays it bound to that workspace (checked for access when it
was first accepted, not again).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import g, request

from mock_server import routing
from mock_server.auth import Workspace, namespace_for
from mock_server.errors import detail_error, json_response, refusal, validation_error
from mock_server.models import workspaces as bodies
from mock_server.params import uuid_text
from mock_server.state import state
from mock_server.tenancy import allocation_for, listed_workspaces
from simulator.errors import Refused, Rejected
from simulator.logs import format_ts
from simulator.randomness import derive_bits, uuid4_str
from simulator.transfers.store import user_uid
from simulator.workspaces import ACTIVE, WorkspaceRecord

CATEGORY = "public"
DEFAULT_META = json.dumps({"meta": "Json valid string"})


def _visible() -> list[Workspace]:
    return listed_workspaces(state().auth, request.headers)


def _same(ws: Workspace, ws_id: str) -> bool:
    try:
        return str(uuid.UUID(ws.id)) == ws_id
    except ValueError:  # a configured id that is no UUID names no path's workspace
        return False


def _find(ws_id: str, *, live: bool = True) -> Workspace:
    """A workspace the caller may see (``live``: not debootstrapped), else 404."""
    world = state().world
    for ws in _visible():
        if _same(ws, ws_id) and (not live or world.workspace_status(ws.id) == ACTIVE):
            return ws
    raise detail_error(404, "Workspace not found")


def _view(ws: Workspace) -> dict[str, Any]:
    """A workspace as ``ListWorkspacesResponse`` lists it, with its allocations."""
    regions = [r for r in state().world.config.catalog.regions.values() if r.in_spec_enum]
    allocations = []
    for r in regions:
        alloc = allocation_for(ws.id, r.key)
        allocations.append(
            {"id": alloc["id"], "name": alloc["name"], "cluster_key": r.key, "cluster_name": r.name}
        )
    return {
        "id": ws.id,
        "name": ws.name,
        "namespace": ws.namespace,
        "project_id": ws.project_id,
        "project_name": ws.project_name,
        "owner_email": ws.owner_email,
        "allocations": allocations,
    }


def list_workspaces() -> Any:
    """The caller's live workspaces; ``customer_id`` is accepted and ignored: customers are
    not modelled."""
    world = state().world
    listed = [ws for ws in _visible() if world.workspace_status(ws.id) == ACTIVE]
    return json_response({"workspaces": [_view(ws) for ws in listed]})


def get_workspace(workspace_id: str) -> Any:
    return json_response(_view(_find(uuid_text(["path", "workspace_id"], workspace_id))))


def get_status(workspace_id: str) -> Any:
    """``active``, or after a debootstrap ``disabled`` until its grace period ends, then
    ``deleted``."""
    ws = _find(uuid_text(["path", "workspace_id"], workspace_id), live=False)
    return json_response({"status": state().world.workspace_status(ws.id)})


def _user(user_id: str, email: str) -> dict[str, Any]:
    return {
        "id": user_id,
        "mls_id": f"mls-user-{user_id[:8]}",
        "email": email,
        "name": email.split("@", 1)[0],
        "status": "active",
    }


def list_users(workspace_id: str) -> Any:
    """The owner, then the users and admins named at bootstrap."""
    ws = _find(uuid_text(["path", "workspace_id"], workspace_id))
    users = [_user(user_uid(ws.owner_email), ws.owner_email)]
    rec = state().world.workspace_record(ws.id)
    if rec is not None:
        for uid in dict.fromkeys([*rec.admin_ids, *rec.user_ids]):
            users.append(_user(uid, f"user-{uid[:8]}@example.com"))
    return json_response(users)


def get_api_key() -> Any:
    """The ``x-api-key`` of the workspace named by ``workspace_id`` (query) or the
    ``x-workspace-id`` header. In permissive mode an unknown workspace comes into being here,
    as on any first request, with a key drawn for it (``mlspace-plugin`` looks its key up with
    an empty ``x-api-key``)."""
    wanted = routing.query().workspace_id
    if wanted is None:
        raw = (request.headers.get("x-workspace-id") or "").strip()
        if not raw:
            raise validation_error(
                ["header", "x-workspace-id"], "Field required", "missing", input=None
            )
        ws_id = uuid_text(["header", "x-workspace-id"], raw)
    else:
        ws_id = str(wanted)
    st = state()
    if not st.auth.strict:
        st.auth.first_use(ws_id, _api_key(ws_id))
    return json_response({"x-api-key": _find(ws_id).api_key})


def _api_key(ws_id: str) -> str:
    return uuid4_str(derive_bits(state().world.seed, "x-api-key", ws_id))


def _bootstrap() -> tuple[Workspace, WorkspaceRecord]:
    body: bodies.WorkspaceCreatePayload = routing.body()
    st = state()
    try:
        rec = st.world.bootstrap_workspace(
            str(body.project_id),
            body.name,
            description=body.description,
            meta=body.meta,
            user_ids=[str(u) for u in body.user_ids],
            admin_ids=[str(u) for u in body.admin_ids],
        )
    except Refused as exc:
        raise validation_error(
            ["body", "name"], f"Value error, {exc.message}", "value_error", input=body.name
        ) from None
    token = g.get("token")
    ws = st.auth.enroll(
        rec.id,
        _api_key(rec.id),
        name=rec.name,
        project_id=rec.project_id,
        member=token.client_id if token is not None else None,
    )
    g.workspace = ws  # journaled as acting for it
    return ws, rec


def _record_view(ws: Workspace, rec: WorkspaceRecord | None) -> dict[str, Any]:
    world = state().world
    created = rec.created_at if rec is not None else world.start_epoch
    ending = world.workspace_ending(ws.id)
    return {
        "id": ws.id,
        "project_id": ws.project_id,
        "name": ws.name,
        "namespace": namespace_for(ws.id),
        "category": CATEGORY,
        "description": rec.description if rec is not None else None,
        "meta": rec.meta if rec is not None and rec.meta is not None else DEFAULT_META,
        "created_at": format_ts(created),
        "updated_at": format_ts(created if ending is None else ending.disabled_at),
        "status": world.workspace_status(ws.id),
    }


def bootstrap_v2() -> Any:
    """Make a workspace (``WorkspaceCreateResponse``): active at once."""
    ws, rec = _bootstrap()
    return json_response(_record_view(ws, rec))


def bootstrap_v3() -> Any:
    """Make a workspace (``BootstrapV3Response``, with the bootstrap workflow's ids)."""
    ws, rec = _bootstrap()
    return json_response(
        {**_record_view(ws, rec), "run_id": rec.run_id, "workflow_id": rec.workflow_id}
    )


def debootstrap() -> Any:
    """End a workspace: ``disabled`` now, ``deleted`` after ``delay_hours``."""
    body: bodies.WorkspaceDebootstrapPayload = routing.body()
    ws_id = str(body.workspace_id)
    replayed = g.get("workspace")  # a token-only request has none unless a state file binds it
    ws = replayed if replayed is not None else _find(ws_id)
    world = state().world
    try:
        ending = world.debootstrap_workspace(ws.id, body.delay_hours)
    except Rejected as exc:
        raise refusal(exc, "detail") from None
    g.workspace = ws
    view = _record_view(ws, world.workspace_record(ws.id))
    return json_response({**view, "run_id": ending.run_id, "workflow_id": ending.workflow_id})
