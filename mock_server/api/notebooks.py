"""Jupyter Servers (``mls js``): create, list, get, pause, resume, modify, delete, and the
workspace-level autoshutdown rules, in every version of the spec (views over the same servers
and rules; v1's rule is v2's ``by_load``). The shared server logic is in ``_servers``, the users
of a server in ``notebook_users``."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response

from mock_server.api import _servers as servers
from mock_server.api._servers import NOTEBOOK
from mock_server.api.notebook_users import find_by_name
from mock_server.errors import ApiError, json_response
from mock_server.models.servers import LoadRule
from mock_server.params import json_body, uuid_text
from mock_server.state import state, workspace

UUID_PARAM = "notebook_uuid"
FORBIDDEN_RULES = (
    "You should have administrative privileges to work with workspace-level autoshutdown rules"
)


def list_notebooks() -> Any:
    """List the workspace's Jupyter Servers (filters, order, page)."""
    return json_response(servers.listing(NOTEBOOK))


def create(namespace: str) -> Any:
    """Create a Jupyter Server; it waits while the direct GPU pool is full."""
    body = json_body()
    book = servers.create(NOTEBOOK, namespace, body)
    return json_response(servers.item(book))


def create_v1(namespace: str) -> Any:
    """The older create: same body (image type ``default`` accepted), ``CreateNotebookResponse``."""
    body = json_body()
    book = servers.create(NOTEBOOK, namespace, body)
    return json_response({"success": True, "log": None, "data": servers.detail(book)})


def list_v1(namespace: str) -> Any:
    """``ListNotebooksResponse``: the namespace's servers the caller may use, as
    ``NotebookDetail`` (another namespace holds none of the caller's)."""
    st, ws = state(), workspace()
    with st.lock:
        books = st.world.list_notebooks(ws.id, NOTEBOOK.kind) if namespace == ws.namespace else []
        return json_response(
            {"notebooks": [servers.detail(b) for b in books if servers.has_access(b)]}
        )


def delete_v1(namespace: str, notebook_name: str) -> Any:
    """Delete by name in a region (the body's, ``DGX2-MT`` by default); ``ResultResponse``."""
    region = json_body(required=False).get("region", servers.DEFAULT_REGION)
    servers.check_namespace(namespace)
    with state().lock:
        book = find_by_name(namespace, notebook_name, region)
        receipt = servers.delete(NOTEBOOK, book.uid, UUID_PARAM)
    return json_response({"success": True, "log": None, "data": receipt})


def pause_v1(namespace: str, notebook_uuid: str) -> Any:
    """The older pause: in a namespace, with an optional region body that changes nothing."""
    servers.check_namespace(namespace)
    return json_response(servers.pause(NOTEBOOK, notebook_uuid, UUID_PARAM))


def modify_v1(notebook_uuid: str) -> Any:
    """The older modify: the pause schedule (``pause_at``, ``postponed_pause_enabled``)."""
    return json_response(servers.modify(NOTEBOOK, notebook_uuid, UUID_PARAM, json_body()))


def get(notebook_uuid: str) -> Any:
    """One Jupyter Server by uuid."""
    return json_response(servers.get(NOTEBOOK, notebook_uuid, UUID_PARAM))


def delete(notebook_uuid: str) -> Any:
    """Delete a Jupyter Server (billing stops at once)."""
    return json_response(servers.delete(NOTEBOOK, notebook_uuid, UUID_PARAM))


def pause(notebook_uuid: str) -> Any:
    """Pause a Jupyter Server: frees its GPUs, stops billing; no request body."""
    return json_response(servers.pause(NOTEBOOK, notebook_uuid, UUID_PARAM))


def modify(notebook_uuid: str) -> Any:
    """Change description, S3 settings or the server's autoshutdown rules."""
    return json_response(servers.modify(NOTEBOOK, notebook_uuid, UUID_PARAM, json_body()))


def resume(namespace: str, notebook_uuid: str) -> Any:
    """Resume a paused Jupyter Server, possibly on another instance type."""
    body = json_body(required=False)
    return json_response(servers.resume(NOTEBOOK, namespace, notebook_uuid, UUID_PARAM, body))


def _own_workspace(raw: str) -> str:
    """The caller's workspace id if the path names it; rules of others are forbidden (403)."""
    wanted = uuid.UUID(uuid_text(["path", "workspace_id"], raw))
    ws = workspace()
    try:
        same = uuid.UUID(ws.id) == wanted
    except ValueError:
        same = False
    if not same:
        raise ApiError(403, {"details": FORBIDDEN_RULES})
    return ws.id


def get_rule(workspace_id: str) -> Any:
    """The workspace's autoshutdown rule (404 when none is set)."""
    ws_id = _own_workspace(workspace_id)
    with state().lock:
        rule = servers.workspace_rules().get(ws_id)
    if rule is None:
        raise ApiError(404, {"detail": f"Autoshutdown rule not found for workspace ID={ws_id}"})
    return json_response(servers.rule_view(rule))


def set_rule(workspace_id: str) -> Any:
    """Create or update (by key) the rule that servers created from now on start with."""
    ws_id = _own_workspace(workspace_id)
    body = json_body()
    with state().lock:
        rules = servers.workspace_rules()
        rules[ws_id] = servers.merge_rule(rules.get(ws_id), body)
        return json_response(servers.rule_view(rules[ws_id]))


def get_load_rule(workspace_id: str) -> Any:
    """v1's rule: the ``by_load`` part of the workspace's (404 when it has none)."""
    ws_id = _own_workspace(workspace_id)
    with state().lock:
        rule = (servers.workspace_rules().get(ws_id) or {}).get("by_load")
    if rule is None:
        raise ApiError(404, {"detail": f"Autoshutdown rule not found for workspace ID={ws_id}"})
    return json_response(rule)


def set_load_rule(workspace_id: str) -> Any:
    """Sets the ``by_load`` part of the workspace's rule; its timer and schedule stay."""
    ws_id = _own_workspace(workspace_id)
    body = json_body()
    load = {key: body[key] for key in LoadRule.model_fields if body.get(key) is not None}
    with state().lock:
        rules = servers.workspace_rules()
        rules[ws_id] = servers.merge_rule(rules.get(ws_id), {"by_load": load})
    return json_response(load)


def delete_rule(workspace_id: str) -> Any:
    """Remove the workspace's autoshutdown rule (204, no body)."""
    ws_id = _own_workspace(workspace_id)
    with state().lock:
        servers.workspace_rules().pop(ws_id, None)
    return Response(status=204)
