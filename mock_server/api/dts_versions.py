"""The other versions of the data-transfer routes: views over the one store ``data_transfer``
serves (connectors, rules, history), in the shapes of spec v2.8.1.

v2 names a connector by id alone, shows a rule's and a history entry's owner as ``user_id``
(v3+ as ``uid``), hides a connector's parameters in its list, and takes a rule body without the
connector types (its connectors' are used). v3 and v4 take ``TransferInputViewModelV2``, v3
answering the v2 rule shape. Favourites (connectors, rules, history entries) are kept in the
records themselves, so every version shows them. History re-run starts one source of a rule
again now; the status "stream" answers the current state of the entries asked for, once, as
``application/json`` (the spec's content type).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from mock_server import routing
from mock_server.api.data_transfer import (
    add_connector,
    add_rule,
    connector_json,
    find_connector,
    history_json,
    history_page,
    ids_param,
    replace_rule,
    switch,
    test_connection,
    transfer_json,
    wrong_type,
)
from mock_server.api.dts_context import Ctx, dts_view, find_transfer
from mock_server.errors import detail_error, json_response
from mock_server.params import UUID, path_value
from simulator.transfers import Connector, Entry, Run, Transfer

HistoryRow = tuple[Transfer, Run, Entry]


# ---- shapes -----------------------------------------------------------------------------------
def _user_id(row: dict[str, Any]) -> dict[str, Any]:
    """v2 calls the owner ``user_id``."""
    row["user_id"] = row.pop("uid")
    return row


def connector_v2(c: Connector, *, parameters: bool = True) -> dict[str, Any]:
    """``ConnectorWithParametersViewModel`` (``ConnectorViewModel`` without ``parameters``)."""
    out = connector_json(c)
    del out["uid"]
    if not parameters:
        del out["parameters"]
    return out


def transfer_v2(t: Transfer) -> dict[str, Any]:
    """``TransferViewModel``."""
    return _user_id(transfer_json(t))


def history_v2(row: HistoryRow, now: float) -> dict[str, Any]:
    """``HistoryModel``."""
    return _user_id(history_json(*row, now))


def history_v3(row: HistoryRow, now: float) -> dict[str, Any]:
    return history_json(*row, now)


# ---- favourites -------------------------------------------------------------------------------
def _fav_connector(ctx: Ctx, connector_id: str, connector_type: str | None) -> Connector:
    """A favourite is the user's mark: system connectors take it too."""
    conn = find_connector(ctx, connector_id, connector_type)
    conn.favorite, conn.modified = routing.body().favorite, ctx.now
    return conn


def _fav_transfer(ctx: Ctx, transfer_id: str) -> Transfer:
    t = find_transfer(ctx, transfer_id, ["path", "id_"])
    t.body["favorite"], t.modified = routing.body().favorite, ctx.now
    return t


@dts_view
def fav_connector_v2(ctx: Ctx, id_: str) -> Any:
    return json_response(connector_v2(_fav_connector(ctx, id_, None)))


@dts_view
def fav_connector_v3(ctx: Ctx, connector_type: str, id_: str) -> Any:
    return json_response(connector_json(_fav_connector(ctx, id_, connector_type)))


@dts_view
def fav_transfer_v2(ctx: Ctx, id_: str) -> Any:
    return json_response(transfer_v2(_fav_transfer(ctx, id_)))


@dts_view
def fav_transfer_v4(ctx: Ctx, id_: str) -> Any:
    return json_response(transfer_json(_fav_transfer(ctx, id_)))


# ---- v2 connectors ----------------------------------------------------------------------------
@dts_view
def list_connectors_v2(ctx: Ctx) -> Any:
    return json_response([connector_v2(c, parameters=False) for c in ctx.connectors.values()])


@dts_view
def create_connector_v2(ctx: Ctx) -> Any:
    """v2's body has no ``workspace_id``: a v2 connector is never public."""
    return json_response(connector_v2(add_connector(ctx, routing.body())))


@dts_view
def get_connector_v2(ctx: Ctx, id_: str) -> Any:
    return json_response(connector_v2(find_connector(ctx, id_)))


@dts_view
def update_connector_v2(ctx: Ctx, id_: str) -> Any:
    """The whole ``ConnectorInputViewModel`` again (its type cannot change); tested anew."""
    conn = find_connector(ctx, id_, change=True)
    body = routing.body()
    if body.source_type.value != conn.source_type:
        raise wrong_type(conn, "source_type", body.source_type.value)
    conn.name, conn.parameters = body.name, body.parameters
    if "favorite" in body.model_fields_set:
        conn.favorite = body.favorite
    test_connection(conn, ctx.now)
    return json_response(connector_v2(conn))


def _tried(conn: Connector, now: float) -> Connector:
    """What a connection test would find now, on a copy: a GET changes nothing."""
    probe = copy.deepcopy(conn)
    test_connection(probe, now)
    return probe


