"""A mock server on a free loopback port, in a thread, with a manual clock: for tests.

with running_server(seed=7) as srv:
    api = TrainingJobApi(endpoint_url=srv.api_url, **srv.sdk_credentials())
    ...
    srv.advance(60)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from mock_server.app import create_app
from mock_server.server import BackgroundServer
from simulator.world import World

DEFAULT_START_EPOCH = 1_740_564_000.0  # 2025-02-26T10:00:00Z, a fixed virtual start for tests


@dataclass(frozen=True)
class Credentials:
    client_id: str = "sim-key-id"
    client_secret: str = "sim-key-secret"
    workspace_id: str = "11111111-1111-4111-8111-111111111111"
    api_key: str = "sim-api-key"


@dataclass
class MockServer:
    """A running mock: URLs, credentials, the World, and clock control."""

    app: Any
    port: int
    credentials: Credentials = field(default_factory=Credentials)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/public/v2"

    @property
    def world(self) -> World:
        return self.app.extensions["mlspace_sim"].world

    def advance(self, seconds: float) -> float:
        """Move virtual time forward; returns the new virtual epoch."""
        return self.world.advance(seconds)

    def run_until_idle(self) -> float:
        return self.world.run_until_idle()

    def reset(self, seed: int | None = None) -> None:
        self.app.extensions["mlspace_sim"].reset(seed)

    def sdk_credentials(self, creds: Credentials | None = None) -> dict[str, Any]:
        """Keyword arguments for any ``mls_core`` API class constructor."""
        c = creds or self.credentials
        return {
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "x_workspace_id": c.workspace_id,
            "x_api_key": c.api_key,
        }

    def headers(self, creds: Credentials | None = None) -> dict[str, str]:
        """Fresh auth headers, as the SDK sends them (raw token in ``authorization``)."""
        c = creds or self.credentials
        r = requests.post(
            f"{self.api_url}/service_auth",
            json={"client_id": c.client_id, "client_secret": c.client_secret},
            timeout=10,
        )
        r.raise_for_status()
        return {
            "authorization": r.json()["token"]["access_token"],
            "x-workspace-id": c.workspace_id,
            "x-api-key": c.api_key,
        }

    def write_mls_profile(
        self,
        home: Path,
        *,
        region: str = "SR006",
        output: str = "json",
        creds: Credentials | None = None,
    ) -> Path:
        """``$HOME/.mls/config`` and ``credentials`` pointing the ``mls`` CLI at this server."""
        c = creds or self.credentials
        mls = Path(home) / ".mls"
        mls.mkdir(parents=True, exist_ok=True)
        (mls / "config").write_text(
            f"[default]\nregion = {region}\noutput = {output}\nendpoint_url = {self.api_url}\n"
        )
        (mls / "credentials").write_text(
            f"[default]\nkey_id = {c.client_id}\nkey_secret = {c.client_secret}\n"
            f"x_workspace_id = {c.workspace_id}\nx_api_key = {c.api_key}\n"
        )
        return mls


@contextmanager
def running_server(**app_kwargs: Any) -> Iterator[MockServer]:
    """Start ``create_app(**app_kwargs)`` (manual clock, fixed start unless given) in a thread."""
    app_kwargs.setdefault("clock", "manual")
    app_kwargs.setdefault("start_epoch", DEFAULT_START_EPOCH)
    app = create_app(**app_kwargs)
    bg = BackgroundServer(app).start()
    try:
        yield MockServer(app, bg.port)
    finally:
        bg.stop()
