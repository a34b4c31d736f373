"""ML Space-shaped JSON responses and errors (Content-Type exactly ``application/json``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response
from pydantic import BaseModel, ValidationError

from simulator.errors import Conflict, NotFound, Refused, Rejected

JSON = "application/json"
_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps with an option builds one a call


def json_response(body: Any, status: int = 200) -> Response:
    """JSON with the exact content type the SDK compares against (no charset parameter).

    A lone surrogate (legal in JSON as ``"\\udfff"``, so a client can send one) cannot be
    UTF-8 encoded; it goes back as that same escape instead of failing the response.
    """
    text = _encode(body)
    return Response(text.encode("utf-8", "backslashreplace"), status=status, content_type=JSON)


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


def _summary(items: list[dict[str, Any]]) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in items)


UNPROCESSABLE: dict[str, Callable[[list[dict[str, Any]]], dict[str, Any]]] = {
    # FastAPI's own handler: pydantic's error records
    "fastapi": lambda items: {"detail": items},
    # the notebooks module's creation endpoints (spec: UnprocessableCreationErrorPayload, code 4)
    "servers": lambda items: {
        "code": 4,
        "detail": "Unprocessable Entity",
        "message": _summary(items),
    },
}
"""422 body shapes per platform module, from FastAPI-style error records."""


def validation_errors(items: list[dict[str, Any]], dialect: str = "fastapi") -> ApiError:
    """The 422 of refused input (FastAPI-style ``items``) in the shape of module ``dialect``."""
    return ApiError(422, UNPROCESSABLE[dialect](items))


def pydantic_errors(errors: list[dict[str, Any]], prefix: tuple[Any, ...] = ("body",)) -> ApiError:
    """FastAPI's 422 from pydantic's own error records, ``loc`` under ``prefix``."""
    items = [{**e, "loc": [*prefix, *e["loc"]]} for e in errors]
    return validation_errors(json.loads(json.dumps(items, default=str)))  # ctx may hold objects


M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], body: Any) -> M:
    """``body`` validated by ``model``, or FastAPI's 422 with pydantic's errors."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise pydantic_errors(exc.errors(include_url=False)) from None


# ---- the engine's refusals, answered as the platform answers them ----------------------------
STATUS: dict[type[Rejected], int] = {Refused: 400, NotFound: 404, Conflict: 409}
"""The one place an engine refusal becomes an HTTP status."""

Body = Callable[[Rejected], dict[str, Any]]

BODIES: dict[str, dict[type[Rejected], Body]] = {
    # the jobs service: one shape for every status; its generic refusal's code is 400 (the spec)
    "platform": {
        Rejected: lambda e: {
            "error_code": 400 if e.error_code is None else e.error_code,
            "error_message": e.message,
        }
    },
    # the notebooks module (Jupyter Servers, TensorBoards): a shape per status, as in the spec
    "servers": {
        Conflict: lambda e: {"code": e.error_code, "detail": e.message, "message": e.message},
        NotFound: lambda e: {"detail": e.message},
        Rejected: lambda e: {"details": e.message, "status": "error"},
    },
    # FastAPI modules answering ``HTTPException(detail=...)`` (builds, data transfers)
    "detail": {Rejected: lambda e: {"detail": e.message}},
}
"""Body shapes per platform module (``dialect``), most specific refusal class first."""


def _first(table: dict[type[Rejected], Any], exc: Rejected) -> Any:
    return next(table[cls] for cls in type(exc).__mro__ if cls in table)


def refusal(exc: Rejected, dialect: str) -> ApiError:
    """The platform's answer to an engine refusal, in the shapes of module ``dialect``."""
    return ApiError(_first(STATUS, exc), _first(BODIES[dialect], exc)(exc))
