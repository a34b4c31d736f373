"""ML Space-shaped JSON responses and errors (Content-Type exactly ``application/json``)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

JSON = "application/json"


def json_response(body: Any, status: int = 200) -> Response:
    """JSON with the exact content type the SDK compares against (no charset parameter).

    A lone surrogate (legal in JSON as ``"\\udfff"``, so a client can send one) cannot be
    UTF-8 encoded; it goes back as that same escape instead of failing the response.
    """
    text = json.dumps(body, ensure_ascii=False)
    return Response(text.encode("utf-8", "backslashreplace"), status=status, mimetype=JSON)


class ApiError(Exception):
    """Raised anywhere in a request to answer ``status`` with ``body``."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body

    def response(self) -> Response:
        return json_response(self.body, self.status)


def platform_error(status: int, code: int, message: str) -> ApiError:
    """The jobs/auth style: ``{"error_code", "error_message"}``."""
    return ApiError(status, {"error_code": code, "error_message": message})


def detail_error(status: int, detail: Any, **extra: Any) -> ApiError:
    """The FastAPI-module style used by notebooks, allocations and others: ``{"detail": ...}``."""
    return ApiError(status, {"detail": detail, **extra})


def validation_error(loc: list[Any], msg: str, type_: str, **extra: Any) -> ApiError:
    """FastAPI/pydantic v2 422: ``{"detail": [{"type", "loc", "msg", ...}]}``."""
    return ApiError(422, {"detail": [{"type": type_, "loc": loc, "msg": msg, **extra}]})


def validation_errors(items: list[dict[str, Any]]) -> ApiError:
    return ApiError(422, {"detail": items})
