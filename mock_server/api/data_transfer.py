"""Data transfer (DTS): connectors, transfer rules, their run history and event logs.

What the ``mls connector``/``mls transfer`` commands rely on: list endpoints answer JSON arrays,
``…/try`` answers an object, a ``crontab`` has exactly five keys, body-less POSTs are accepted.
Records and runs live in the engine (:mod:`simulator.transfers`); this module shows them.
The deprecated routes the in-Jupyter ``client_lib`` calls live in ``dts_legacy``, on this blueprint.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from mock_server import routing
from mock_server.api.dts_catalog import (
    CUSTOM_TYPES,
    SOURCE_NAMES,
    check_connection,
    parameters_schema,
    public_parameters,
)
from mock_server.api.dts_context import Ctx, dts_view, find_transfer
from mock_server.errors import (
    ApiError,
    detail_error,
    json_response,
    pydantic_errors,
    validation_error,
)
from mock_server.models.data_transfer import (
    ConnectorInputViewModel,
    ConnectorType,
    Rule,
    TransferInputViewModel,
    TransferInputViewModelV2,
    connector_parameters,
)
from mock_server.params import UUID, parse_datetime, path_value
from simulator.transfers import Connector, Entry, Run, Schedule, Transfer, user_uid
from simulator.transfers.runs import EVENT_CATEGORIES, EVENT_TYPES, human_size
from simulator.transfers.schedule import iso

CONNECTOR_TYPE = TypeAdapter(ConnectorType)
TYPE_KEYS = {
    "connector_id": "connector_type",
    "destination_connector_id": "destination_connector_type",
}


def ids_param() -> list[str]:
    """The repeated ``ids`` query parameter (UUIDs), without duplicates."""
    return list(dict.fromkeys(routing.query().ids))


# ---- connectors -------------------------------------------------------------------------------
def connector_json(c: Connector) -> dict[str, Any]:
    """``ConnectorViewModelV3``; secrets never leave the store."""
    return {
        "connector_id": c.connector_id,
        "workspace_id": c.workspace_id if c.public or c.system else None,
        "name": c.name,
        "source_type": c.source_type,
        "system": c.system,
        "favorite": c.favorite,
        "status": c.status,
        "type_status": c.type_status,
        "created": iso(c.created),
        "modified": iso(c.modified),
        "uid": c.uid,
        "parameters": public_parameters(c.source_type, c.parameters),
    }


def find_connector(
    ctx: Ctx, connector_id: str, connector_type: str | None = None, *, change: bool = False
) -> Connector:
    """The workspace's connector named by the path (v3 names its type too); 404 if absent or of
    another type, 403 when ``change`` is asked of a system connector."""
    path_value(UUID, ["path", "id_"], connector_id)
    if connector_type is not None:
        path_value(CONNECTOR_TYPE, ["path", "connector_type"], connector_type)
    conn = ctx.connectors.get(connector_id)
    if conn is None or connector_type not in (None, conn.source_type):
        raise detail_error(404, "Connector not found")
    if change and conn.system:
        raise detail_error(403, "System connectors can not be changed")
    return conn


def test_connection(conn: Connector, now: float) -> None:
    """The connection test, run now; the connector is active only if it passes."""
    ok, logs = check_connection(conn.source_type, conn.parameters)
    conn.tested(ok, logs, now)


def sources() -> Any:
    return json_response(
        [
            {
                "source_type": t,
                "source_name": SOURCE_NAMES[t],
                "source_icon": None,
                "parameters_schema": parameters_schema(t),
            }
            for t in CUSTOM_TYPES
        ]
    )


@dts_view
def list_connectors(ctx: Ctx) -> Any:
    """System connectors first, then the workspace's own in creation order (``page_size`` 0 is
    everything, the default)."""
    size, page = routing.query().page_size, routing.query().page
    items = [connector_json(c) for c in ctx.connectors.values()]
    return json_response(items[(page - 1) * size : page * size] if size else items)


def add_connector(ctx: Ctx, body: ConnectorInputViewModel, public: str | None = None) -> Connector:
    """Creation runs the connection test at once, as the platform does; a connector naming the
    workspace (``public``) is shared with it."""
    if public is not None and public != ctx.ws.id:
        raise validation_error(
            ["body", "workspace_id"],
            "Value error, workspace_id and X-Workspace-Id have to match",
            "value_error",
            input=public,
        )
    conn = Connector(
        connector_id=ctx.store.new_id(ctx.ws.id, "connector"),
        workspace_id=ctx.ws.id,
        name=body.name,
        source_type=body.source_type.value,
        parameters=body.parameters,
        uid=user_uid(ctx.ws.owner_email),
        created=ctx.now,
        modified=ctx.now,
        public=bool(public),
        favorite=body.favorite,
    )
    test_connection(conn, ctx.now)
    ctx.connectors[conn.connector_id] = conn
    return conn


@dts_view
def create_connector(ctx: Ctx) -> Any:
    body = routing.body()
    return json_response(connector_json(add_connector(ctx, body, body.workspace_id)))


@dts_view
def get_connector(ctx: Ctx, connector_type: str, connector_id: str) -> Any:
    return json_response(connector_json(find_connector(ctx, connector_id, connector_type)))


@dts_view
def update_connector(ctx: Ctx, connector_type: str, connector_id: str) -> Any:
    """New parameters are tested again; a ``null`` name or favorite keeps the old one."""
    conn = find_connector(ctx, connector_id, connector_type, change=True)
    body = routing.body()
    params = None if body.parameters is None else typed_parameters(conn, body.parameters)
    if body.name is not None:
        conn.name = body.name
    if body.favorite is not None:
        conn.favorite = body.favorite
    conn.modified = ctx.now
    if params is not None:
        conn.parameters = params
        test_connection(conn, ctx.now)
    return json_response(connector_json(conn))


def typed_parameters(conn: Connector, params: dict[str, Any]) -> dict[str, Any]:
    """New ``parameters`` of ``conn``, checked against its type's (FastAPI's 422 if not)."""
    try:
        return connector_parameters(conn.source_type, params)
    except ValidationError as exc:
        raise pydantic_errors(exc.errors(include_url=False), ("body", "parameters")) from None


@dts_view
def try_connector(ctx: Ctx, connector_type: str, connector_id: str) -> Any:
    conn = find_connector(ctx, connector_id, connector_type)
    test_connection(conn, ctx.now)
    return json_response(connector_json(conn))


@dts_view
def try_logs(ctx: Ctx, connector_type: str, connector_id: str) -> Any:
    conn = find_connector(ctx, connector_id, connector_type)
    return json_response({"status": conn.try_status, "logs": conn.try_logs})


@dts_view
def halt_connector(ctx: Ctx, connector_type: str, connector_id: str) -> Any:
    conn = find_connector(ctx, connector_id, connector_type, change=True)
    ctx.store.halt(ctx.ws.id, conn)
    return json_response(connector_json(conn))


@dts_view
def delete_connectors(ctx: Ctx) -> Any:
    """Deletes what exists and is not a system connector; answers the ids it deleted."""
    conns = ctx.connectors
    gone = [i for i in ids_param() if i in conns and not conns[i].system]
    for i in gone:
        del conns[i]
    return json_response(gone)


# ---- transfer rules ---------------------------------------------------------------------------
def transfer_json(t: Transfer) -> dict[str, Any]:
    """``TransferViewModelV4``; ``execution_date`` is the latest run's, null before the first."""
    b = t.body
    return {
        "transfer_id": t.transfer_id,
        "uid": t.uid,
        "cluster_name": b["cluster_name"],
        "connector_id": b["connector_id"],
        "destination_connector_id": b["destination_connector_id"],
        "workspace_id": t.workspace_id,
        "name": b["name"],
        "description": b.get("description"),
        "source_category": b["connector_type"],
        "destination_source_category": b["destination_connector_type"],
        "strategy": b["strategy"],
        "crontab": t.schedule.to_json(),
        "system": False,
        "favorite": b["favorite"],
        "query": b["query"],
        "active": t.active,
        "created": iso(t.created),
        "modified": iso(t.modified),
        "execution_date": iso(t.runs[-1].execution) if t.runs else None,
    }


