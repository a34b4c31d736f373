"""What Jupyter Servers and TensorBoards share: the platform runs both as "servers".

Both are engine notebooks (``kind`` tells them apart) that take capacity from the direct pool,
wait while it is full, pause, resume and get deleted; the two API areas differ only in paths,
nouns and a few body fields. Request validation, JSON shapes, errors and autoshutdown live here.

Autoshutdown: ``by_timer`` is enforced by the engine (the server is paused ``shutdown_in``
virtual seconds after each start, or after the rule was set on a running server, ending
``paused_by_timer``; disabling it withdraws the pending pause); ``by_load``, ``by_schedule`` and
the create-time ``pause_at`` are stored and returned only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import g

from mock_server import routing
from mock_server.errors import ApiError, refusal
from mock_server.models.servers import ServerListQuery
from mock_server.params import uuid_text
from mock_server.state import state, workspace
from mock_server.tenancy import placement_names, stable_uuid
from simulator import notebooks as nb
from simulator.errors import Rejected
from simulator.notebooks import Notebook
from simulator.world import World

DEFAULT_REGION = "DGX2-MT"  # the spec's default for create and resume
DEFAULT_RESUME_TYPE = "free.0gpu"
TIMER_STATUS = "paused_by_timer"
RULES_AREA = "notebooks.autoshutdown"
# what modify may change: v2's body takes the first three, v1's the pause schedule
MODIFIABLE = ("description", "s3_buckets", "s3_credentials", "pause_at", "postponed_pause_enabled")
RULE_KEYS = ("by_timer", "by_load", "by_schedule")
META_KEYS = (
    "description",
    "tmp_storage",
    "allocation_name",
    "queue_name",
    "pause_at",
    "postponed_pause_enabled",
    "s3_buckets",
    "s3_credentials",
    "access_mode",
    "logdir",
    "tensorboard_params",
)


@dataclass(frozen=True)
class ServerKind:
    """How one API area names and lists its servers."""

    kind: str  # the engine's kind
    noun: str  # "Notebook uuid=... does not found", "... status is 'Running'. Can't resume."
    title: str  # "<title> with name '...' already exists in current workspace."
    list_key: str  # the array key of the list response
    workspace_rules: bool  # whether workspace autoshutdown rules apply to new servers


NOTEBOOK = ServerKind("notebook", "Notebook", "Jupyter server", "notebooks", True)
TENSORBOARD = ServerKind("tensorboard", "Tensorboard", "Tensorboard", "tensorboards", False)


# ---- request parsing ------------------------------------------------------------------------
def resume_target(body: dict[str, Any]) -> tuple[str, str]:
    """Region and instance type of a resume, with the spec's defaults."""
    return body.get("region", DEFAULT_REGION), body.get("instance_type", DEFAULT_RESUME_TYPE)


def check_namespace(namespace: str) -> None:
    ws = workspace()
    if namespace != ws.namespace:
        raise ApiError(
            400,
            {
                "details": f"Namespace={namespace} does not belong to workspace_id='{ws.id}'.",
                "status": "error",
            },
        )


def caller() -> str | None:
    """Who sends the request: the client id of its token (None when a state file's command is
    replayed, which was let through when it was first sent)."""
    token = g.get("token")
    return token.client_id if token is not None else None


def has_access(book: Notebook) -> bool:
    """A ``multiuser`` server is its creator's and its users' (all the workspace's with
    ``all-workspace-users``); a ``shared`` one is everyone's in the workspace. A server whose
    creator is not known (made by a replayed command) stays open to the workspace."""
    ext, who = book.extra, caller()
    if who is None or ext.get("access_mode") != "multiuser" or ext.get("all_workspace_users"):
        return True
    return ext.get("_creator") in (None, who) or who in ext.get("users", {})


def find(kind: ServerKind, raw_uuid: str, param: str) -> Notebook:
    """The caller's server of this kind; another workspace's or kind's, or one the caller has no
    access to, is 404 like a missing one."""
    uid = uuid_text(["path", param], raw_uuid)
    book = state().world.get_notebook(uid, workspace().id)
    if book is None or book.kind != kind.kind or not has_access(book):
        raise ApiError(404, {"detail": f"{kind.noun} uuid='{raw_uuid}' does not found"})
    return book


# ---- JSON shapes ----------------------------------------------------------------------------
def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


