"""Hardening: the request body limit and the admin API switch and token.

Settings (``server:`` in the config file, or ``create_app(settings=...)``; ``mlspace-sim serve``
sets them from ``--no-admin`` and ``--admin-token``):

* ``max_body_bytes`` — larger bodies get a JSON 413 before any view runs (default 1 MiB);
* ``admin: false`` — every ``/_mock/`` path answers 404 as if it did not exist;
* ``admin_token`` — ``/_mock/`` needs ``x-admin-token: <token>`` or ``Authorization: Bearer
  <token>``, else 401. The Public API and ``/public/v2/openapi.json`` are unaffected. A browser
  opens the console once with ``/_mock/ui?token=<token>``, which sets the token as an HttpOnly,
  SameSite=Strict cookie; the cookie counts on GETs, and on other methods only with the
  console's own ``x-mlspace-console`` header (which a cross-site form cannot send).

The admin API is never open beyond loopback: a server bound to any other address refuses to
start without a token (:func:`refuse_open_admin`), and ``serve`` makes one when none is given
(:func:`admin_token_for`).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from mock_server.errors import json_response

ADMIN_PREFIX = "/_mock"
ADMIN_TOKEN_HEADER = "x-admin-token"
ADMIN_TOKEN_ENV = "MLSPACE_SIM_ADMIN_TOKEN"
CONSOLE_PATH = ADMIN_PREFIX + "/ui"
CONSOLE_COOKIE = "mlspace_sim_admin"
CONSOLE_HEADER = "x-mlspace-console"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def admin_headers() -> dict[str, str]:
    """Headers a client of the admin API sends: the token from ``$MLSPACE_SIM_ADMIN_TOKEN``."""
    token = os.environ.get(ADMIN_TOKEN_ENV)
    return {ADMIN_TOKEN_HEADER: token} if token else {}


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps a server reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may resolve to any interface
        return False


def admin_token_for(host: str, token: str | None, *, admin: bool) -> tuple[str | None, bool]:
    """The admin token a server on ``host`` runs with, and whether it was made up here: the
    given one; else, beyond loopback with the admin API on, a new random one."""
    if token or not admin or is_loopback(host):
        return token or None, False
    return secrets.token_urlsafe(32), True


def refuse_open_admin(settings: dict[str, Any], host: str) -> None:
    """ValueError when a server on ``host`` would open the admin API beyond loopback."""
    if settings.get("admin", True) and not settings.get("admin_token") and not is_loopback(host):
        raise ValueError(
            f"binding {host or 'every address'} opens the admin API beyond loopback: set an "
            f"admin token (--admin-token or ${ADMIN_TOKEN_ENV}) or disable it (--no-admin)"
        )


def _presented_token(req: Any) -> str:
    headers = req.headers
    token = headers.get(ADMIN_TOKEN_HEADER)
    if token:
        return token.strip()
    auth = headers.get("authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    if req.method in SAFE_METHODS and req.path == CONSOLE_PATH and req.args.get("token"):
        return req.args["token"]
    if req.method in SAFE_METHODS or headers.get(CONSOLE_HEADER):
        return req.cookies.get(CONSOLE_COOKIE, "")
    return ""


def _admin_refusal(settings: dict[str, Any]) -> Any:
    """None when this request may use the admin API; otherwise the answer it gets."""
    if not settings.get("admin", True):
        return json_response(
            {
                "error_code": 404,
                "error_message": f"Not Found: {request.method} {request.path}",
                "method": request.method,
                "path": request.path,
            },
            404,
        )
    expected = settings.get("admin_token")
    if not expected:
        return None
    presented = _presented_token(request)
    if presented and hmac.compare_digest(presented.encode(), str(expected).encode()):
        return None
    response = json_response(
        {"error_code": 401, "error_message": "admin token required (x-admin-token header)"}, 401
    )
    response.headers["WWW-Authenticate"] = 'Bearer realm="mlspace-sim admin"'
    return response


def body_limit(settings: dict[str, Any], default: int) -> int:
    """The largest request body accepted (``server.max_body_bytes``, validated)."""
    limit = settings.get("max_body_bytes")
    if limit is None:
        return default
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError("server.max_body_bytes: a positive integer")
    return limit


def guard(settings: dict[str, Any]) -> Callable[[], Any]:
    """The hook that refuses an oversized body and guards ``/_mock/`` (before authentication)."""

    def guard() -> Any:
        req = request._get_current_object()  # type: ignore[attr-defined]
        length = req.content_length
        if length is not None and length > current_app.config["MAX_CONTENT_LENGTH"]:
            raise RequestEntityTooLarge()
        path = req.path
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            return _admin_refusal(settings)
        return None

    return guard
