"""Validate our responses against the official ML Space OpenAPI spec v2.8.1.

The spec is loaded at test time from the installed PyPI package ``mlspace-plugin==0.3.7``
(``mlspace_mcp/spec/openapi.json``) and never copied into this repository. It is OpenAPI 3.1 but
still marks optional values with the 3.0 keyword ``nullable``; we translate that into JSON Schema
(``anyOf [..., null]``) before validating with Draft 2020-12.
"""

from __future__ import annotations

import json
import re
from functools import cache, lru_cache
from importlib import metadata
from typing import Any

import jsonschema

PREFIX = "/public/v2"


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    dist = metadata.distribution("mlspace-plugin")
    path = dist.locate_file("mlspace_mcp/spec/openapi.json")
    return json.loads(path.read_text(encoding="utf-8"))


def _denull(node: Any) -> Any:
    if isinstance(node, list):
        return [_denull(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _denull(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@lru_cache(maxsize=1)
def _components() -> dict[str, Any]:
    return _denull(spec()["components"])


@cache
def _operations() -> list[tuple[str, str, re.Pattern[str]]]:
    ops = []
    for template, item in spec()["paths"].items():
        rel = template[len(PREFIX) :] if template.startswith(PREFIX) else template
        rx = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(rel)) + "$")
        for method in item:
            ops.append((method.upper(), rel, rx))
    # literal paths win over templated ones (``jobs/restart`` before ``jobs/{job_name}``)
    ops.sort(key=lambda op: op[1].count("{"))
    return ops


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The spec's (template, operation object) for a concrete ``path`` relative to /public/v2."""
    path = "/" + path.lstrip("/").split("?", 1)[0]
    for m, template, rx in _operations():
        if m == method.upper() and rx.match(path):
            return template, spec()["paths"][PREFIX + template][method.lower()]
    raise AssertionError(f"{method} {path} is not an operation of the official spec")


def response_schema(
    method: str, path: str, status: int, content_type: str = "application/json"
) -> dict[str, Any] | None:
    _, op = operation(method, path)
    responses = op.get("responses", {})
    resp = responses.get(str(status)) or responses.get("default")
    assert resp is not None, f"{method} {path}: status {status} is not documented by the spec"
    content = resp.get("content", {})
    media = content.get(content_type) or next(iter(content.values()), None)
    return None if media is None else media.get("schema")


def validate_response(method: str, path: str, status: int, body: Any) -> None:
    """Assert that ``body`` is what the spec allows for ``method path`` answering ``status``."""
    schema = response_schema(method, path, status)
    if schema is None:
        return
    _validate(body, _denull(schema))


def validate_schema(name: str, body: Any) -> None:
    """Assert that ``body`` is an instance of the spec's component schema ``name`` (for an
    answer whose status the operation does not document, given in a shape the spec has)."""
    _validate(body, {"$ref": f"#/components/schemas/{name}"})


def _validate(body: Any, schema: dict[str, Any]) -> None:
    full = {
        **schema,
        "components": _components(),
        "$schema": "https://json-schema.org/draft/2020-12/schema",
    }
    jsonschema.validate(
        body,
        full,
        cls=jsonschema.Draft202012Validator,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def validate_request(method: str, path: str, body: Any) -> None:
    """Assert that a request body is valid for the spec (used to check our test inputs)."""
    _, op = operation(method, path)
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    full = {**_denull(schema), "components": _components()}
    jsonschema.validate(body, full, cls=jsonschema.Draft202012Validator)


def json_schema_spec() -> dict[str, Any]:
    """A fresh copy of the whole spec with ``nullable`` translated, for tools (schemathesis) that
    read it as OpenAPI 3.1, i.e. as plain JSON Schema."""
    return _denull(spec())
