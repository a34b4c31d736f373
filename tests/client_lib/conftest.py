"""A loopback mock server with the examples' runtime models, which client_lib finds through the
documented ``MLSPACE_SIM_URL`` variable (credentials: the defaults)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import scenarios
from client_lib._session import close_connections
from mock_server.testing import MockServer, running_server


@pytest.fixture
def ml_space(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockServer]:
    with running_server(settings={"log_follow_max_s": 0.0}) as srv:
        scenarios.register_all(srv.world)
        monkeypatch.setenv("MLSPACE_SIM_URL", srv.api_url)
        monkeypatch.setenv("MLSPACE_SIM_LOG_IDLE_S", "0.5")
        yield srv
        close_connections()
