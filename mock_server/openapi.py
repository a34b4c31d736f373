"""Our own OpenAPI 3.1 document: the surface mlspace-sim implements, plus the admin API.

Built from the running app's URL map, so it can never list a route that does not exist or miss
one that does. Summaries are the views' docstrings; request bodies and query parameters come from
the request models the operations validate with (``Op.body``, ``Op.query``), so a fuzzer reading
the document exercises what the views check. :class:`OperationDoc` adds what no model tells (a
multipart body, extra responses); the admin API is described here in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Flask
from pydantic import BaseModel

from mock_server.operations import OPERATIONS
from mock_server.routing import AUTH_NONE, AUTH_TOKEN, PARAM, body_model, query_model

Schema = dict[str, Any]
Key = tuple[str, str]  # (METHOD, path template with {params})

ERROR: Schema = {
    "type": "object",
    "properties": {"error_code": {"type": "integer"}, "error_message": {"type": "string"}},
    "required": ["error_code", "error_message"],
}
HTTP_VALIDATION_ERROR: Schema = {
    "type": "object",
    "properties": {"detail": {}},
    "required": ["detail"],
}
UUID: Schema = {"type": "string", "format": "uuid"}
DATE_TIME: Schema = {
    "type": "string",
    "format": "date-time",
    "description": "RFC 3339, or 'YYYY-MM-DD HH:MM:SS' (UTC when no offset), as the SDK sends it",
}


@dataclass(frozen=True)
class OperationDoc:
    """What the URL map cannot tell about one operation: its body, query and extra responses."""

    body: Schema | None = None
    body_required: bool = True
    media_type: str = "application/json"
    query: tuple[Schema, ...] = ()
    responses: dict[str, Schema] = field(default_factory=dict)


def query(name: str, schema: Schema, *, required: bool = False, description: str = "") -> Schema:
    """One query parameter (arrays are repeated keys: ``?ids=a&ids=b``)."""
    param: Schema = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        param["description"] = description
    return param


def json_content(schema: Schema, description: str = "Success") -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SECONDS = {"type": "number", "minimum": 0}
ADMIN_OPERATIONS: dict[Key, OperationDoc] = {
    ("POST", "/_mock/reset"): OperationDoc(
        body={"type": "object", "properties": {"seed": {"type": "integer"}}},
        body_required=False,
    ),
    ("POST", "/_mock/clock/advance"): OperationDoc(
        body={"type": "object", "properties": {"seconds": SECONDS}, "required": ["seconds"]}
    ),
    ("POST", "/_mock/clock/run-until-idle"): OperationDoc(
        body={"type": "object", "properties": {"max_seconds": SECONDS}}, body_required=False
    ),
    ("GET", "/_mock/billing"): OperationDoc(
        query=(
            query("workspace", {"type": "string"}, description="only this workspace"),
            query(
                "format",
                {"type": "string", "enum": ["json", "focus"], "default": "json"},
                description="focus: the ledger as FinOps FOCUS 1.2 CSV rows",
            ),
        )
    ),
    ("GET", "/_mock/journal"): OperationDoc(
        query=(
            query("workspace", {"type": "string"}, description="only this workspace"),
            query("kind", {"type": "string"}, description="comma-separated entry kinds"),
        )
    ),
}


def undocumented(view: Any) -> Any:
    """Keep a view out of the document: it serves files (the console's page), not an API."""
    view._mlspace_undocumented = True
    return view


def _summary(view: Any, fallback: str) -> str:
    doc = (view.__doc__ or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else fallback.replace("_", " ")


def _operation(
    method: str, path: str, tag: str, view: Any, level: str, params: list[Schema], doc: OperationDoc
) -> Schema:
    op: Schema = {
        "operationId": method.lower() + re.sub(r"[^a-zA-Z0-9]+", "_", path).rstrip("_"),
        "summary": _summary(view, view.__name__),
        "tags": [tag],
        "parameters": params + list(doc.query),
        "responses": {
            "200": {"description": "Success"},
            "422": json_content(HTTP_VALIDATION_ERROR, "Validation error (FastAPI shape)"),
        },
    }
    if path.startswith("/public/v2/") and level != AUTH_NONE:
        op["responses"]["401"] = json_content(ERROR, "Missing/invalid credentials")
        op["security"] = (
            [{"access_token": []}]
            if level == AUTH_TOKEN
            else [{"access_token": [], "api_key": [], "workspace_id": []}]
        )
    op["responses"].update(doc.responses)
    if doc.body is not None:
        op["requestBody"] = {
            "required": doc.body_required,
            "content": {doc.media_type: {"schema": doc.body}},
        }
    return op


def model_schema(model: type[BaseModel], components: dict[str, Schema]) -> Schema:
    """JSON Schema of a request model, inline; the models it nests go to ``components`` (two
    different nested models of one name would silently share one schema: refused)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, nested in schema.pop("$defs", {}).items():
        if components.setdefault(name, nested) != nested:
            raise ValueError(f"two different request models are named {name}")
    return schema


def query_parameters(model: type[BaseModel], components: dict[str, Schema]) -> tuple[Schema, ...]:
    """The query parameters of an operation's query model (a list field: a repeated key)."""
    schema = model_schema(model, components)
    required = set(schema.get("required", ()))
    return tuple(
        query(name, prop, required=name in required) for name, prop in schema["properties"].items()
    )


def _path_params(path: str, path_schemas: dict[str, Schema]) -> list[Schema]:
    return [
        {
            "name": arg,
            "in": "path",
            "required": True,
            "schema": path_schemas.get(arg, {"type": "string"}),
        }
        for arg in sorted(PARAM.findall(path))
    ]


def build_document(
    app: Flask,
    operations: dict[Key, OperationDoc],
    path_schemas: dict[str, Schema] | None = None,
) -> dict[str, Any]:
    """The OpenAPI document of the operations the table has handlers for, and of the admin API
    of ``app``; ``operations`` details (METHOD, path) pairs and ``path_schemas`` types path
    parameters by name (plain strings otherwise)."""
    path_schemas = path_schemas or {}
    docs = {**ADMIN_OPERATIONS, **operations}
    paths: dict[str, dict[str, Any]] = {}
    models: dict[str, Schema] = {}
    config = app.extensions["mlspace_sim"].world.config
    for op in OPERATIONS:
        if op.handler is None:
            continue
        view = app.view_functions[op.endpoint]
        params = _path_params(op.url, path_schemas)
        doc = docs.get((op.method, op.url), OperationDoc())
        if op.body is not None:
            body = model_schema(body_model(op, config), models)
            doc = replace(doc, body=body, body_required=op.body_required)
        if op.query is not None:
            found = query_parameters(query_model(op, config), models)
            doc = replace(doc, query=found + doc.query)
        entry = _operation(op.method, op.url, op.area, view, op.auth, params, doc)
        paths.setdefault(op.url, {})[op.method.lower()] = entry
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/_mock/"):
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "_mlspace_undocumented", False):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", r"{\1}", rule.rule)
        params = _path_params(path, path_schemas)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            doc = docs.get((method, path), OperationDoc())
            entry = _operation(method, path, "admin", view, AUTH_NONE, params, doc)
            paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mlspace-sim: ML Space Public API v2 mock",
            "version": "0.1.0",
            "description": "The part of the ML Space Public API v2 that mlspace-sim implements "
            "(any other operation of the official spec answers 501), plus the "
            "admin API under /_mock/ that controls the simulation.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": dict(sorted(models.items())),
            "securitySchemes": {
                "access_token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "authorization",
                    "description": "token from POST /public/v2/service_auth, raw or with 'Bearer '",
                },
                "api_key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "workspace_id": {"type": "apiKey", "in": "header", "name": "x-workspace-id"},
            },
        },
        "paths": dict(sorted(paths.items())),
    }
