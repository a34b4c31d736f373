"""Schemathesis against our own OpenAPI document, in-process on the WSGI app.

Every operation the document lists is fuzzed with valid and invalid parameters and bodies
(generated from the request models the views validate with), plus the other HTTP methods on its
path. Whatever is sent, the server must not fail (no 5xx other than the platform's documented 500
for an unknown image build), every JSON answer must
carry exactly ``application/json`` and parse, every error must be JSON, responses must match the
schemas our document declares, and successful answers of official operations must match the
official spec v2.8.1.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.reliability.support import fuzz_app, fuzz_settings, send_fuzzed
from tests.support.fuzzing import (
    content_type,
    exact_json,
    json_body,
    no_undeclared_server_error,
    own_method,
)
from tests.support.openapi import operation, validate_response

pytestmark = pytest.mark.timeout(120)

APP = fuzz_app()
CLIENT = APP.test_client()
SCHEMA = schemathesis.openapi.from_wsgi("/public/v2/openapi.json", APP)
API = "/public/v2"


def official_spec(ctx: Any, response: Any, case: Any) -> None:
    """A successful JSON answer of an official operation is what the spec v2.8.1 allows."""
    if not 200 <= response.status_code < 300 or content_type(response) != "application/json":
        return
    if not own_method(case) or not case.path.startswith(f"{API}/"):
        return
    path = case.formatted_path.removeprefix(API)
    try:
        operation(case.method, path)
    except AssertionError:
        return  # one of ours only (openapi.json, the notebook-only routes)
    validate_response(case.method, path, response.status_code, json_body(response))


CHECKS = [
    no_undeclared_server_error,
    exact_json,
    content_type_conformance,
    response_schema_conformance,
    official_spec,
]


@SCHEMA.parametrize()
@fuzz_settings(20)
def test_fuzzed_requests_never_break_the_server(case: Any) -> None:
    send_fuzzed(case, CLIENT, CHECKS)


def _resolved(schema: dict) -> dict:
    """A schema with a ``$ref`` to the document's components replaced by its target."""
    ref = schema.get("$ref", "")
    return SCHEMA.raw_schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_document_declares_the_queries_and_bodies_the_views_check() -> None:
    paths = SCHEMA.raw_schema["paths"]
    jobs_query = {p["name"] for p in paths[f"{API}/jobs"]["get"]["parameters"]}
    assert {"region", "status", "limit", "offset", "start_date", "end_date"} <= jobs_query
    create = paths[f"{API}/notebooks/v2/{{namespace}}/notebook"]["post"]["requestBody"]
    body = create["content"]["application/json"]["schema"]
    assert body["additionalProperties"] is False
    assert _resolved(body["properties"]["image"])["required"] == ["name", "tag", "type"]
    modify = paths[f"{API}/notebooks/v2/notebook/{{notebook_uuid}}/modify"]["post"]["requestBody"]
    rule = modify["content"]["application/json"]["schema"]["properties"]["autoshutdown_config"]
    timer = _resolved(_resolved(rule["anyOf"][0])["properties"]["by_timer"]["anyOf"][0])
    assert set(timer["required"]) == {"shutdown_in", "is_enabled"}
    transfer = paths[f"{API}/data_transfer/v5/transfer"]["post"]["requestBody"]
    assert "crontab" in transfer["content"]["application/json"]["schema"]["properties"]
    build = paths[f"{API}/build-image/jobs"]["post"]["requestBody"]["content"]
    assert set(build["multipart/form-data"]["schema"]["required"]) == {"requirements", "from_image"}
