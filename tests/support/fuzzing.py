"""Checks and request steering shared by the schemathesis runs (our document, the official spec).

Whatever a fuzzer sends, the server must not crash (5xx only where the spec documents one, never
the crash handler's 500), every
JSON answer carries exactly ``application/json`` and parses, and a 204 has no body.
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

from mock_server.auth import namespace_for
from mock_server.testing import Credentials

CRASH = "Oops, something went wrong"
JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
CSV = "text/csv; charset=utf-8"  # the bill as FOCUS rows (/_mock/billing?format=focus)
SERIAL = itertools.count()


def content_type(response: Any) -> str:
    return response.headers.get("content-type", [""])[0]


def json_body(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise AssertionError(f"not JSON: {response.content[:200]!r}") from None


def own_method(case: Any) -> bool:
    """Whether the case calls its operation (not another method probed on the same path)."""
    return case.method == case.operation.method.upper()


def no_undeclared_server_error(ctx: Any, response: Any, case: Any) -> None:
    """5xx only where the platform answers so on purpose, never the crash handler's 500."""
    status = response.status_code
    if status < 500:
        return
    body = json_body(response)
    message = body.get("error_message", "") if isinstance(body, dict) else ""
    declared = str(status) in case.operation.definition.raw.get("responses", {})
    assert own_method(case) and declared and message != CRASH, f"server error {status}: {body}"


def exact_json(ctx: Any, response: Any, case: Any) -> None:
    """JSON answers are exactly ``application/json`` and parse; errors are always JSON; a 204
    (and HEAD, OPTIONS) has no body and so no content type."""
    ctype = content_type(response)
    if response.status_code == 204 or case.method in ("HEAD", "OPTIONS"):
        assert not response.content, f"{case.method} {response.status_code} with a body"
        assert response.status_code != 204 or not ctype, f"a 204 with Content-Type {ctype!r}"
        return
    if response.status_code >= 400 or ctype.startswith("application/json"):
        assert ctype == JSON, f"{response.status_code} answered with Content-Type {ctype!r}"
        json_body(response)
    else:
        assert ctype in (JSON, TEXT, CSV), f"unexpected Content-Type {ctype!r}"


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def steer(case: Any, creds: Credentials) -> None:
    """Steer generated requests past what a fuzzer cannot guess: path namespaces and
    well-formed workspace ids are the caller's own, and new servers get unused names, so bodies
    reach the create, rule and engine logic. Malformed ids stay as generated (the 422 paths)."""
    params = case.path_parameters or {}
    if "namespace" in params:
        params["namespace"] = namespace_for(creds.workspace_id)
    if is_uuid(params.get("workspace_id")):
        params["workspace_id"] = creds.workspace_id
    body = case.body if isinstance(case.body, dict) else {}
    if case.path.endswith(("/notebook", "/tensorboard")) and isinstance(body.get("name"), str):
        body["name"] += f"-{next(SERIAL)}"
