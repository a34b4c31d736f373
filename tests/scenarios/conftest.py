"""One in-process replay per scenario per test process, shared by the replay, calibration and
README-figures tests (a replay is deterministic: seed 0, manual clock)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import scenarios
from scenarios.runner import Report, run_in_process


@pytest.fixture(scope="session")
def replayed() -> Callable[[str], Report]:
    done: dict[str, Report] = {}

    def replay(name: str) -> Report:
        if name not in done:
            done[name] = run_in_process(scenarios.load(name))
        return done[name]

    return replay
