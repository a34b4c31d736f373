"""The admin API under ``/_mock/`` (never under ``/public/v2``): reset, clock, pools, billing,
journal and state snapshots."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, current_app, request

from mock_server import persistence, redaction
from mock_server.errors import json_response, validation_error
from mock_server.params import json_body
from mock_server.state import state
from simulator.clock import LAST_EPOCH

bp = Blueprint("admin", __name__)


def _number(body: dict[str, Any], name: str, *, required: bool) -> float | None:
    """A number of seconds >= 0 that keeps the virtual clock at or before ``LAST_EPOCH``."""
    value = body.get(name)
    if value is None:
        if required:
            raise validation_error(["body", name], "Field required", "missing", input=body)
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise validation_error(
            ["body", name],
            "Input should be a finite number >= 0",
            "greater_than_equal",
            input=value,
        )
    room = LAST_EPOCH - state().world.now_epoch()
    if value > room:
        raise validation_error(
            ["body", name],
            f"Input should be less than or equal to {room} (the clock stops at year 9999)",
            "less_than_equal",
            input=value,
        )
    return float(value)


@bp.post("/reset")
def reset() -> Any:
    body = json_body(required=False)
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise validation_error(
            ["body", "seed"], "Input should be a valid integer", "int_type", input=seed
        )
    st = state()
    st.reset(seed)
    return json_response({"status": "ok", "seed": st.world.seed, "clock": st.world.clock_info()})


@bp.get("/clock")
def clock() -> Any:
    return json_response(state().world.clock_info())


@bp.post("/clock/advance")
def advance() -> Any:
    seconds = _number(json_body(), "seconds", required=True)
    world = state().world
    world.advance(seconds or 0.0)
    return json_response(world.clock_info())


@bp.post("/clock/run-until-idle")
def run_until_idle() -> Any:
    limit = _number(json_body(required=False), "max_seconds", required=False)
    world = state().world
    if limit is None:  # a job may be scheduled to end beyond any date the API can show
        limit = LAST_EPOCH - world.now_epoch()
    world.run_until_idle(limit)
    return json_response(world.clock_info())


@bp.get("/pools")
def pools() -> Any:
    return json_response({"pools": state().world.pools_report()})


@bp.get("/billing")
def billing() -> Any:
    ws = request.args.get("workspace") or None
    return json_response(state().world.billing_report(ws))


@bp.get("/journal")
def journal() -> Any:
    """What this server accepted, with virtual times: replayable as a what-if workload."""
    ws = request.args.get("workspace") or None
    kinds = {k for k in (request.args.get("kind") or "").split(",") if k} or None
    entries = state().journal.entries(workspace=ws, kinds=kinds)
    if not redaction.secrets_asked():
        entries = redaction.journal(entries)
    return json_response({"count": len(entries), "entries": entries})


@bp.get("/state")
def export_state() -> Any:
    """A snapshot of the world: what it is made of, the commands that made it, the clock

    ``POST /_mock/state`` imports it, here or on another server of the same configuration."""
    snap = persistence.of(current_app).export()
    return json_response(snap if redaction.secrets_asked() else redaction.snapshot(snap))


@bp.post("/state")
def import_state() -> Any:
    """Replace the world with a snapshot's (a reset, then its commands replayed)

    422 when the snapshot is malformed, of another configuration, or does not replay as
    recorded; the world is then left as it was."""
    body = json_body()
    redaction.refuse_redacted(body)
    return json_response(persistence.of(current_app).load(body))
