"""The line a benchmark prints for machines: one row of figures with its baseline, ratio, aim
and verdict, so ``readme_table.py`` rebuilds the README's performance table from real runs
instead of hand-copied numbers.

A script calls :func:`emit` once per row after printing its human-readable lines; the row is one
``BENCHMARK-RESULT {json}`` line on stdout. :func:`parse` reads them back from captured output.
"""

from __future__ import annotations

import json
from typing import Any

MARK = "BENCHMARK-RESULT "
FIELDS = ("what", "ours", "baseline", "ratio", "aim", "met")


def emit(
    what: str, ours: str, baseline: str = "", ratio: str = "", aim: str = "",
    met: bool | None = None,
) -> None:  # fmt: skip
    """Print one row: what was measured, our figure, the same-run baseline's figure, the ratio
    between them, the aim, and whether it was met (None when the row has no aim)."""
    row = dict(zip(FIELDS, (what, ours, baseline, ratio, aim, met), strict=True))
    print(MARK + json.dumps(row, ensure_ascii=False), flush=True)


def parse(output: str) -> list[dict[str, Any]]:
    """Every row :func:`emit` printed into ``output``, in order."""
    rows = []
    for line in output.splitlines():
        if line.startswith(MARK):
            row = json.loads(line[len(MARK) :])
            rows.append({k: row.get(k, "" if k != "met" else None) for k in FIELDS})
    return rows
