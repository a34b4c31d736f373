"""A workspace's client of the Public API for tests (Flask test client): every JSON answer is
checked against the official spec."""

from __future__ import annotations

from typing import Any

from tests.support.openapi import validate_response


class PublicApi:
    """One workspace's view of the Public API. ``CHECKED`` names the statuses whose bodies are
    checked against the spec (None: every status, which the spec must then document)."""

    CHECKED: tuple[int, ...] | None = None

    def __init__(self, app: Any, ws_id: str) -> None:
        self.app = app
        self.client = app.test_client()
        self.ws = ws_id
        auth = self.client.post(
            "/public/v2/service_auth", json={"client_id": "k", "client_secret": "s"}
        )
        self.token = auth.get_json()["token"]["access_token"]

    @property
    def world(self) -> Any:
        return self.app.extensions["mlspace_sim"].world

    def headers(self, **extra: str) -> dict[str, str]:
        return {
            "authorization": self.token,
            "x-workspace-id": self.ws,
            "x-api-key": "key-" + self.ws,
            **extra,
        }

    def raw(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = self.headers(**kwargs.pop("headers", {}))
        return self.client.open(f"/public/v2/{path}", method=method, headers=headers, **kwargs)

    def call(self, method: str, path: str, *, status: int = 200, **kwargs: Any) -> Any:
        resp = self.raw(method, path, **kwargs)
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert resp.content_type == "application/json"
        body = resp.get_json()
        if self.CHECKED is None or status in self.CHECKED:
            validate_response(method, path, status, body)
        return body
