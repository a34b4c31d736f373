"""``GET /public/v2/openapi.json``: the OpenAPI document of what this server implements.

Bodies and query parameters come from the operations' request models; what is declared here is
what no model tells yet (multipart bodies, extra responses, a few hand-read queries), so a fuzzer
reading this document sends what the views check (and, negated, what they must refuse).
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from mock_server.api import build_image, jobs
from mock_server.api.dts_catalog import CONNECTOR_TYPES
from mock_server.errors import json_response
from mock_server.openapi import (
    ERROR,
    UUID,
    Key,
    OperationDoc,
    Schema,
    build_document,
    json_content,
)
from mock_server.state import state

API = "/public/v2"
INT, STR, BOOL = {"type": "integer"}, {"type": "string"}, {"type": "boolean"}
BASE_IMAGE_PATTERN = "^" + re.escape(build_image.BASE_IMAGES) + r"[a-z0-9.-]+:[a-z0-9.]+$"
LIMIT, OFFSET = {"type": "integer", "minimum": 1}, {"type": "integer", "minimum": 0}
PATH_SCHEMAS: dict[str, Schema] = {
    "notebook_uuid": UUID,
    "tensorboard_uuid": UUID,
    "workspace_id": UUID,
    "allocation_id": UUID,
    "queue_id": UUID,
    "connector_id": UUID,
    "transfer_id": UUID,
    "connector_type": {"type": "string", "enum": list(CONNECTOR_TYPES)},
}


# ---- jobs -------------------------------------------------------------------------------------
def _with_keys(properties: dict[str, Schema]) -> Schema:
    """An object that has at least these keys, of these shapes."""
    return {"type": "object", "properties": properties, "required": list(properties)}


JOB_ACCEPTED = _with_keys({"job_name": STR, "status": {"const": "Pending"}, "created_at": INT})
JOB_STATUS = _with_keys({"job_name": STR, "status": STR, "error_code": INT, "error_message": STR})
JOB_LIST = _with_keys(
    {
        "count": {"type": "integer", "minimum": 0},
        "jobs": {
            "type": "array",
            "items": _with_keys({"job_name": STR, "status": {"enum": list(jobs.LIST_STATUSES)}}),
        },
        "status": {"const": "ok"},
        "error_code": INT,
        "error_message": STR,
    }
)
JOB_KILLED = _with_keys({"job_name": STR, "deleted_at": STR, "status": {"const": "deleted"}})
TEXT_OR_NOT_FOUND = {
    "description": "The log as text, one line per chunk; an unknown job is JSON",
    "content": {"text/plain": {"schema": STR}, "application/json": {"schema": JOB_STATUS}},
}


def _instance_types() -> Schema:
    """Any instance type of the catalog (whether a region has it is the engine's check)."""
    regions = state().world.config.catalog.regions.values()
    return {"type": "string", "enum": sorted({k for r in regions for k in r.instance_types})}


def _job_operations() -> dict[Key, OperationDoc]:
    accepted = OperationDoc(responses={"200": json_content(JOB_ACCEPTED)})
    return {
        ("POST", f"{API}/jobs"): accepted,
        ("POST", f"{API}/jobs/restart"): accepted,
        ("GET", f"{API}/jobs"): OperationDoc(responses={"200": json_content(JOB_LIST)}),
        ("GET", f"{API}/jobs/{{job_name}}"): OperationDoc(
            responses={"200": json_content(JOB_STATUS, "Status; 'job not found' when unknown")}
        ),
        ("DELETE", f"{API}/jobs/{{job_name}}"): OperationDoc(
            responses={"200": json_content(JOB_KILLED)}
        ),
        ("GET", f"{API}/jobs/{{job_name}}/logs"): OperationDoc(
            responses={"200": TEXT_OR_NOT_FOUND},
        ),
    }


# ---- Jupyter Servers ----------------------------------------------------------------------------
def _notebook_operations() -> dict[Key, OperationDoc]:
    return {
        ("DELETE", f"{API}/notebooks/v1/autoshutdown-rules/workspace/{{workspace_id}}"): (
            OperationDoc(responses={"204": {"description": "Removed (no body)"}})
        ),
    }


# ---- resources, configs, S3 credentials, image builds ------------------------------------------
def _resource_operations() -> dict[Key, OperationDoc]:
    unknown_build = json_content(
        ERROR, "Unknown build: the platform answers 500 'Job=... not found'"
    )
    log_text = {"description": "Kaniko output so far", "content": {"text/plain": {"schema": STR}}}
    build = f"{API}/build-image/jobs/{{job_name}}"
    return {
        ("POST", f"{API}/build-image/jobs"): OperationDoc(
            body={
                "type": "object",
                "properties": {
                    "requirements": {"type": "string", "format": "binary"},
                    "from_image": {"type": "string", "pattern": BASE_IMAGE_PATTERN},
                },
                "required": ["requirements", "from_image"],
            },
            media_type="multipart/form-data",
        ),
        ("GET", build): OperationDoc(responses={"500": unknown_build}),
        ("GET", f"{build}/logs"): OperationDoc(responses={"200": log_text, "500": unknown_build}),
    }


def operations() -> dict[Key, OperationDoc]:
    """Every public operation the URL map alone cannot describe."""
    keys = ("client_id", "client_secret")
    auth = {"type": "object", "properties": dict.fromkeys(keys, STR), "required": list(keys)}
    return {
        ("POST", f"{API}/service_auth"): OperationDoc(body=auth),
        **_job_operations(),
        **_notebook_operations(),
        **_resource_operations(),
    }


def openapi_document() -> Any:
    """Our OpenAPI 3.1 document (implemented Public API v2 surface plus the admin API)"""
    return json_response(build_document(current_app, operations(), PATH_SCHEMAS))
