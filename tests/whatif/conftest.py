"""Fixtures of the what-if tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import simulator.engine


@pytest.fixture(scope="module")
def instant_start() -> Iterator[None]:
    """Placement -> Running with no delay at all, for tests that compare with hand arithmetic.

    The helpers' config already sets image pull and worker wait to 0; this also zeroes the
    engine's fixed banner delay (0.08 s), which is not a config timing.
    """
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(simulator.engine, "BANNER_TO_WAIT_S", 0.0, raising=False)
        yield
