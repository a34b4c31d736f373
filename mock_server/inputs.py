"""What every request must satisfy before any operation reads it, so bad input never reaches
the engine (a lone surrogate stored in a job poisoned every later list of its workspace).

Checked in hooks of the app factory, for the Public API and the admin API alike: headers of
bounded size (431); a JSON body no deeper than ``MAX_DEPTH`` (deeper JSON crashed the parser)
whose strings can be encoded; query values that are valid UTF-8. On the Public API, strings are
at most ``MAX_STRING`` characters. Field problems get FastAPI's 422 naming the field.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import g, request

from mock_server.errors import ApiError, json_response, validation_error, validation_errors

MAX_DEPTH = 32
MAX_STRING = 65_536
MAX_HEADER_BYTES = 8_192
MAX_HEADERS_BYTES = 32_768
API_PREFIX = "/public/v2/"
UNICODE_MSG = "Input should be a valid string, unable to parse raw data as a unicode string"
_ABSENT = object()


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _string_problem(text: str, loc: list[Any], max_length: int | None) -> dict[str, Any] | None:
    if not _encodable(text):
        return {"type": "string_unicode", "loc": loc, "msg": UNICODE_MSG, "input": text}
    if max_length is not None and len(text) > max_length:
        return {
            "type": "string_too_long",
            "loc": loc,
            "msg": f"String should have at most {max_length} characters",
            "ctx": {"max_length": max_length},
        }
    return None


def body_problems(value: Any, max_length: int | None) -> list[dict[str, Any]]:
    """Every string (key or value) of a parsed body that cannot be encoded or is too long, and
    nesting deeper than ``MAX_DEPTH``; walked without recursion, whatever the depth."""
    problems: list[dict[str, Any]] = []
    stack: list[tuple[Any, list[Any]]] = [(value, ["body"])]
    while stack:
        node, loc = stack.pop()
        if len(loc) > MAX_DEPTH + 1:
            problems.append(_too_deep())
            break
        if isinstance(node, str):
            found = _string_problem(node, loc, max_length)
            if found:
                problems.append(found)
        elif isinstance(node, dict):
            for key, item in node.items():
                found = _string_problem(key, [*loc, key], max_length)
                if found:
                    problems.append(found)
                stack.append((item, [*loc, key]))
        elif isinstance(node, list):
            stack.extend((item, [*loc, i]) for i, item in enumerate(node))
    return sorted(problems, key=lambda p: [str(part) for part in p["loc"]])


def _plainly_fine(raw: bytes, max_length: int | None) -> bool:
    """Whether a parsed JSON body has no problem :func:`body_problems` would find, seen from its
    bytes alone (most bodies; the others are walked): plain ASCII read as UTF-8 with no ``\\u``
    escape has only encodable strings, none longer than the body, and no deeper nesting than
    it has brackets."""
    return (
        raw.isascii()
        and b"\\u" not in raw
        and b"\x00" not in raw
        and (max_length is None or len(raw) <= max_length)
        and raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH
    )


def _too_deep() -> dict[str, Any]:
    return {
        "type": "json_invalid",
        "loc": ["body"],
        "msg": "JSON decode error",
        "ctx": {"error": f"nested deeper than {MAX_DEPTH} levels"},
    }


def parsed_body() -> Any:
    """The request's JSON, parsed once per request (``_ABSENT`` when there is no body)."""
    cached = g.get("parsed_body", _ABSENT)
    if cached is not _ABSENT:
        return cached
    raw = request.get_data(cache=True)
    if not raw.strip():
        value: Any = _ABSENT
    else:
        try:
            value = json.loads(raw)
        except RecursionError:
            raise validation_errors([_too_deep()]) from None
        except (ValueError, UnicodeDecodeError):
            raise validation_error(["body"], "JSON decode error", "json_invalid") from None
    g.parsed_body = value
    return value


def absent(value: Any) -> bool:
    return value is _ABSENT


def _query_problems(max_length: int | None) -> list[dict[str, Any]]:
    """Query values must be UTF-8 once percent-decoded (werkzeug would quietly replace the bad
    bytes) and, on the Public API, bounded."""
    problems = []
    for pair in request.query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        key = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace")
        try:
            text = unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            problems.append({"type": "string_unicode", "loc": ["query", key], "msg": UNICODE_MSG})
            continue
        found = _string_problem(text, ["query", key], max_length)
        if found:
            problems.append(found)
    return problems


def check_headers() -> Any:
    """Hook: a 431 in the platform's shape for an oversized header (before anything else)."""
    sizes = [len(k) + len(v) for k, v in request.environ.items() if k.startswith("HTTP_")]
    if sizes and (max(sizes) > MAX_HEADER_BYTES or sum(sizes) > MAX_HEADERS_BYTES):
        return json_response(
            {
                "error_code": 431,
                "error_message": "Request Header Fields Too Large: at most "
                f"{MAX_HEADER_BYTES} bytes per header, {MAX_HEADERS_BYTES} in all",
            },
            431,
        )
    return None


def check_inputs() -> None:
    """Hook: refuse a body or query that no operation may see (422 naming each field)."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    max_length = MAX_STRING if req.path.startswith(API_PREFIX) else None
    problems = _query_problems(max_length) if req.query_string else []
    if req.content_length or req.headers.get("Transfer-Encoding"):
        try:
            value = parsed_body()
        except ApiError as exc:
            if exc.body["detail"][0].get("ctx") is None:
                value = _ABSENT  # not JSON: the operation's own parsing answers for it
            else:
                raise
        if not absent(value) and not _plainly_fine(req.get_data(cache=True), max_length):
            problems += body_problems(value, max_length)
    if problems:
        raise validation_errors(problems)
