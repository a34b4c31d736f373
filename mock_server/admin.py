"""The admin API under ``/_mock/`` (never under ``/public/v2``): reset, clock, pools, workspace
GPU quotas, billing, journal and state snapshots."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from mock_server import persistence, redaction
from mock_server.errors import json_response, parse_body, validation_error
from mock_server.params import json_body
from mock_server.state import state
from simulator.clock import LAST_EPOCH
from simulator.focus import focus_csv, focus_rows

bp = Blueprint("admin", __name__)


FOCUS_FILE = 'attachment; filename="mlspace-focus.csv"'
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ResetBody(Body):
    seed: int | None = None


class AdvanceBody(Body):
    seconds: Seconds


class RunUntilIdleBody(Body):
    max_seconds: Seconds | None = None


Gpus = Annotated[int, Field(ge=0)]


class QuotasBody(Body):
    """Changes in the config's ``quotas:`` shape: an absent key keeps its value, null lifts
    the default limit or a workspace's override."""

    workspace_gpus: Gpus | None = None
    workspaces: dict[str, Gpus | None] | None = None


def _within_range(seconds: float | None, name: str) -> float | None:
    """``seconds`` unless they would move the clock past ``LAST_EPOCH`` (a 422 then)."""
    room = LAST_EPOCH - state().world.now_epoch()
    if seconds is not None and seconds > room:
        raise validation_error(
            ["body", name],
            f"Input should be less than or equal to {room} (the clock stops at year 9999)",
            "less_than_equal",
            input=seconds,
            ctx={"le": room},
        )
    return seconds


@bp.post("/reset")
def reset() -> Any:
    seed = parse_body(ResetBody, json_body(required=False)).seed
    st = state()
    st.reset(seed)
    return json_response({"status": "ok", "seed": st.world.seed, "clock": st.world.clock_info()})


@bp.get("/clock")
def clock() -> Any:
    return json_response(state().world.clock_info())


@bp.post("/clock/advance")
def advance() -> Any:
    seconds = _within_range(parse_body(AdvanceBody, json_body()).seconds, "seconds")
    world = state().world
    world.advance(seconds or 0.0)
    return json_response(world.clock_info())


@bp.post("/clock/run-until-idle")
def run_until_idle() -> Any:
    body = parse_body(RunUntilIdleBody, json_body(required=False))
    limit = _within_range(body.max_seconds, "max_seconds")
    world = state().world
    if limit is None:  # a job may be scheduled to end beyond any date the API can show
        limit = LAST_EPOCH - world.now_epoch()
    world.run_until_idle(limit)
    return json_response(world.clock_info())


@bp.get("/pools")
def pools() -> Any:
    return json_response({"pools": state().world.pools_report()})


def _quotas() -> Any:
    """The quotas in force and, per known workspace, GPUs counted, its limit and what is free."""
    world = state().world
    usage = {ws: world.workspace_gpus(ws) for ws in state().auth.workspaces}
    return json_response({**world.quotas(), "usage": usage})


@bp.get("/quotas")
def quotas() -> Any:
    return _quotas()


@bp.put("/quotas")
def set_quotas() -> Any:
    """Change workspace GPU quotas from now on (work already accepted runs on)"""
    changes = parse_body(QuotasBody, json_body()).model_dump(exclude_unset=True)
    state().world.set_quotas(changes)
    return _quotas()


BILLING_FORMATS = ("json", "focus")


@bp.get("/billing")
def billing() -> Any:
    """The bill: the ledger report (JSON), or with ``format=focus`` the same lines as FinOps
    FOCUS 1.2 CSV rows, as ``mlspace-sim whatif --focus`` writes them."""
    ws = request.args.get("workspace") or None
    fmt = request.args.get("format", "json")
    if fmt not in BILLING_FORMATS:
        raise validation_error(
            ["query", "format"],
            "Input should be 'json' or 'focus'",
            "enum",
            input=fmt,
            ctx={"expected": "'json' or 'focus'"},
        )
    world = state().world
    if fmt == "focus":
        text = focus_csv(focus_rows(world.engine, ws))
        return Response(text, mimetype="text/csv", headers={"Content-Disposition": FOCUS_FILE})
    return json_response(world.billing_report(ws))


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