@dts_view
def try_connector_v2(ctx: Ctx, id_: str) -> Any:
    return json_response(connector_v2(_tried(find_connector(ctx, id_), ctx.now)))


@dts_view
def try_connector_get_v3(ctx: Ctx, connector_type: str, id_: str) -> Any:
    """``ConnectorViewModel``: the v2 shape without parameters."""
    conn = _tried(find_connector(ctx, id_, connector_type), ctx.now)
    return json_response(connector_v2(conn, parameters=False))


@dts_view
def try_logs_v2(ctx: Ctx, id_: str) -> Any:
    conn = find_connector(ctx, id_)
    return json_response({"status": conn.try_status, "logs": conn.try_logs})


@dts_view
def halt_connector_v2(ctx: Ctx, id_: str) -> Any:
    conn = find_connector(ctx, id_, change=True)
    ctx.store.halt(ctx.ws.id, conn)
    return json_response(connector_v2(conn))


# ---- v2-v4 transfer rules ---------------------------------------------------------------------
@dts_view
def list_transfers_v2(ctx: Ctx) -> Any:
    return json_response([transfer_v2(t) for t in ctx.transfers.values()])


@dts_view
def get_transfer_v2(ctx: Ctx, transfer_id: str) -> Any:
    return json_response(transfer_v2(find_transfer(ctx, transfer_id, ["path", "transfer_id"])))


@dts_view
def create_transfer_v2(ctx: Ctx) -> Any:
    return json_response(transfer_v2(add_rule(ctx)))


@dts_view
def update_transfer_v2(ctx: Ctx, id_: str) -> Any:
    return json_response(transfer_v2(replace_rule(ctx, id_)))


@dts_view
def switch_transfer_v2(ctx: Ctx, id_: str) -> Any:
    return json_response(transfer_v2(switch(ctx, id_)))


@dts_view
def create_transfer_v3(ctx: Ctx) -> Any:
    return json_response(transfer_v2(add_rule(ctx)))


@dts_view
def update_transfer_v3(ctx: Ctx, id_: str) -> Any:
    return json_response(transfer_v2(replace_rule(ctx, id_)))


@dts_view
def create_transfer_v4(ctx: Ctx) -> Any:
    return json_response(transfer_json(add_rule(ctx)))


@dts_view
def update_transfer_v4(ctx: Ctx, id_: str) -> Any:
    return json_response(transfer_json(replace_rule(ctx, id_)))


# ---- history ----------------------------------------------------------------------------------
def _entry(ctx: Ctx, history_id: str, loc: list[Any]) -> HistoryRow:
    path_value(UUID, loc, history_id)
    found = next((r for r in ctx.store.history(ctx.ws.id) if r[2].history_id == history_id), None)
    if found is None:
        raise detail_error(404, "Transfer history not found")
    return found


@dts_view
def history_v2_list(ctx: Ctx) -> Any:
    page = history_page(ctx)
    for row in page["data"]:
        _user_id(row)
    return json_response(page)


@dts_view
def delete_history(ctx: Ctx) -> Any:
    """Forgets the entries found (the rules stay); answers the ids it deleted."""
    return json_response(ctx.store.delete_history(ctx.ws.id, ids_param()))


def _rerun(ctx: Ctx, shape: Callable[[HistoryRow, float], dict[str, Any]]) -> list[Any]:
    """The entry's source copied again now, by its rule as it is now."""
    t, _, e = _entry(ctx, routing.body().history_id, ["body", "history_id"])
    run, entries = ctx.store.rerun(t, e.source)
    return [shape((t, run, entry), ctx.now) for entry in entries]


@dts_view
def rerun_v2(ctx: Ctx) -> Any:
    return json_response(_rerun(ctx, history_v2))


@dts_view
def rerun_v3(ctx: Ctx) -> Any:
    return json_response({"data": _rerun(ctx, history_v3)})


def _status(ctx: Ctx, shape: Callable[[HistoryRow, float], dict[str, Any]]) -> list[Any]:
    """The entries asked for as they are now, in the order asked; unknown ids are left out."""
    rows = {r[2].history_id: r for r in ctx.store.history(ctx.ws.id)}
    return [shape(rows[i], ctx.now) for i in ids_param() if i in rows]


@dts_view
def status_v2(ctx: Ctx) -> Any:
    return json_response(_status(ctx, history_v2))


@dts_view
def status_v3(ctx: Ctx) -> Any:
    return json_response(_status(ctx, history_v3))


@dts_view
def fav_history(ctx: Ctx, id_: str) -> Any:
    """Marks (or, with ``false``, unmarks) one history entry; answers it (v2 shape)."""
    row = _entry(ctx, id_, ["path", "id_"])
    row[2].favorite = routing.body().root
    return json_response(history_v2(row, ctx.now))