def wrong_type(conn: Connector, key: str, given: str) -> ApiError:
    """The 422 of a body naming ``conn`` with another type (at ``key``) than its own."""
    return validation_error(
        ["body", key],
        f"Value error, connector {conn.connector_id} is of type {conn.source_type}",
        "value_error",
        input=given,
    )


def _connector_types(ctx: Ctx, body: Rule) -> Rule:
    """A v2 body with its connectors' types filled in (404 for a connector not here): a
    destination must then be of a target type."""
    typed = body.model_dump(mode="json", exclude_unset=True)
    for id_key, type_key in TYPE_KEYS.items():
        typed[type_key] = _connector(ctx, typed[id_key]).source_type
    try:  # lax: the types come from the store as text
        return TransferInputViewModelV2.model_validate(typed, strict=False)
    except ValidationError as exc:
        raise pydantic_errors(exc.errors(include_url=False)) from None


def _connector(ctx: Ctx, connector_id: str) -> Connector:
    conn = ctx.connectors.get(connector_id)
    if conn is None:
        raise detail_error(404, f"Connector {connector_id} not found")
    return conn


def rule_body(ctx: Ctx, body: Rule) -> tuple[dict[str, Any], Schedule]:
    """A validated rule body (its connectors must exist here, with the types it names) as the
    store keeps it, and its schedule (``start_at`` defaults to now)."""
    if type(body) is TransferInputViewModel:  # v2's names no types
        body = _connector_types(ctx, body)
    rule = body.rule()
    for id_key, type_key in TYPE_KEYS.items():
        conn = _connector(ctx, rule[id_key])
        if conn.source_type != rule[type_key]:
            raise wrong_type(conn, type_key, rule[type_key])
    cron = body.crontab
    start = parse_datetime(cron.start_at).timestamp() if cron and cron.start_at else ctx.now
    return rule, Schedule.from_json(cron.model_dump() if cron else None, int(start))


