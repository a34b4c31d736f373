"""Fixtures of the what-if tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.whatif import helpers


@pytest.fixture(scope="module")
def instant_start() -> Iterator[None]:
    """Placement -> Running with no delay at all, for tests that compare with hand arithmetic:
    the helpers' instant timings (no image pull, no worker wait) plus no launcher banner."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(helpers.INSTANT, "banner_s", 0.0)
        yield
