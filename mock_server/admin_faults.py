"""``/_mock/faults``: the API fault rules and the engine's faults of a running server.

GET shows the API rules with how many requests each matched and fired on since the last change
or ``/_mock/reset``, and the engine's fault settings (``node_failures``, ``preemption``,
``slow_pulls``); PUT ``{"rules": [...]}`` replaces the rules (counts start again), POST appends,
and both merge any engine sections given; DELETE removes every rule and turns engine faults off.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from mock_server.errors import json_response, validation_error
from mock_server.faults import FaultRule, RuleError, parse_rules, plan_of
from mock_server.params import json_body
from mock_server.state import state
from simulator.faults import FaultConfigError

bp = Blueprint("admin_faults", __name__)


ENGINE_SECTIONS = ("node_failures", "preemption", "slow_pulls")
ENGINE_OFF = {
    "node_failures": {"rate_per_node_hour": 0.0},
    "preemption": {"enabled": False},
    "slow_pulls": {"probability": 0.0},
}


def _body() -> tuple[list[FaultRule] | None, dict[str, Any]]:
    """The API rules (None when absent) and the engine sections of a PUT/POST body."""
    body = json_body()
    extra = sorted(set(body) - {"rules", *ENGINE_SECTIONS})
    if extra:
        raise validation_error(
            ["body", extra[0]], "Extra inputs are not permitted", "extra_forbidden", input=body
        )
    engine = {k: body[k] for k in ENGINE_SECTIONS if k in body}
    if "rules" not in body:
        if not engine:
            raise validation_error(["body", "rules"], "Field required", "missing", input=body)
        return None, engine
    try:
        return parse_rules(body["rules"], ["body", "rules"]), engine
    except RuleError as exc:
        raise validation_error(exc.loc, exc.msg, "value_error", input=exc.value) from None


def _configure_engine(changes: dict[str, Any]) -> None:
    try:
        state().world.configure_faults(changes)
    except FaultConfigError as exc:
        loc = exc.loc[1:] if exc.loc[:1] == ["faults"] else exc.loc  # the config's section name
        raise validation_error(["body", *loc], exc.msg, "value_error") from None


def _described() -> Any:
    return json_response({**plan_of(current_app).describe(), **state().world.faults()})


@bp.get("/faults")
def show() -> Any:
    """The API fault rules with their counts, and the engine's fault settings"""
    return _described()


@bp.put("/faults")
def replace() -> Any:
    """Replace the API fault rules; merge any engine fault sections given"""
    rules, engine = _body()
    if engine:
        _configure_engine(engine)
    if rules is not None:
        plan_of(current_app).replace(rules)
    return _described()


@bp.post("/faults")
def add() -> Any:
    """Add API fault rules after the existing ones; merge any engine fault sections given"""
    rules, engine = _body()
    if engine:
        _configure_engine(engine)
    if rules is not None:
        try:
            plan_of(current_app).add(rules)
        except RuleError as exc:
            raise validation_error(exc.loc, exc.msg, "value_error", input=exc.value) from None
    return _described()


@bp.delete("/faults")
def clear() -> Any:
    """Remove every API fault rule and turn the engine's faults off"""
    plan_of(current_app).replace([])
    _configure_engine(ENGINE_OFF)
    return _described()