def add_rule(ctx: Ctx) -> Transfer:
    """A periodic rule first runs at its schedule (never before ``start_at``), a one-shot rule
    at once."""
    rule, schedule = rule_body(ctx, routing.body())
    t = Transfer(
        transfer_id=ctx.store.new_id(ctx.ws.id, "transfer"),
        workspace_id=ctx.ws.id,
        uid=user_uid(ctx.ws.owner_email),
        created=ctx.now,
        modified=ctx.now,
        body=rule,
        schedule=schedule,
        next_at=schedule.next_at(ctx.now) if schedule.periodic else int(ctx.now),
    )
    ctx.store.add(t)
    return t


def replace_rule(ctx: Ctx, transfer_id: str) -> Transfer:
    """Replaces the rule; a periodic schedule restarts from now, a one-shot rule never reruns."""
    t = find_transfer(ctx, transfer_id, ["path", "id_"])
    t.body, t.schedule = rule_body(ctx, routing.body())
    t.modified = ctx.now
    t.reschedule(ctx.now)
    return t


@dts_view
def create_transfer(ctx: Ctx) -> Any:
    return json_response(transfer_json(add_rule(ctx)))


@dts_view
def update_transfer(ctx: Ctx, transfer_id: str) -> Any:
    return json_response(transfer_json(replace_rule(ctx, transfer_id)))


@dts_view
def list_transfers(ctx: Ctx) -> Any:
    return json_response([transfer_json(t) for t in ctx.transfers.values()])


@dts_view
def get_transfer(ctx: Ctx, transfer_id: str) -> Any:
    return json_response(transfer_json(find_transfer(ctx, transfer_id, ["path", "transfer_id"])))


def switch(ctx: Ctx, transfer_id: str) -> Transfer:
    """Deactivation stops new runs (a running one finishes); activation resumes the schedule
    from now, without replaying what was missed."""
    t = find_transfer(ctx, transfer_id, ["path", "id_"])
    active = routing.body().active
    if active and not t.active:
        t.reschedule(ctx.now)
    t.active, t.modified = active, ctx.now
    return t


