"""Where the runs of a sweep execute: this process, local processes, or a Dask cluster.

Every executor runs the same pure function on the same picklable tasks and hands results back
by task index, so the report is identical whichever executor produced it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol

DASK_SCHEME = "dask://"


class Executor(Protocol):
    """Runs ``fn`` over ``tasks``; yields (task index, result) as runs finish."""

    name: str

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]: ...


class SerialExecutor:
    """In this process, one run after another (also what a single run uses)."""

    name = "serial"

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        for i, task in enumerate(tasks):
            yield i, fn(task)


class ProcessExecutor:
    """Local worker processes (the default for sweeps)."""

    name = "processes"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks))) as pool:
            futures = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()


class DaskExecutor:
    """An existing Dask distributed scheduler at ``host:port`` (extra ``distributed``)."""

    name = "dask"

    def __init__(self, address: str) -> None:
        self.address = address

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        try:
            from distributed import Client
            from distributed import as_completed as dask_completed
        except ImportError as exc:  # pragma: no cover - the extra is part of the test install
            raise RuntimeError(
                "the dask executor needs the 'distributed' extra: "
                "pip install 'mlspace-sim[distributed]'"
            ) from exc
        with Client(self.address, set_as_default=False) as client:
            futures = client.map(fn, list(tasks), pure=False)
            index = {fut.key: i for i, fut in enumerate(futures)}
            for fut in dask_completed(futures, loop=client.loop):
                yield index[fut.key], fut.result()


def runs_in_process(spec: str | None, tasks: int) -> bool:
    """Whether ``tasks`` runs with executor ``spec`` (as :func:`make_executor` takes it) run in
    this process: a single run always does, and so does ``serial``."""
    return tasks <= 1 or spec == "serial"


def make_executor(spec: str | None, workers: int | None = None) -> Executor:
    """``serial``, ``processes`` (default) or ``dask://HOST:PORT``."""
    if spec in (None, "", "processes", "local"):
        return ProcessExecutor(workers)
    if spec == "serial":
        return SerialExecutor()
    if spec.startswith(DASK_SCHEME):
        address = spec[len(DASK_SCHEME) :]
        if not address:
            raise ValueError("dask executor needs an address: dask://HOST:PORT")
        return DaskExecutor(address if "://" in address else f"tcp://{address}")
    raise ValueError(f"unknown executor {spec!r}: use processes, serial or dask://HOST:PORT")
