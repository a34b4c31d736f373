"""``/_mock/faults``: the API fault rules and the engine's faults of a running server.

GET shows the API rules with how many requests each matched and fired on since the last change
or ``/_mock/reset``, and the engine's fault settings (``node_failures``, ``preemption``,
``slow_pulls``); PUT ``{"rules": [...]}`` replaces the rules (counts start again), POST appends,
and both merge any engine sections given; DELETE removes every rule and turns engine faults off.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, model_validator

from mock_server.errors import json_response, parse_body, pydantic_errors, validation_error
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


class FaultsBody(BaseModel):
    """A PUT/POST body: API fault rules, engine fault sections, or both. Rules are checked by
    :func:`mock_server.faults.parse_rules`, engine sections by the engine's own model."""

    model_config = ConfigDict(extra="forbid", strict=True)

    rules: list[Any] | None = None
    node_failures: dict[str, Any] | None = None
    preemption: dict[str, Any] | None = None
    slow_pulls: dict[str, Any] | None = None

    @model_validator(mode="after")
    def something_to_do(self) -> FaultsBody:
        if not self.model_fields_set:
            raise ValueError("give rules or an engine section (node_failures, ...)")
        return self


def _body() -> tuple[list[FaultRule] | None, dict[str, Any]]:
    """The API rules (None when absent) and the engine sections of a PUT/POST body."""
    body = parse_body(FaultsBody, json_body())
    engine = {k: getattr(body, k) for k in ENGINE_SECTIONS if k in body.model_fields_set}
    if body.rules is None:
        return None, engine
    try:
        return parse_rules(body.rules, ["body", "rules"]), engine
    except RuleError as exc:
        raise validation_error(exc.loc, exc.msg, "value_error", input=exc.value) from None


def _configure_engine(changes: dict[str, Any]) -> None:
    try:
        state().world.configure_faults(changes)
    except FaultConfigError as exc:
        raise pydantic_errors(exc.errors) from None


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
