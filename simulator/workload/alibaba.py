"""Import of the Alibaba GPU cluster trace v2026 job table as ML Space training jobs.

The table has one row per job: ``job_name, organization, gpu_model, cpu_request, gpu_request,
worker_num, submit_time, duration, job_type``. Each row with GPUs becomes one region job:

- GPUs: ``gpu_request`` is per worker (a fraction, from GPU sharing, is rounded up: an ML Space
  worker holds whole GPUs), so the job holds ``ceil(gpu_request) x worker_num`` GPUs; it keeps
  the trace's ``worker_num`` workers when the catalog has a type of that many GPUs for the GPU
  model, else the GPUs are regrouped into the fewest workers of one size (as for Helios);
  rows without GPUs (CPU jobs) are skipped and counted;
- ``gpu_model``: every model runs on ``--region``/``--gpu-model``, unless ``model_map`` names a
  (region, catalog GPU model) for it; ``cpu_request`` is not kept (an instance type fixes CPUs);
- ``job_type``: ``HP`` (high priority) -> priority ``high``; ``Spot`` -> priority ``low``, which
  high-priority jobs may evict when the engine's preemption is on (``whatif --preemption yes``);
- submit time (seconds or a date) -> seconds after the earliest submission; ``duration`` -> run
  seconds (the trace has no final state: every job succeeds); ``organization`` -> workspace,
  ``job_name`` -> the job's name; the author is a constant (the table names no users).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from simulator.catalog import Catalog
from simulator.workload.io import sort_items
from simulator.workload.model import DEFAULT_SCRIPT, JOB, SUCCESS, WorkloadError, WorkloadItem
from simulator.workload.traces import _number, _seconds, shape, worker_sizes

COLUMNS = (
    "job_name", "organization", "gpu_model", "cpu_request", "gpu_request", "worker_num",
    "submit_time", "duration", "job_type",
)  # fmt: skip
PRIORITIES = {"hp": "high", "spot": "low"}  # job_type -> ML Space priority class
AUTHOR = "trace-user"

ModelMap = dict[str, tuple[str, str]]  # trace gpu_model -> (region, catalog gpu model)


def is_alibaba_2026(header: list[str]) -> bool:
    """Whether a CSV header is the v2026 job table's."""
    return set(COLUMNS) <= set(header)


def import_alibaba_2026(
    path: str | Path,
    catalog: Catalog,
    *,
    region: str = "A100-MT",
    gpu_model: str = "A100-80GB",
    model_map: ModelMap | None = None,
) -> tuple[list[WorkloadItem], int]:
    """Jobs of a v2026 job table, in submission order, and how many rows were skipped (no GPUs)."""
    targets = {None: (region, gpu_model), **(model_map or {})}
    sizes = {key: worker_sizes(catalog, *target) for key, target in targets.items()}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise WorkloadError(f"{path}: not a v2026 job table, missing columns {missing}")
        rows = list(reader)
    parsed = []
    skipped = 0
    for n, row in enumerate(rows, start=2):
        where = f"{path}:{n}"
        per_worker = _number(row["gpu_request"], "gpu_request", where)
        workers = _number(row["worker_num"], "worker_num", where)
        if not workers.is_integer() or workers < 1:
            raise WorkloadError(f"{where}: worker_num={row['worker_num']!r} is not a count")
        if per_worker <= 0 or not math.isfinite(per_worker):
            skipped += 1
            continue
        kind = row["job_type"].strip().lower()
        if kind not in PRIORITIES:
            raise WorkloadError(f"{where}: job_type={row['job_type']!r} is neither HP nor Spot")
        t = _seconds(row["submit_time"], "submit_time", where)
        parsed.append((t, row, math.ceil(per_worker), int(workers), PRIORITIES[kind], where))
    origin = min((p[0] for p in parsed), default=0.0)
    items = []
    for t, row, per_worker, workers, priority, where in parsed:
        model = row["gpu_model"].strip()
        key = model if model in targets else None
        fits = sizes[key]
        itype, n = (
            (fits[per_worker], workers) if per_worker in fits else shape(per_worker * workers, fits)
        )
        items.append(
            WorkloadItem(
                submit_s=t - origin,
                workspace=row["organization"].strip() or "trace",
                author=AUTHOR,
                kind=JOB,
                region=targets[key][0],
                instance_type=itype,
                n_workers=n,
                priority=priority,
                run_s=_number(row["duration"], "duration", where),
                outcome=SUCCESS,
                name=row["job_name"].strip(),
                script=DEFAULT_SCRIPT,
            ).check(where)
        )
    return sort_items(items), skipped
