"""``GET /public/v2/openapi.json``: the OpenAPI document of what this server implements."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from mock_server.api.jobs import HEALTH_FIELDS, run_job_fields
from mock_server.errors import json_response
from mock_server.openapi import build_document, object_schema
from mock_server.routing import AUTH_NONE, auth_level
from mock_server.state import state
from mock_server.validation import Field

bp = Blueprint("openapi", __name__)


@bp.get("/openapi.json")
@auth_level(AUTH_NONE)
def openapi_document() -> Any:
    """Our OpenAPI 3.1 document (implemented Public API v2 surface plus the admin API)"""
    regions = tuple(state().world.config.catalog.regions)
    run_job = object_schema(run_job_fields(regions))
    run_job["properties"]["health_params"] = {
        "anyOf": [object_schema(HEALTH_FIELDS), {"type": "null"}]
    }
    bodies = {
        ("POST", "/public/v2/service_auth"): object_schema(
            {
                "client_id": Field("string", required=True),
                "client_secret": Field("string", required=True),
            }
        ),
        ("POST", "/public/v2/jobs"): run_job,
        ("POST", "/public/v2/jobs/restart"): object_schema(
            {"job_name": Field("string", required=True)}
        ),
    }
    return json_response(build_document(current_app, bodies))
