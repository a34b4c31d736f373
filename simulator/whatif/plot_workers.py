"""The what-if's plots rendered by worker processes, started before the replay when it runs here.

Importing matplotlib takes about 0.3 s and the six plots about 0.65 s of one core, as long as the
year's replay itself. Workers started before a replay that runs in this process import
matplotlib on another core meanwhile, then split the plots between them: the year end to end,
plots included, took 1.89 s wall instead of 2.24 on two cores. Each worker also draws a
throwaway plot while it waits (fonts, renderer, the mathtext parser: about 0.2 s a process's
first plot would pay), and the plots go out longest first so the two workers finish together:
3.10 s instead of 3.28 on a slower host (mean of 4 alternating runs). A sweep's runs have worker
processes of their own, so the plot workers start after them. With one core the plots are drawn
here, after the runs, as before. This module does not import matplotlib itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from itertools import repeat

from simulator.whatif.runner import WhatIfResult

MAX_WORKERS = 2  # each imports matplotlib; six plots split in two halves nearly evenly


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask where there is one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _warm_up() -> None:
    from simulator.whatif.plots import warm_up

    warm_up()


def _names() -> tuple[list[str], tuple[str, ...]]:
    """The plots in the report's order, and in the order to draw them."""
    from simulator.whatif.plots import LONGEST_FIRST, PLOTS

    return list(PLOTS), LONGEST_FIRST


def _render(name: str, result: WhatIfResult) -> bytes:
    from simulator.whatif.plots import render

    return render(name, result)


class PlotRenderer:
    """Renders every plot of a result: in ``workers`` worker processes when there are two or
    more, else here."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self._names: Future[tuple[list[str], tuple[str, ...]]] | None = None

    def start(self) -> None:
        """Start the workers now, so they import matplotlib and warm up while this process goes
        on. Only while this process starts no other worker processes (a sweep's): a process
        forked while another pool's threads hold a lock may inherit it held."""
        if self.workers >= 2 and self.pool is None:
            self.pool = ProcessPoolExecutor(self.workers, initializer=_warm_up)
            self._names = self.pool.submit(_names)

    def render(self, result: WhatIfResult) -> dict[str, bytes]:
        self.start()
        if self.pool is None or self._names is None:
            from simulator.whatif.plots import render_all

            return render_all(result)
        names, order = self._names.result()
        drawn = dict(zip(order, self.pool.map(_render, order, repeat(result)), strict=True))
        return {name: drawn[name] for name in names}

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


@contextmanager
def plot_renderer(workers: int | None = None) -> Iterator[PlotRenderer]:
    """A renderer with ``workers`` (default up to :data:`MAX_WORKERS` of the usable cores; none
    with a single core), shut down on the way out. Its workers start on :meth:`PlotRenderer.start`
    or at the first render."""
    renderer = PlotRenderer(min(MAX_WORKERS, usable_cores()) if workers is None else workers)
    try:
        yield renderer
    finally:
        renderer.close()
