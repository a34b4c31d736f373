"""``POST service_auth``: key pair in, access token out (the only call without auth headers)."""

from __future__ import annotations

from typing import Any

from mock_server.errors import json_response, platform_error
from mock_server.params import json_body
from mock_server.state import state


def service_auth() -> Any:
    body = json_body()
    issued = state().auth.issue(body.get("client_id"), body.get("client_secret"))
    if issued is None:
        raise platform_error(401, 1, "invalid user credentials")
    token, ttl = issued
    return json_response(
        {
            "token": {"access_token": token, "token_type": "Bearer", "expires_in": ttl},
            "status": "ok",
            "error_code": 0,
            "error_message": "",
        }
    )
