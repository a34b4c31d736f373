"""Workloads for the what-if analyser: one record format, three sources.

- :func:`generate` makes a synthetic, seeded workload (:class:`GeneratorSpec`);
- :func:`read_workload` / :func:`write_workload` read and write the CSV and JSON files;
- :func:`import_trace` maps a public GPU-cluster trace (submit time, duration, GPU count);
- :func:`workload_from_journal` replays what a running server accepted (``GET /_mock/journal``).
"""

from simulator.workload.generate import GeneratorSpec, generate
from simulator.workload.io import read_workload, write_workload
from simulator.workload.journal import workload_from_journal
from simulator.workload.model import COLUMNS, WorkloadError, WorkloadItem
from simulator.workload.traces import TraceMapping, import_trace

__all__ = [
    "COLUMNS",
    "GeneratorSpec",
    "TraceMapping",
    "WorkloadError",
    "WorkloadItem",
    "generate",
    "import_trace",
    "read_workload",
    "workload_from_journal",
    "write_workload",
]
