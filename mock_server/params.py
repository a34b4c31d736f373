"""Parsing query values and JSON bodies the way the SDK sends them, with FastAPI-style 422s.

The SDK sends booleans as ``True``/``False``, dates as ``YYYY-MM-DD HH:MM:SS`` (``str(datetime)``)
and keeps empty strings (``region=``). Everything here accepts that as well as the spec's own
forms (``true``, RFC 3339). A Public API operation reads its query through its model
(``Op.query``); :func:`query_bool` and :func:`query_int` serve views outside the operation table
(the admin API under ``/_mock``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from flask import request
from pydantic import TypeAdapter, ValidationError

from mock_server.errors import pydantic_errors, validation_error
from mock_server.inputs import absent, parsed_body
from mock_server.models import Uuid

TRUE = {"true", "1", "yes", "on", "t"}
FALSE = {"false", "0", "no", "off", "f"}


def query_bool(name: str, default: bool) -> bool:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    low = raw.strip().lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise validation_error(
        ["query", name],
        "Input should be a valid boolean, unable to interpret input",
        "bool_parsing",
        input=raw,
    )


def query_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise validation_error(
            ["query", name],
            "Input should be a valid integer, unable to parse string as an integer",
            "int_parsing",
            input=raw,
        ) from None
    if minimum is not None and value < minimum:
        raise validation_error(
            ["query", name],
            f"Input should be greater than or equal to {minimum}",
            "greater_than_equal",
            input=raw,
        )
    if maximum is not None and value > maximum:
        raise validation_error(
            ["query", name],
            f"Input should be less than or equal to {maximum}",
            "less_than_equal",
            input=raw,
        )
    return value


def parse_datetime(raw: str) -> datetime:
    """``2024-01-01 00:00:00``, ``2024-01-01T00:00:00Z``, with or without offset; UTC if naive."""
    text = raw.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def json_body(*, required: bool = True) -> dict[str, Any]:
    """The request's JSON object; empty when optional and absent; 422 when malformed."""
    body = parsed_body()
    if absent(body):
        if required:
            raise validation_error(["body"], "Field required", "missing", input=None)
        return {}
    if not isinstance(body, dict):
        raise validation_error(
            ["body"], "Input should be a valid dictionary", "dict_type", input=body
        )
    return body


def path_value(adapter: TypeAdapter[Any], loc: list[Any], raw: str) -> Any:
    """A parameter read by ``adapter`` (the routes' own parameters are plain strings), or
    FastAPI's 422 at ``loc``."""
    try:
        return adapter.validate_python(raw)
    except ValidationError as exc:
        raise pydantic_errors(exc.errors(include_url=False), tuple(loc)) from None


UUID = TypeAdapter(Uuid)


def uuid_text(loc: list[Any], raw: str) -> str:
    """The canonical text of a UUID parameter at ``loc``, or FastAPI's 422."""
    return str(uuid.UUID(path_value(UUID, loc, raw)))
