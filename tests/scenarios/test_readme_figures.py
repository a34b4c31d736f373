"""The README's scenario figures are what replaying the scenarios shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import scenarios
from scenarios import figures
from scenarios.runner import Report

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_figures_are_the_replayed_ones(replayed: Callable[[str], Report]) -> None:
    reports = {name: replayed(name) for name in scenarios.names()}
    assert figures.block(README.read_text(encoding="utf-8")) == figures.measure(reports)
