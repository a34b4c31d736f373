"""Request bodies of the data-transfer area, checked like the platform's pydantic models.

``mock_server.validation`` covers types, enums and bounds; the formats it does not know (UUIDs,
datetimes, ``HH:MM``, cluster pairs, the ``str | list[str]`` source) are checked here, and every
problem of a body is reported in one FastAPI-style 422.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from mock_server.api.dts_catalog import (
    CLUSTERS,
    CONNECTOR_TYPES,
    CUSTOM_TYPES,
    NFS_CLUSTERS,
    STRATEGIES,
    TARGET_TYPES,
    param_spec,
)
from mock_server.errors import ApiError, validation_errors
from mock_server.params import parse_datetime
from mock_server.validation import Field, validate

Error = dict[str, Any]
TIME_PATTERN = r"^([01]?\d|2[0-3]):[0-5]\d$"

TRANSFER_FIELDS = {
    "cluster_name": Field("string", required=True),
    "connector_id": Field("string", required=True),
    "destination_connector_id": Field("string", required=True),
    "name": Field("string", required=True),
    "description": Field("string", nullable=True),
    "strategy": Field("string", required=True, enum=STRATEGIES),
    "crontab": Field("object", nullable=True),
    "favorite": Field("boolean", required=True),
    "query": Field("object", required=True),
    "connector_type": Field("string", required=True, enum=CONNECTOR_TYPES),
    "destination_connector_type": Field("string", required=True, enum=TARGET_TYPES),
}
TYPE_KEYS = {
    "connector_id": "connector_type",
    "destination_connector_id": "destination_connector_type",
}


@dataclass(frozen=True)
class TransferInput:
    """A version's rule body: its fields, and whether it refuses keys it does not know."""

    fields: dict[str, Field]
    forbid_extra: bool

    @property
    def typed(self) -> bool:
        """Whether the body names its connectors' types (v2's takes them from the connectors)."""
        return "connector_type" in self.fields


V5_INPUT = TransferInput(TRANSFER_FIELDS, forbid_extra=True)  # TransferInputViewModelV5
# TransferInputViewModelV2 (v3, v4) and TransferInputViewModel (v2): a ``legacy`` flag as well
V2_INPUT = TransferInput(
    {**TRANSFER_FIELDS, "legacy": Field("boolean", nullable=True)}, forbid_extra=False
)
V1_INPUT = TransferInput(
    {k: f for k, f in V2_INPUT.fields.items() if k not in TYPE_KEYS.values()}, forbid_extra=False
)
CRON_FIELDS = {
    "start_at": Field("string"),
    "time": Field("string", nullable=True),
    "weekdays": Field("array", nullable=True, items="integer"),
    "monthdays": Field("array", nullable=True, items="integer"),
    "period": Field("number", nullable=True, ge=0),
}
CONNECTOR_FIELDS = {
    "name": Field("string", required=True),
    "source_type": Field("string", required=True, enum=CUSTOM_TYPES),
    "workspace_id": Field("string", nullable=True),
    "favorite": Field("boolean"),
    "parameters": Field("object", required=True),
}
S3_CREDENTIALS_FIELDS = {
    name: Field("string", required=True)
    for name in ("endpoint", "bucket", "access_key_id", "security_key")
}
CONNECTOR_UPDATE_FIELDS = {
    "name": Field("string", required=True, nullable=True),
    "favorite": Field("boolean", nullable=True),
    "parameters": Field("object", nullable=True),
}


def _errors(
    body: dict[str, Any], fields: dict[str, Field], loc: tuple[Any, ...], forbid_extra: bool
) -> list[Error]:
    try:
        validate(body, fields, forbid_extra=forbid_extra, loc=loc)
    except ApiError as exc:
        return list(exc.body["detail"])
    return []


def _raise_if(errors: list[Error]) -> None:
    if errors:
        raise validation_errors(errors)


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def uuid_error(loc: list[Any], value: Any) -> Error:
    return {
        "type": "uuid_parsing",
        "loc": loc,
        "msg": "Input should be a valid UUID, unable to parse string as a UUID",
        "input": value,
    }


def check_uuid(loc: list[Any], value: Any) -> None:
    """422 unless ``value`` (a path or query parameter) is a UUID."""
    _raise_if([] if is_uuid(value) else [uuid_error(loc, value)])


