"""pytest plugin (auto-loaded once mlspace-sim is installed): the ``mlspace_server`` fixture.

def test_my_training_code(mlspace_server):
    api = TrainingJobApi(endpoint_url=mlspace_server.api_url,
                         **mlspace_server.sdk_credentials())
    ...
    mlspace_server.advance(120)   # virtual seconds; never sleep
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_server.testing import MockServer, running_server


@pytest.fixture
def mlspace_server() -> Iterator[MockServer]:
    """A fresh mock server (seed 0, manual clock, fixed virtual start) on a free loopback port."""
    with running_server(seed=0) as server:
        yield server