def _age(seconds: float) -> str:
    """kubectl-style age: ``49s``, ``2h2m49s``, ``1d``."""
    left = max(0, int(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def _short_image(image: str) -> str:
    return image.rsplit("/", 1)[-1]


def rule_view(config: dict[str, Any] | None) -> dict[str, Any]:
    config = config or {}
    return {key: config.get(key) for key in RULE_KEYS}


def item(book: Notebook) -> dict[str, Any]:
    """One server as the list, get, create and modify responses show it."""
    st = state()
    ext = book.extra
    running = book.status == nb.RUNNING
    access_mode = ext.get("access_mode") or "shared"
    alloc, queue = ext.get("allocation_name"), ext.get("queue_name")
    placed = placement_names(book.queue)
    out: dict[str, Any] = {
        "uid": book.uid,
        "uuid": book.uid,
        "name": book.name,
        "status": book.status,
        "author": book.author,
        "image": book.image,
        "short_image": _short_image(book.image),
        "imageDisplayName": _short_image(book.image),
        "instanceType": book.itype.key,
        "region": book.region,
        "url": None,
        "portal_ref": "",
        "description": ext.get("description"),
        "s3_buckets": [
            {
                "bucket_name": b["bucket_name"],
                "access_rule": b["access_rule"],
                "mount_status": "MOUNTED" if running else "NOT_MOUNTED",
            }
            for b in ext.get("s3_buckets") or []
        ],
        "s3_credentials": ext.get("s3_credentials") or {"s3_credentials_source": "not-enabled"},
        "pause_at": ext.get("pause_at"),
        "postponed_pause_enabled": bool(ext.get("postponed_pause_enabled", False)),
        "tmp_storage": ext.get("tmp_storage"),
        "allocation_name": alloc,
        "allocation_id": placed["allocation_id"] if alloc else None,
        "queue_name": queue,
        "queue_id": placed["queue_id"] if queue else None,
        "creationTimestamp": book.created_at,
        "ageSeconds": int(st.world.now_epoch() - book.created_at),
        "deletionTimestamp": book.status_updated_at if book.status == nb.DELETING else None,
        "status_updated_at": iso(book.status_updated_at),
        "updated_at": iso(max(book.status_updated_at, ext.get("_modified_at", 0.0))),
        "is_shared": access_mode == "shared",
        "access_mode": access_mode,
        "access_granted": has_access(book),
        "autoshutdown_config": rule_view(ext.get("autoshutdown")),
    }
    if book.kind == TENSORBOARD.kind:
        out["logdir"] = ext.get("logdir") or []
        out["tensorboard_params"] = ext.get("tensorboard_params")
    else:
        out["notebookType"] = "Default"
    return out


def detail(book: Notebook) -> dict[str, Any]:
    """``NotebookDetail`` / ``TensorboardDetail``: what pause and resume answer."""
    age = state().world.now_epoch() - book.created_at
    if book.status == nb.WAITING:
        reason = "Waiting for free capacity in the pool"
    else:
        reason = book.status.replace("_", " ").capitalize()
    return {
        "uid": book.uid,
        "uuid": book.uid,
        "name": book.name,
        "status": book.status,
        "image": book.image,
        "age": _age(age),
        "ageSeconds": str(int(age)),
        "author": book.author,
        "cpu": f"{book.itype.cpu:g}",
        "memory": f"{book.itype.memory_gi:g}Gi",
        "namespace": workspace().namespace,
        "reason": reason,
    }


def async_result(book: Notebook, action: str) -> dict[str, Any]:
    """The platform's receipt for an asynchronous action (the vendor's CLI fixtures' shape)."""
    return {
        "process_id": stable_uuid(book.uid, action, str(book.status_updated_at)),
        "status": "queued",
    }


# ---- autoshutdown ---------------------------------------------------------------------------
def workspace_rules() -> dict[str, dict[str, Any]]:
    """Workspace-level autoshutdown rules of this server, by workspace id."""
    return state().area(RULES_AREA, dict)


def merge_rule(current: dict[str, Any] | None, update: dict[str, Any]) -> dict[str, Any]:
    """Keys present in ``update`` replace the stored ones; ``null`` removes one."""
    merged = dict(current or {})
    for key in RULE_KEYS:
        if key in update:
            if update[key] is None:
                merged.pop(key, None)
            else:
                merged[key] = update[key]
    return merged


def apply_timer(world: World, book: Notebook) -> None:
    """Hand the server's ``by_timer`` rule to the engine (or withdraw it when disabled)."""
    timer = (book.extra.get("autoshutdown") or {}).get("by_timer")
    seconds = timer["shutdown_in"] if timer and timer.get("is_enabled") else None
    world.set_notebook_timer(book.uid, seconds, TIMER_STATUS)


# ---- operations -----------------------------------------------------------------------------
def create(kind: ServerKind, namespace: str, body: dict[str, Any]) -> Notebook:
    """Start a server: 409 code 1 for a name in use, the engine's refusals mapped."""
    st, ws = state(), workspace()
    check_namespace(namespace)
    image = f"{body['image']['name']}:{body['image']['tag']}"
    meta = {key: body[key] for key in META_KEYS if body.get(key) is not None}
    meta["_creator"] = caller()
    meta["all_workspace_users"] = bool(body.get("all-workspace-users"))
    meta["users"] = dict.fromkeys(body.get("user_ids") or [], st.world.now_epoch())
    with st.lock:
        if any(b.name == body["name"] for b in st.world.list_notebooks(ws.id, kind.kind)):
            text = f"{kind.title} with name '{body['name']}' already exists in current workspace."
            raise ApiError(409, {"code": 1, "detail": text, "message": text})
        rule = workspace_rules().get(ws.id) if kind.workspace_rules else None
        if rule:
            meta["autoshutdown"] = dict(rule)
        try:
            book = st.world.create_notebook(
                workspace=ws.id,
                name=body["name"],
                region=body.get("region", DEFAULT_REGION),
                instance_type=body["instance_type"],
                image=image,
                author=ws.owner_email,
                kind=kind.kind,
                extra=meta,
            )
        except Rejected as exc:
            raise refusal(exc, "servers") from None
        if rule:
            apply_timer(st.world, book)
    return book


def _comma_set(raw: str | None) -> set[str] | None:
    return {part.strip().lower() for part in raw.split(",") if part.strip()} if raw else None


def listing(kind: ServerKind) -> dict[str, Any]:
    """The list endpoint: filters, order and page from the operation's query model."""
    st = state()
    q: ServerListQuery = routing.query()
    wanted_type = getattr(q, "notebook_type", None)
    search = q.search.lower()
    statuses, modes = _comma_set(q.status), _comma_set(q.access_mode)
    with st.lock:
        books = st.world.list_notebooks(workspace().id, kind.kind)
        items = [
            item(b)
            for b in books
            if search in b.name.lower()
            and (statuses is None or b.status in statuses)
            and (modes is None or (b.extra.get("access_mode") or "shared") in modes)
            and (wanted_type is None or wanted_type.value == "Default")
        ]
    if q.order_by.value == "name":
        items.sort(key=lambda i: (i["name"], i["creationTimestamp"]), reverse=q.desc)
    else:
        items.sort(key=lambda i: i["creationTimestamp"], reverse=q.desc)
    end = q.offset + q.limit if q.limit else None
    return {
        kind.list_key: items[q.offset : end],
        "total": len(items),
        "limit": q.limit,
        "offset": q.offset,
    }


def get(kind: ServerKind, raw_uuid: str, param: str) -> dict[str, Any]:
    st = state()
    with st.lock:
        return item(find(kind, raw_uuid, param))


def pause(kind: ServerKind, raw_uuid: str, param: str) -> dict[str, Any]:
    """Frees the capacity and stops the meter at once; ``pausing`` → ``paused`` shortly after."""
    st = state()
    with st.lock:
        book = find(kind, raw_uuid, param)
        try:
            st.world.pause_notebook(book.uid)
        except Rejected as exc:
            raise refusal(exc, "servers") from None
        return detail(book)


def resume(
    kind: ServerKind, namespace: str, raw_uuid: str, param: str, body: dict[str, Any]
) -> dict[str, Any]:
    """409 code 3 unless paused; may move to another instance type; waits while the pool is full."""
    st = state()
    region, instance_type = resume_target(body)
    with st.lock:
        book = find(kind, raw_uuid, param)
        check_namespace(namespace)
        try:
            st.world.resume_notebook(book.uid, region, instance_type)
        except Rejected as exc:
            raise refusal(exc, "servers") from None
        return detail(book)


def modify(kind: ServerKind, raw_uuid: str, param: str, body: dict[str, Any]) -> dict[str, Any]:
    """Description, S3 settings and the server's own autoshutdown rules (merged by key)."""
    st = state()
    with st.lock:
        book = find(kind, raw_uuid, param)
        now = st.world.now_epoch()
        for key in MODIFIABLE:
            if key in body:
                book.extra[key] = body[key]
        config = body.get("autoshutdown_config")
        if config is not None:
            book.extra["autoshutdown"] = merge_rule(book.extra.get("autoshutdown"), config)
            if "by_timer" in config:
                apply_timer(st.world, book)
        book.extra["_modified_at"] = now
        return item(book)


def delete(kind: ServerKind, raw_uuid: str, param: str) -> dict[str, Any]:
    """Capacity and billing stop now; the server is gone a few seconds later."""
    st = state()
    with st.lock:
        book = find(kind, raw_uuid, param)
        try:
            st.world.delete_notebook(book.uid)
        except Rejected as exc:
            raise refusal(exc, "servers") from None
        return async_result(book, "delete")