@dts_view
def switch_transfer(ctx: Ctx, transfer_id: str) -> Any:
    return json_response(transfer_json(switch(ctx, transfer_id)))


@dts_view
def delete_transfers(ctx: Ctx) -> Any:
    """Deletes the rules found (with their history); answers the ids it deleted."""
    gone = [i for i in ids_param() if i in ctx.transfers]
    for i in gone:
        del ctx.transfers[i]
    return json_response(gone)


# ---- runs: cancel, history, events ------------------------------------------------------------
@dts_view
def cancel_run(ctx: Ctx) -> Any:
    """Cancels what still runs of the run at ``execution_date``; answers ``cancelled``, or the
    run's status when nothing was left to cancel."""
    body = routing.body()
    when = parse_datetime(body.execution_date).timestamp()
    t = find_transfer(ctx, body.transfer_id, ["body", "transfer_id"])
    run = next((r for r in t.runs if r.execution == int(when)), None)
    if run is None:
        raise detail_error(404, "Transfer history not found")
    stopped = [e.cancel(ctx.now) for e in run.entries]
    return json_response({"status": "cancelled" if any(stopped) else run.status(ctx.now)})


def history_json(t: Transfer, run: Run, e: Entry, now: float) -> dict[str, Any]:
    """``HistoryModelV3``: one source of one run; ``size`` is what was (or is being) copied."""
    moved = 0 if e.error or e.skipped else e.size_bytes
    return {
        "date_from": iso(e.started),
        "date_to": iso(e.date_to(now)),
        "history_id": e.history_id,
        "uid": t.uid,
        "workspace_id": t.workspace_id,
        "transfer_id": t.transfer_id,
        "execution_date": iso(run.execution),
        "transfer_name": t.body["name"],
        "source_connector_name": run.source_connector_name,
        "destination_connector_name": run.destination_connector_name,
        "source": e.source,
        "destination": run.destination,
        "source_name": e.source_name,
        "source_type": e.source_type,
        "size": None if e.error else human_size(moved),
        "size_bytes": moved,
        "rows_count": None if e.error else e.rows_count,
        "progress": e.progress(now),
        "status": e.status(now),
        "favorite": e.favorite,
    }


def runs_of(ctx: Ctx, transfer_id: str | None) -> list[tuple[Transfer, Run, Entry]]:
    rules = [ctx.transfers.get(transfer_id)] if transfer_id else ctx.transfers.values()
    return [(t, r, e) for t in rules if t for r in t.runs for e in r.entries]


def history_page(ctx: Ctx) -> dict[str, Any]:
    """Newest first (``-date_from``), ``page`` from 1, ``page_size`` 100 by default."""
    q = routing.query()
    page, size = q.page, q.page_size
    rows = [
        history_json(t, r, e, ctx.now)
        for t, r, e in runs_of(ctx, q.transfer_id)
        if q.source_name is None or e.source_name == q.source_name
    ]
    rows.sort(key=lambda row: row["date_from"], reverse=True)
    return {"data": rows[(page - 1) * size : page * size], "total_count": len(rows)}


@dts_view
def history(ctx: Ctx) -> Any:
    return json_response(history_page(ctx))


@dts_view
def events(ctx: Ctx) -> Any:
    """Aggregated event logs of the runs of a rule or of one history entry, oldest first."""
    q = routing.query()
    filters = {"event_type": q.event_type, "event_category": q.event_category}
    wanted = {k: v for k, v in filters.items() if v is not None}
    items = [
        ev
        for t, _, e in runs_of(ctx, q.transfer_id)
        if q.history_id is None or e.history_id == q.history_id
        for ev in e.events(t.transfer_id, ctx.now)
        if all(ev[k] == v for k, v in wanted.items())
    ]
    if q.as_enum_resolved:
        for ev in items:
            ev["event_type"] = EVENT_TYPES[ev["event_type"]]
            ev["event_category"] = EVENT_CATEGORIES[ev["event_category"]]
    return json_response({"count": len(items), "items": items[q.offset : q.offset + q.limit]})
