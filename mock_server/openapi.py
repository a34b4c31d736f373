"""Our own OpenAPI 3.1 document: the surface mlspace-sim implements, plus the admin API.

Built from the running app's URL map, so it can never list a route that does not exist or miss
one that does. Summaries are the views' docstrings; request bodies come from the same field
tables the views validate with; the admin API is described in full.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from mock_server.routing import AUTH_FULL, AUTH_NONE, AUTH_TOKEN
from mock_server.validation import Field

ERROR = {
    "type": "object",
    "properties": {"error_code": {"type": "integer"}, "error_message": {"type": "string"}},
}
HTTP_VALIDATION_ERROR = {"type": "object", "properties": {"detail": {}}}
NUMBER_BODY = {
    "type": "object",
    "properties": {"seconds": {"type": "number", "minimum": 0}},
    "required": ["seconds"],
}
ADMIN_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/_mock/reset"): {"type": "object", "properties": {"seed": {"type": "integer"}}},
    ("POST", "/_mock/clock/advance"): NUMBER_BODY,
    ("POST", "/_mock/clock/run-until-idle"): {
        "type": "object",
        "properties": {"max_seconds": {"type": "number", "minimum": 0}},
    },
}
ADMIN_QUERY: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("GET", "/_mock/billing"): [
        {
            "name": "workspace",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": "only this workspace's lines and total",
        }
    ],
}


def field_schema(f: Field) -> dict[str, Any]:
    """JSON Schema of one validation :class:`Field`."""
    schema: dict[str, Any] = {"type": f.type}
    if f.enum is not None:
        schema["enum"] = list(f.enum)
    if f.gt is not None:
        schema["exclusiveMinimum"] = f.gt
    if f.ge is not None:
        schema["minimum"] = f.ge
    if f.le is not None:
        schema["maximum"] = f.le
    if f.items:
        schema["items"] = {"type": f.items}
    if f.or_default:
        schema = {"anyOf": [schema, {"const": "default"}]}
    if f.nullable:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


def object_schema(fields: dict[str, Field]) -> dict[str, Any]:
    """JSON Schema of a body validated with ``validate(body, fields)`` (extra keys forbidden)."""
    return {
        "type": "object",
        "properties": {name: field_schema(f) for name, f in fields.items()},
        "required": [name for name, f in fields.items() if f.required],
        "additionalProperties": False,
    }


def _summary(view: Any, fallback: str) -> str:
    doc = (view.__doc__ or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else fallback.replace("_", " ")


def build_document(
    app: Flask, request_bodies: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    """The OpenAPI document of ``app``; ``request_bodies`` maps (METHOD, path) to a schema."""
    paths: dict[str, dict[str, Any]] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if "rest" in rule.arguments or not rule.rule.startswith(("/public/v2/", "/_mock/")):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", r"{\1}", rule.rule)
        params = [
            {"name": arg, "in": "path", "required": True, "schema": {"type": "string"}}
            for arg in rule.arguments
        ]
        level = getattr(view, "_mlspace_auth", AUTH_FULL)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": method.lower() + re.sub(r"[^a-zA-Z0-9]+", "_", path).rstrip("_"),
                "summary": _summary(view, rule.endpoint.rsplit(".", 1)[-1]),
                "tags": ["admin" if path.startswith("/_mock/") else rule.endpoint.split(".")[0]],
                "parameters": params + ADMIN_QUERY.get((method, path), []),
                "responses": {
                    "200": {"description": "Success"},
                    "422": {
                        "description": "Validation error (FastAPI shape)",
                        "content": {"application/json": {"schema": HTTP_VALIDATION_ERROR}},
                    },
                },
            }
            if path.startswith("/public/v2/") and level != AUTH_NONE:
                op["responses"]["401"] = {
                    "description": "Missing/invalid credentials",
                    "content": {"application/json": {"schema": ERROR}},
                }
                op["security"] = (
                    [{"access_token": []}]
                    if level == AUTH_TOKEN
                    else [{"access_token": [], "api_key": [], "workspace_id": []}]
                )
            body = request_bodies.get((method, path)) or ADMIN_BODIES.get((method, path))
            if body is not None:
                op["requestBody"] = {
                    "required": method != "POST" or "required" in body,
                    "content": {"application/json": {"schema": body}},
                }
            paths.setdefault(path, {})[method.lower()] = op
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
            "securitySchemes": {
                "access_token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "authorization",
                    "description": "token from POST /public/v2/service_auth, raw or with 'Bearer '",
                },
                "api_key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
                "workspace_id": {"type": "apiKey", "in": "header", "name": "x-workspace-id"},
            }
        },
        "paths": dict(sorted(paths.items())),
    }
