"""The deprecated copy routes the in-Jupyter ``client_lib`` calls, on the data-transfer blueprint.

``v1/transfers/nfs_to_s3`` (``copy_from_nfs``, ``S3CopyJob``) and ``v1/transfers/s3_to_nfs``
create a one-shot rule between the workspace's NFS home and its bucket (the system connectors),
which then runs like any other rule: it shows in ``v4/transfer``, ``v3/history`` and
``v2/events/list``. ``v2/transfer/aicloud-logs/{id}`` is ``get_transfer_data_logs``: the latest
run of a rule as the old per-object log.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from mock_server import routing
from mock_server.api.dts_catalog import NFS_CLUSTERS
from mock_server.api.dts_context import Ctx, dts_view, find_transfer
from mock_server.errors import json_response
from simulator.transfers import Entry, Schedule, Transfer, user_uid

# direction -> (name prefix, description), as client_lib's rules are named
DIRECTIONS = {
    "nfs_to_s3": ("from_nfs", "Copy data from NFS. Called from jupyter client_lib"),
    "s3_to_nfs": ("to_nfs", "Copy data to NFS. Called from jupyter client_lib"),
}


def _stamp(epoch: float) -> str:
    """How these routes print dates: naive UTC ISO with microseconds (``…T12:51:26.271409``)."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).replace(tzinfo=None).isoformat()


def created_json(t: Transfer) -> dict[str, Any]:
    """``CreateTransferResponse``; ``execution_date`` is null, as the platform answered before
    scheduling the run."""
    b = t.body
    return {
        "transfer_id": t.transfer_id,
        "user_id": t.uid,
        "cluster_name": b["cluster_name"],
        "connector_id": b["connector_id"],
        "destination_connector_id": b["destination_connector_id"],
        "workspace_id": t.workspace_id,
        "name": b["name"],
        "description": b["description"],
        "source_category": b["connector_type"],
        "destination_source_category": b["destination_connector_type"],
        "strategy": b["strategy"],
        "system": False,
        "query": b["query"],
        "created": _stamp(t.created),
        "modified": _stamp(t.modified),
        "execution_date": None,
    }


def _copy(ctx: Ctx, direction: str) -> Any:
    """Create and start the one-shot rule between the NFS home (connector id = workspace id) and
    the workspace bucket; the bucket named in ``s3_credentials`` is not used."""
    prefix, description = DIRECTIONS[direction]
    body = routing.body()
    nfs = ctx.connectors[ctx.ws.id]
    s3 = next(c for c in ctx.connectors.values() if c.system and c.source_type == "s3mlspace")
    src, dst = (nfs, s3) if direction == "nfs_to_s3" else (s3, nfs)
    rule = {
        "cluster_name": NFS_CLUSTERS[body.region],
        "connector_id": src.connector_id,
        "destination_connector_id": dst.connector_id,
        "name": f"{prefix}-{ctx.store.new_id(ctx.ws.id, 'legacy-name')}-{ctx.ws.id}",
        "description": description,
        "strategy": body.strategy.value,
        "favorite": False,
        "query": {"destination": body.destination_path, "source": [body.source_path]},
        "connector_type": src.source_type,
        "destination_connector_type": dst.source_type,
    }
    t = Transfer(
        transfer_id=ctx.store.new_id(ctx.ws.id, "transfer"),
        workspace_id=ctx.ws.id,
        uid=user_uid(ctx.ws.owner_email),
        created=ctx.now,
        modified=ctx.now,
        body=rule,
        schedule=Schedule(start_at=int(ctx.now)),
        next_at=int(ctx.now),
    )
    ctx.store.add(t)
    return json_response(created_json(t))


@dts_view
def nfs_to_s3(ctx: Ctx) -> Any:
    """Copy From Nfs To S3 (deprecated; client_lib copy_from_nfs and S3CopyJob)"""
    return _copy(ctx, "nfs_to_s3")


@dts_view
def s3_to_nfs(ctx: Ctx) -> Any:
    """Copy From S3 To Nfs (deprecated)"""
    return _copy(ctx, "s3_to_nfs")


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _line(message: str, path: str, *, error: bool = False) -> dict[str, Any]:
    return {"error": error, "message": message, "path": path}


def object_log(e: Entry, now: float) -> list[dict[str, Any]]:
    """One source's log as of ``now``: the source and its objects added, the start, then each
    object as it finished (bare file names), or why the run stopped."""
    lines = [_line("Add source", e.source)]
    if e.error:
        return [*lines, _line(e.error, e.source, error=True)]
    lines += [_line("Add object", obj) for obj in e.objects]
    lines.append(_line("Start transfer", e.source))
    status = e.status(now)
    if e.skipped and status == "success":
        lines += [_line("Object already exists, skipped", _base(obj)) for obj in e.objects]
    lines += [_line("File transfer success", _base(obj)) for obj in e.copied(now)]
    if status == "cancelled":
        lines.append(_line("Transfer cancelled by user", e.source, error=True))
    return lines


@dts_view
def aicloud_logs(ctx: Ctx, transfer_id: str) -> Any:
    """The latest run of a rule as client_lib's per-object log (empty before the first run)"""
    t = find_transfer(ctx, transfer_id, ["path", "transfer_id"])
    entries = t.runs[-1].entries if t.runs else []
    return json_response([line for e in entries for line in object_log(e, ctx.now)])
