"""The README's scenario figures are what replaying the scenarios shows."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import scenarios
from scenarios import figures
from scenarios.runner import Report

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_figures_are_the_replayed_ones(replayed: Callable[[str], Report]) -> None:
    reports = {name: replayed(name) for name in scenarios.names()}
    assert figures.block(README.read_text(encoding="utf-8")) == figures.measure(reports)


def test_the_command_tables_training_counts_are_the_replayed_ones() -> None:
    """Counts in the prose table agree with the generated block (itself checked above)."""
    readme = README.read_text(encoding="utf-8")
    table = figures.block(readme)
    replayed_counts = {
        (row[1].strip("` "), row[4].strip())
        for row in (r.split("|") for r in table.splitlines()[2:])
    }
    rows = re.findall(r"^\| `mlspace-sim scenario run (\w+)` \| (.*) \|$", readme, re.M)
    claims = [
        (name, f"{n} {'epochs' if unit.startswith('epoch') else unit}")
        for name, text in rows
        for n, unit in re.findall(r"(\d+) (epochs|steps|epoch bars)", text)
    ]
    assert len(claims) >= 3
    for claim in claims:
        assert claim in replayed_counts, f"README says {claim}, the replay shows otherwise"