def check_enum(loc: list[Any], value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        expected = ", ".join(f"'{c}'" for c in choices)
        _raise_if(
            [
                {
                    "type": "enum",
                    "loc": loc,
                    "msg": f"Input should be one of {expected}",
                    "input": value,
                    "ctx": {"expected": expected},
                }
            ]
        )


def parse_when(loc: list[Any], value: Any) -> tuple[float | None, list[Error]]:
    """(epoch, []) for an ISO datetime (UTC if naive), else (None, [the 422 item])."""
    try:
        return parse_datetime(str(value)).timestamp(), []
    except ValueError:
        return None, [
            {
                "type": "datetime_parsing",
                "loc": loc,
                "msg": "Input should be a valid datetime",
                "input": value,
            }
        ]


def _cluster_errors(value: Any) -> list[Error]:
    if not isinstance(value, str):
        return []
    ends = value.split("->")
    if len(ends) <= 2 and len(set(ends)) == len(ends) and all(e in CLUSTERS for e in ends):
        return []
    return [
        {
            "type": "enum",
            "loc": ["body", "cluster_name"],
            "msg": f"Input should be one of {', '.join(CLUSTERS)} or a pair of two of them "
            "like 'sr006->sr005'",
            "input": value,
        }
    ]


def _day_errors(crontab: dict[str, Any], key: str, top: int) -> list[Error]:
    days = crontab.get(key)
    if not isinstance(days, list):
        return []
    return [
        {
            "type": "less_than_equal" if isinstance(d, int) and d > top else "greater_than_equal",
            "loc": ["body", "crontab", key, i],
            "msg": f"Input should be between 1 and {top}",
            "input": d,
        }
        for i, d in enumerate(days)
        if isinstance(d, int) and not 1 <= d <= top
    ]


def _crontab_errors(crontab: Any, now: float) -> tuple[int, list[Error]]:
    """(start_at epoch, errors); ``start_at`` defaults to ``now``."""
    if not isinstance(crontab, dict):
        return int(now), []
    errors = _errors(crontab, CRON_FIELDS, ("body", "crontab"), False)
    start: float | None = now
    if isinstance(crontab.get("start_at"), str):
        start, bad = parse_when(["body", "crontab", "start_at"], crontab["start_at"])
        errors += bad
    when = crontab.get("time")
    if isinstance(when, str) and not re.match(TIME_PATTERN, when):
        errors.append(
            {
                "type": "string_pattern_mismatch",
                "loc": ["body", "crontab", "time"],
                "msg": f"String should match pattern '{TIME_PATTERN}'",
                "input": when,
                "ctx": {"pattern": TIME_PATTERN},
            }
        )
    errors += _day_errors(crontab, "weekdays", 7) + _day_errors(crontab, "monthdays", 31)
    return int(start if start is not None else now), errors


def _query_errors(query: Any) -> list[Error]:
    if not isinstance(query, dict):
        return []
    errors = _errors(
        query, {"destination": Field("string", required=True)}, ("body", "query"), False
    )
    source = query.get("source")
    loc = ["body", "query", "source"]
    if "source" not in query:
        errors.append({"type": "missing", "loc": loc, "msg": "Field required", "input": query})
    elif not (
        isinstance(source, str)
        or (isinstance(source, list) and source and all(isinstance(s, str) for s in source))
    ):
        errors.append(
            {
                "type": "union_type",
                "loc": loc,
                "msg": "Input should be a valid string or a non-empty list of strings",
                "input": source,
            }
        )
    return errors


def transfer_body(body: dict[str, Any], now: float, shape: TransferInput = V5_INPUT) -> int:
    """Validate a rule body of the given input model; its start_at epoch."""
    errors = _errors(body, shape.fields, ("body",), shape.forbid_extra)
    for key in ("connector_id", "destination_connector_id"):
        if isinstance(body.get(key), str) and not is_uuid(body[key]):
            errors.append(uuid_error(["body", key], body[key]))
    errors += _cluster_errors(body.get("cluster_name"))
    errors += _query_errors(body.get("query"))
    start_at, cron_errors = _crontab_errors(body.get("crontab"), now)
    _raise_if(errors + cron_errors)
    return start_at


def connector_parameters(source_type: str, params: Any) -> dict[str, Any]:
    """Validate the parameters of a user connector of ``source_type``; the known keys only."""
    spec = param_spec(source_type)
    fields = {
        name: Field("integer", required=True, gt=0, le=65535)
        if name == "port"
        else Field("string", required=True)
        for name in spec
    }
    _raise_if(_errors(params, fields, ("body", "parameters"), False))
    return {k: params[k] for k in spec}


def connector_body(body: dict[str, Any], workspace_id: str) -> dict[str, Any]:
    """Validate a ``ConnectorInputViewModelV3``; its parameters (known keys only)."""
    errors = _errors(body, CONNECTOR_FIELDS, ("body",), False)
    public = body.get("workspace_id")
    if isinstance(public, str) and public != workspace_id:
        errors.append(
            {
                "type": "value_error",
                "loc": ["body", "workspace_id"],
                "msg": "Value error, workspace_id and X-Workspace-Id have to match",
                "input": public,
            }
        )
    _raise_if(errors)
    return connector_parameters(body["source_type"], body["parameters"])


def connector_update_body(body: dict[str, Any], source_type: str) -> dict[str, Any] | None:
    """Validate a ``ConnectorUpdateViewModelV3``; the new parameters, or None to keep them."""
    _raise_if(_errors(body, CONNECTOR_UPDATE_FIELDS, ("body",), False))
    if body.get("parameters") is None:
        return None
    return connector_parameters(source_type, body["parameters"])


def legacy_copy_fields(region_key: str) -> dict[str, Field]:
    """``CopyFromNFSToS3Payload`` (``region_key`` ``from_region``) or ``CopyFromS3ToNFSPayload``
    (``to_region``)."""
    return {
        "source_path": Field("string", required=True),
        "destination_path": Field("string", required=True),
        "strategy": Field("string", enum=STRATEGIES),
        region_key: Field("string", required=True, enum=tuple(NFS_CLUSTERS)),
        "s3_credentials": Field("object", required=True),
    }


def legacy_copy_body(body: dict[str, Any], region_key: str) -> None:
    """Validate a legacy copy body; extra keys are ignored, as pydantic does."""
    errors = _errors(body, legacy_copy_fields(region_key), ("body",), False)
    creds = body.get("s3_credentials")
    if isinstance(creds, dict):
        errors += _errors(creds, S3_CREDENTIALS_FIELDS, ("body", "s3_credentials"), False)
    _raise_if(errors)
