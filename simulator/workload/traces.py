"""Import of public GPU-cluster traces (CSV): submit time, duration and GPU count per job.

Traces such as Helios (SenseTime) and AcmeTrace (Shanghai AI Lab) publish one row per job with
``submit_time`` (a date or epoch seconds), ``duration`` (run seconds), ``gpu_num``, ``user``,
``vc`` (the team's virtual cluster) and ``state``; other traces map the same roles to their own
column names through :class:`TraceMapping`. Each row becomes a region job:

- submit time: seconds after the earliest submission in the file;
- GPUs: ``g`` GPUs (fractions rounded up) become ``g / k`` workers of the ``k``-GPU instance
  type of the chosen region and GPU model, with ``k`` the largest per-worker size in the catalog
  that divides ``g`` (so the GPU count is kept exactly); rows without GPUs (CPU jobs) are
  skipped and counted;
- run time: ``duration``; state: failed, timeout, node_fail, cancelled, killed -> failure (the
  job ran ``duration`` and stopped, which bills the same as a kill); anything else -> success;
- user -> author, vc -> workspace (constants when the trace has no such column).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from simulator.catalog import Catalog
from simulator.workload.io import sort_items
from simulator.workload.model import (
    DEFAULT_SCRIPT,
    FAILURE,
    JOB,
    SUCCESS,
    WorkloadError,
    WorkloadItem,
)

_FAILURE = {"failed", "failure", "timeout", "node_fail", "cancelled", "canceled", "killed"}


@dataclass(frozen=True)
class TraceMapping:
    """Which trace column plays which role (defaults: Helios / AcmeTrace names)."""

    submit: str = "submit_time"
    duration: str = "duration"
    gpus: str = "gpu_num"
    user: str | None = "user"
    group: str | None = "vc"
    status: str | None = "state"
    default_user: str = "trace-user"
    default_workspace: str = "trace"


def _number(text: str, col: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise WorkloadError(f"{where}: {col}={text!r} is not a number of seconds") from None


def _seconds(text: str, col: str, where: str) -> float:
    """Epoch seconds, or a date (naive dates are taken as UTC; only differences matter)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise WorkloadError(f"{where}: {col}={text!r} is neither seconds nor a date") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _outcome(state: str) -> str:
    return FAILURE if state.strip().lower() in _FAILURE else SUCCESS


def worker_sizes(catalog: Catalog, region: str, gpu_model: str) -> dict[int, str]:
    """Instance type per GPUs-per-worker for ``gpu_model`` in ``region`` (first type wins)."""
    sizes: dict[int, str] = {}
    for key, itype in catalog.region(region).instance_types.items():
        if itype.gpu_model == gpu_model and itype.gpus:
            sizes.setdefault(itype.gpus, key)
    if not sizes:
        raise WorkloadError(f"region {region} has no instance type with GPU model {gpu_model}")
    return sizes


def shape(gpus: int, sizes: dict[int, str]) -> tuple[str, int]:
    """(instance type, workers) holding exactly ``gpus`` GPUs with the fewest workers."""
    divisors = [s for s in sizes if gpus % s == 0]
    if not divisors:
        raise WorkloadError(f"{gpus} GPUs cannot be split into workers of sizes {sorted(sizes)}")
    k = max(divisors)
    return sizes[k], gpus // k


def import_trace(
    path: str | Path,
    catalog: Catalog,
    *,
    mapping: TraceMapping | None = None,
    region: str = "A100-MT",
    gpu_model: str = "A100-80GB",
) -> tuple[list[WorkloadItem], int]:
    """Jobs of a trace CSV, in submission order, and how many rows were skipped (no GPUs)."""
    m = mapping or TraceMapping()
    sizes = worker_sizes(catalog, region, gpu_model)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    parsed: list[tuple[float, dict[str, str], int, str]] = []
    skipped = 0
    for n, row in enumerate(rows, start=2):
        where = f"{path}:{n}"
        for col in (m.submit, m.duration, m.gpus):
            if row.get(col) in (None, ""):
                raise WorkloadError(f"{where}: missing column {col!r}")
        gpus = float(row[m.gpus])
        if gpus <= 0 or not math.isfinite(gpus):
            skipped += 1
            continue
        parsed.append((_seconds(row[m.submit], m.submit, where), row, math.ceil(gpus), where))
    origin = min((p[0] for p in parsed), default=0.0)
    items = []
    for t, row, gpus, where in parsed:
        itype, workers = shape(gpus, sizes)
        items.append(
            WorkloadItem(
                submit_s=t - origin,
                workspace=(row.get(m.group) if m.group else None) or m.default_workspace,
                author=(row.get(m.user) if m.user else None) or m.default_user,
                kind=JOB,
                region=region,
                instance_type=itype,
                n_workers=workers,
                run_s=_number(row[m.duration], m.duration, where),
                outcome=_outcome(row.get(m.status) or "") if m.status else SUCCESS,
                script=DEFAULT_SCRIPT,
            ).check(where)
        )
    return sort_items(items), skipped
