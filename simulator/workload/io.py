"""The workload file format: CSV (one header row, columns of :data:`COLUMNS`) or JSON.

JSON is ``{"format": "mlspace-sim/workload", "version": 1, "items": [...]}`` (a bare list of
objects is read too). Blank CSV cells and missing JSON keys take the defaults of
:class:`~simulator.workload.model.WorkloadItem`. Records are returned sorted by ``submit_s``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simulator.workload.model import (
    COLUMNS,
    WorkloadError,
    WorkloadItem,
    item_from_mapping,
    item_to_mapping,
)

FORMAT = "mlspace-sim/workload"
VERSION = 1


def _fmt(path: str | Path, fmt: str | None) -> str:
    fmt = fmt or Path(path).suffix.lower().lstrip(".")
    if fmt not in ("csv", "json"):
        raise WorkloadError(f"{path}: unknown workload format {fmt!r} (use .csv or .json)")
    return fmt


def sort_items(items: Iterable[WorkloadItem]) -> list[WorkloadItem]:
    """Records in submission order (stable: equal times keep their file order)."""
    return sorted(items, key=lambda it: it.submit_s)


def read_workload(path: str | Path, fmt: str | None = None) -> list[WorkloadItem]:
    """Read a workload file (format from ``fmt`` or the file's extension)."""
    if _fmt(path, fmt) == "csv":
        texts: dict[str, str] = {}
        with open(path, newline="", encoding="utf-8") as fh:  # a row at a time, not all rows
            rows = enumerate(csv.DictReader(fh), start=2)
            return sort_items(item_from_mapping(row, f"{path}:{n}", texts) for n, row in rows)
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return items_from_json(data, str(path))


def items_from_json(data: Any, where: str = "workload") -> list[WorkloadItem]:
    """Records from a parsed JSON workload document (or a bare list of objects)."""
    if isinstance(data, dict):
        if data.get("format", FORMAT) != FORMAT:
            raise WorkloadError(f"{where}: not a workload document (format={data['format']!r})")
        data = data.get("items")
    if not isinstance(data, list):
        raise WorkloadError(f"{where}: expected a list of records under 'items'")
    items, texts = [], {}
    for n, obj in enumerate(data):
        if not isinstance(obj, dict):
            raise WorkloadError(f"{where}[{n}]: each record must be a JSON object")
        items.append(item_from_mapping(obj, f"{where}[{n}]", texts))
    return sort_items(items)


def workload_document(items: Iterable[WorkloadItem]) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "items": [item_to_mapping(i) for i in items]}


def write_workload(items: Iterable[WorkloadItem], path: str | Path, fmt: str | None = None) -> None:
    """Write records as CSV (every column, blanks for what does not apply) or JSON."""
    if _fmt(path, fmt) == "json":
        Path(path).write_text(json.dumps(workload_document(items), indent=1) + "\n", "utf-8")
        return
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        for item in items:
            writer.writerow(item_to_mapping(item))
