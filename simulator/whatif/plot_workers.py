"""The what-if's plots rendered by worker processes started before the replay.

Importing matplotlib takes about 0.3 s and the six plots about 0.65 s of one core, as long as the
year's replay itself. Workers started before the replay import matplotlib on another core while
this process replays, then split the plots between them: the year end to end, plots included,
took 1.89 s wall instead of 2.24 on two cores. With one core the plots are drawn here, after the
replay, as before. This module does not import matplotlib itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from itertools import repeat

from simulator.whatif.runner import WhatIfResult

MAX_WORKERS = 2  # each imports matplotlib; six plots split in two halves nearly evenly


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask where there is one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _import_plots() -> None:
    import simulator.whatif.plots  # noqa: F401  (the import is the warm-up)


def _names() -> list[str]:
    from simulator.whatif.plots import PLOTS

    return list(PLOTS)


def _render(name: str, result: WhatIfResult) -> bytes:
    from simulator.whatif.plots import render

    return render(name, result)


class PlotRenderer:
    """Renders every plot of a result, in the workers when there are any, else here."""

    def __init__(self, pool: ProcessPoolExecutor | None) -> None:
        self.pool = pool
        # asked now, so the workers start (and import matplotlib) while the replay runs
        self._names = pool.submit(_names) if pool else None

    def render(self, result: WhatIfResult) -> dict[str, bytes]:
        if self.pool is None or self._names is None:  # both, for the type checker
            from simulator.whatif.plots import render_all

            return render_all(result)
        names = self._names.result()
        return dict(zip(names, self.pool.map(_render, names, repeat(result)), strict=True))


@contextmanager
def plot_renderer(workers: int | None = None) -> Iterator[PlotRenderer]:
    """A renderer whose workers (``workers``, default up to :data:`MAX_WORKERS` of the usable
    cores) start now; none with a single core."""
    n = min(MAX_WORKERS, usable_cores()) if workers is None else workers
    if n < 2:
        yield PlotRenderer(None)
        return
    pool = ProcessPoolExecutor(n, initializer=_import_plots)
    try:
        yield PlotRenderer(pool)
    finally:
        pool.shutdown(cancel_futures=True)
