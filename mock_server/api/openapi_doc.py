"""``GET /public/v2/openapi.json``: the OpenAPI document of what this server implements.

Bodies and query parameters are declared from the tables the views validate with, so a fuzzer
reading this document sends what the views check (and, negated, what they must refuse).
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from mock_server.api import (
    build_image,
    data_transfer,
    jobs,
)
from mock_server.api.dts_catalog import CLUSTERS, CONNECTOR_TYPES, parameters_schema
from mock_server.api.dts_validation import (
    CONNECTOR_FIELDS,
    CONNECTOR_UPDATE_FIELDS,
    CRON_FIELDS,
    TIME_PATTERN,
    TRANSFER_FIELDS,
    legacy_copy_fields,
)
from mock_server.errors import json_response
from mock_server.openapi import (
    DATE_TIME,
    ERROR,
    UUID,
    Key,
    OperationDoc,
    Schema,
    build_document,
    field_schema,
    json_content,
    object_schema,
    query,
)
from mock_server.state import state
from simulator.transfers.runs import EVENT_CATEGORIES, EVENT_TYPES

API = "/public/v2"
DTS = f"{API}/data_transfer"
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


# ---- data transfer ------------------------------------------------------------------------------
def _dts_operations() -> dict[Key, OperationDoc]:
    parameters = {"anyOf": [parameters_schema("s3custom"), parameters_schema("postgresql")]}
    cluster = {
        "anyOf": [
            {"enum": list(CLUSTERS)},
            {"type": "string", "pattern": r"^[a-z0-9.-]+->[a-z0-9.-]+$"},
        ]
    }
    crontab = object_schema(CRON_FIELDS, extra=True)
    crontab["properties"]["time"] = field_schema(
        CRON_FIELDS["time"], {"type": "string", "pattern": TIME_PATTERN}
    )
    crontab["properties"]["start_at"] = DATE_TIME
    source = {"anyOf": [STR, {"type": "array", "items": STR, "minItems": 1}]}
    transfer = object_schema(
        TRANSFER_FIELDS,
        shapes={
            "crontab": crontab,
            "query": {
                "type": "object",
                "properties": {"destination": STR, "source": source},
                "required": ["destination", "source"],
            },
        },
    )
    transfer["properties"]["cluster_name"] = cluster
    for key in ("connector_id", "destination_connector_id"):
        transfer["properties"][key] = UUID
    ids = (query("ids", {"type": "array", "items": UUID, "minItems": 1}, required=True),)
    legacy = {
        direction: OperationDoc(
            body=object_schema(
                legacy_copy_fields(region_key),
                extra=True,
                shapes={"s3_credentials": parameters_schema("s3custom")},
            )
        )
        for direction, region_key in (("nfs_to_s3", "from_region"), ("s3_to_nfs", "to_region"))
    }
    connector = f"{DTS}/v3/connectors/{{connector_type}}/{{connector_id}}"
    return {
        ("GET", f"{DTS}/v3/connectors"): OperationDoc(
            query=(query("page_size", OFFSET), query("page", LIMIT))
        ),
        ("POST", f"{DTS}/v3/connectors"): OperationDoc(
            body=object_schema(CONNECTOR_FIELDS, extra=True, shapes={"parameters": parameters})
        ),
        ("POST", connector): OperationDoc(
            body=object_schema(
                CONNECTOR_UPDATE_FIELDS, extra=True, shapes={"parameters": parameters}
            )
        ),
        ("DELETE", f"{DTS}/v2/connectors"): OperationDoc(query=ids),
        ("DELETE", f"{DTS}/v2/transfer"): OperationDoc(query=ids),
        ("POST", f"{DTS}/v5/transfer"): OperationDoc(body=transfer),
        ("POST", f"{DTS}/v5/transfer/{{transfer_id}}"): OperationDoc(body=transfer),
        ("POST", f"{DTS}/v4/transfer/{{transfer_id}}/switch"): OperationDoc(
            body=object_schema(data_transfer.SWITCH_FIELDS, extra=True)
        ),
        ("POST", f"{DTS}/v2/history/cancel"): OperationDoc(
            body=object_schema(
                data_transfer.CANCEL_FIELDS,
                extra=True,
                shapes={"transfer_id": UUID, "execution_date": DATE_TIME},
            )
        ),
        ("GET", f"{DTS}/v3/history"): OperationDoc(
            query=(
                query("transfer_id", UUID),
                query("source_name", STR),
                query("page", LIMIT),
                query("page_size", LIMIT),
            )
        ),
        ("GET", f"{DTS}/v2/events/list"): OperationDoc(
            query=(
                query("transfer_id", UUID, description="this or history_id is required"),
                query("history_id", UUID),
                query("offset", OFFSET),
                query("limit", OFFSET),
                query("event_type", {"type": "integer", "enum": list(EVENT_TYPES)}),
                query("event_category", {"type": "integer", "enum": list(EVENT_CATEGORIES)}),
                query("as_enum_resolved", BOOL),
            )
        ),
        ("POST", f"{DTS}/v1/transfers/nfs_to_s3"): legacy["nfs_to_s3"],
        ("POST", f"{DTS}/v1/transfers/s3_to_nfs"): legacy["s3_to_nfs"],
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
        **_dts_operations(),
    }


def openapi_document() -> Any:
    """Our OpenAPI 3.1 document (implemented Public API v2 surface plus the admin API)"""
    return json_response(build_document(current_app, operations(), PATH_SCHEMAS))
