"""Users of a Jupyter Server (``notebooks/v2/{namespace}/{name}/users``): share and revoke.

A ``multiuser`` server is open to its creator and the users it is shared with; every request
that names it (get, pause, resume, modify, delete, these) answers 404 to anyone else, as for a
server that does not exist, and lists show it with ``access_granted: false``
(:func:`_servers.has_access`). A user is the client id a caller's token was issued to; anyone
with access may share further or revoke. The server is named by name and ``region``.
"""

from __future__ import annotations

from typing import Any

from mock_server import routing
from mock_server.api import _servers as servers
from mock_server.api._servers import NOTEBOOK
from mock_server.errors import ApiError, json_response
from mock_server.params import json_body
from mock_server.state import state, workspace
from simulator.notebooks import Notebook
from simulator.tenancy import stable_uuid


def find_by_name(namespace: str, name: str, region: str) -> Notebook:
    """The caller's Jupyter Server ``name`` in ``region`` of this workspace's namespace; 404
    (the spec's ``NotFoundDeletionErrorPayload``) for any other."""
    ws = workspace()
    books = state().world.list_notebooks(ws.id, NOTEBOOK.kind) if namespace == ws.namespace else []
    for book in books:
        if book.name == name and book.region == region and servers.has_access(book):
            return book
    raise ApiError(404, {"detail": f"Notebook name={name}' does not found in region={region}"})


def _region() -> str:
    """The ``region`` the server is named in (the operation's query)."""
    return routing.query().region.value


def _users(book: Notebook) -> list[dict[str, Any]]:
    """``NotebookUserResponse`` rows, in the order they were given access."""
    shared = book.extra.get("users", {})
    return [
        {
            "id": user,
            "mls_id": stable_uuid("user", user),
            "email": user if "@" in user else "",
            "name": user,
            "created_at": servers.iso(at),
        }
        for user, at in sorted(shared.items(), key=lambda kv: kv[1])
    ]


def list_users(namespace: str, notebook_name: str) -> Any:
    with state().lock:
        book = find_by_name(namespace, notebook_name, _region())
        return json_response(_users(book))


def share(namespace: str, notebook_name: str) -> Any:
    """Give the users access (one already in keeps the date it got it); answers the users."""
    region, ids = _region(), json_body()["user_ids"]
    st = state()
    with st.lock:
        book = find_by_name(namespace, notebook_name, region)
        users = book.extra.setdefault("users", {})
        for user in ids:
            users.setdefault(user, st.world.now_epoch())
        return json_response(_users(book))


def revoke(namespace: str, notebook_name: str) -> Any:
    """Take access away from the users (unknown ones are ignored); answers who is left."""
    region, ids = _region(), set(json_body()["user_ids"])
    with state().lock:
        book = find_by_name(namespace, notebook_name, region)
        users = book.extra.get("users", {})
        book.extra["users"] = {u: at for u, at in users.items() if u not in ids}
        return json_response(_users(book))
