"""The app most API tests start from (seed 0, the default start, a manual clock) and its World."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH


@pytest.fixture
def app() -> Any:
    return create_app(seed=0, start_epoch=DEFAULT_START_EPOCH)


@pytest.fixture
def world(app: Any) -> Any:
    return app.extensions["mlspace_sim"].world
