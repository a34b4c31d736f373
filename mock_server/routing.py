"""The operation registry: one :class:`Op` per operation, and everything derived from it.

``mock_server.operations`` lists every operation of the official spec v2.8.1 (plus the few the
official examples use beyond it). From that one table come the Flask routes (one blueprint per
area, mounted by the app factory), the credentials each needs, request validation, the 501 answer
of an operation not built yet, the journal's classification, whether a command changes state,
and our OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import import_module
from typing import Any, get_origin

from flask import Blueprint, Request, current_app, g, request
from pydantic import BaseModel, RootModel, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, MapAdapter, Rule

from mock_server.errors import (
    ApiError,
    json_response,
    pydantic_errors,
    validation_error,
    validation_errors,
)
from mock_server.inputs import absent, parsed_body
from mock_server.params import json_body

API_PREFIX = "/public/v2"
AUTH_FULL, AUTH_TOKEN, AUTH_NONE = "full", "token", "none"
READ_METHODS = frozenset({"GET", "HEAD"})
PARAM = re.compile(r"\{([a-zA-Z_]+)\}")


@dataclass(frozen=True)
class Op:
    """One operation: where it lives, who may call it, what it accepts and does.

    ``handler`` is ``"module:function"`` under ``mock_server`` (None: answers 501). ``journal``
    is the (kind, action) the what-if analyser imports; the command's ref is its last path
    parameter, or the id it produced.
    """

    method: str
    path: str  # relative to /public/v2, parameters as {name}
    area: str
    handler: str | None = None
    auth: str = AUTH_FULL
    body: Any = None  # a pydantic model, or a function of the engine config returning one
    query: Any = None  # a model of the query string (mock_server.models.queries), or a function
    # of the engine config returning one
    body_required: bool = True
    changes_state: bool | None = None  # None: every method but GET changes state
    journal: tuple[str, str] | None = None
    in_spec: bool = True  # False: used by the official examples, absent from the spec
    invalid: str = "fastapi"  # the shape of its 422s for refused input (errors.UNPROCESSABLE)

    @property
    def mutating(self) -> bool:
        """Whether an accepted call changes state (so the journal and state file record it)."""
        if self.changes_state is not None:
            return self.changes_state
        return self.method not in READ_METHODS

    @property
    def url(self) -> str:
        return API_PREFIX + self.path

    @property
    def rule(self) -> str:
        """The Flask rule (``<name>`` for ``{name}``; a ``*_path`` parameter spans slashes, as
        an async inference's ``v1/models/<name>:predict`` does)."""
        return PARAM.sub(_converter, self.url)

    @property
    def endpoint(self) -> str:
        """``area.function`` for a built operation, ``area.<method>_<path>`` for a 501."""
        name = self.handler.rsplit(":", 1)[1] if self.handler else _slug(self.method, self.path)
        return f"{self.area}.{name}"


def _converter(m: re.Match[str]) -> str:
    name = m.group(1)
    return f"<path:{name}>" if name.endswith("_path") else f"<{name}>"


def _slug(method: str, path: str) -> str:
    return method.lower() + re.sub(r"[^a-zA-Z0-9]+", "_", path).rstrip("_")


def _view(op: Op) -> Callable[..., Any]:
    if op.handler is None:
        return _not_built(op)
    module, name = op.handler.split(":")
    return getattr(import_module(f"mock_server.{module}"), name)


def _not_built(op: Op) -> Callable[..., Any]:
    def not_built(**_: Any) -> Any:
        return json_response(
            {
                "error_code": 501,
                "error_message": f"Not implemented in mlspace-sim: {op.method} {request.path}",
                "method": op.method,
                "path": request.path,
            },
            501,
        )

    return not_built


def blueprints(operations: Iterable[Op]) -> list[Blueprint]:
    """One blueprint per area, every operation routed (built or 501), in table order."""
    areas: dict[str, Blueprint] = {}
    for op in operations:
        bp = areas.get(op.area)
        if bp is None:
            bp = areas[op.area] = Blueprint(op.area, __name__)
        endpoint = op.endpoint.split(".", 1)[1]
        bp.add_url_rule(op.rule, endpoint, _view(op), methods=[op.method])
    return list(areas.values())


def by_endpoint(operations: Iterable[Op]) -> dict[str, Op]:
    """The operation each Flask endpoint serves (a handler shared by two paths is one entry)."""
    return {op.endpoint: op for op in operations}


def _model(spec: Any, config: Any) -> type[BaseModel]:
    return spec if isinstance(spec, type) else spec(config)


def body_model(op: Op, config: Any) -> type[BaseModel]:
    """The operation's request model (built for ``config`` when it depends on it)."""
    return _model(op.body, config)


def query_model(op: Op, config: Any) -> type[BaseModel]:
    """The operation's query model (built for ``config`` when it depends on it)."""
    return _model(op.query, config)


def validate_body() -> None:
    """Hook: the body against the operation's model, answered as FastAPI answers (422 with
    pydantic's errors under ``body``) before the handler runs; the parsed model is the
    handler's as :func:`body`."""
    op = current()
    if op is None or op.body is None or request.method == "OPTIONS":
        return
    if absent(parsed_body()) and not op.body_required:
        return
    g.body = _parse_body(op)


def _parse_body(op: Op) -> Any:
    model = body_model(op, current_app.extensions["mlspace_sim"].world.config)
    if not issubclass(model, RootModel):
        json_body()  # missing, malformed or not an object: the same 422s as everywhere
    elif absent(parsed_body()):
        raise validation_error(["body"], "Field required", "missing", input=None)
    try:
        return model.model_validate_json(request.get_data(cache=True))
    except ValidationError as exc:
        raise pydantic_errors(exc.errors(include_url=False), ("body",)) from None


def body() -> Any:
    """The current request's body, parsed by its operation's model (here, when no hook ran: a
    command replayed from a state file goes straight to its view)."""
    if "body" not in g:
        g.body = _parse_body(current())  # type: ignore[arg-type]
    return g.body


@lru_cache(maxsize=1)
def _endpoints() -> dict[str, Op]:
    from mock_server.operations import OPERATIONS

    return by_endpoint(OPERATIONS)


def _query_args(model: type[BaseModel]) -> dict[str, Any]:
    """The query string as the model reads it: repeated keys for list fields, else the first;
    an empty value is an absent one unless the field is text (``?limit=`` reads as no limit)."""
    args = request.args
    return {
        name: args.getlist(name) if get_origin(field.annotation) is list else args[name]
        for name, field in model.model_fields.items()
        if name in args and (args[name] != "" or field.annotation is str)
    }


def validate_query() -> None:
    """Hook: the query string against the operation's query model, answered as FastAPI answers
    (422 under ``query``); the parsed values are the handler's as :func:`query`."""
    op = current()
    if op is not None and op.query is not None and request.method != "OPTIONS":
        g.query = _parse_query(op)


def _parse_query(op: Op) -> Any:
    model = query_model(op, current_app.extensions["mlspace_sim"].world.config)
    try:
        return model.model_validate(_query_args(model))
    except ValidationError as exc:
        raise pydantic_errors(exc.errors(include_url=False), ("query",)) from None


def query() -> Any:
    """The current request's query, parsed by its operation's query model (here, when no hook
    ran: a command replayed from a state file goes straight to its view)."""
    if "query" not in g:
        g.query = _parse_query(current())  # type: ignore[arg-type]
    return g.query


def in_own_shape(exc: ApiError) -> ApiError:
    """A 422 for refused input (raised FastAPI-shaped by whichever check found it: input
    bounds, the body model, the handler) in the shape the current operation answers with."""
    op = current()
    if op is None or op.invalid == "fastapi" or exc.status != 422:
        return exc
    return validation_errors(exc.body["detail"], op.invalid)


def current() -> Op | None:
    """The operation of the table the current request's URL matched (None outside the Public
    API): known from URL matching on, so every hook, persistence's included, asks here."""
    return request.operation  # type: ignore[attr-defined]


class OpRequest(Request):
    """A request that knows its operation, looked up once (half a dozen hooks ask for it)."""

    @cached_property
    def operation(self) -> Op | None:
        return _endpoints().get(self.endpoint or "")


@lru_cache(maxsize=1)
def _matcher() -> tuple[MapAdapter, dict[tuple[str, str], Op]]:
    from mock_server.operations import OPERATIONS

    rules = [Rule(op.rule, methods=[op.method], endpoint=(op.method, op.rule)) for op in OPERATIONS]
    return Map(rules).bind(""), {(op.method, op.rule): op for op in OPERATIONS}


def match(method: str, path: str) -> tuple[Op, dict[str, Any]] | None:
    """The operation answering ``method path`` and its path parameters (None: no such one)."""
    adapter, ops = _matcher()
    try:
        key, args = adapter.match(path, method=method)
    except HTTPException:  # not found, another method, or a redirect (trailing slash)
        return None
    return ops[key], args
