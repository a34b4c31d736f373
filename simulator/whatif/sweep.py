"""What makes a long sweep practical: a wall-clock limit per run, longest runs first, and a cache
of finished runs so an interrupted sweep resumes where it stopped.

- The limit raises :class:`RunTimeout` inside the run's own thread (an asynchronous exception set
  by a timer thread), so it works alike in this process, in worker processes and in Dask worker
  threads; a run that hits it is reported, not cached.
- Runs are submitted longest first (estimated from the workload's size and how few GPUs the
  configuration has: fewer GPUs, longer queues, more scheduling work), so a sweep's stragglers
  start early; results still go back by task index, so the order changes nothing in the report.
- A finished run is stored under a key of everything that determines it (workload, configuration,
  seed, base engine config, bins, horizon, and the simulator's own source, so a changed model
  never serves stale runs), as each run finishes; a second sweep reads the runs it finds and
  computes only the rest.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import os
import pickle
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.workload.generate import GeneratorSpec
from simulator.workload.model import item_to_mapping

if TYPE_CHECKING:
    from simulator.whatif.runner import Task, Workload

RESEND_S = 0.05
CACHE_FORMAT = 1  # bump when a run's result changes shape: old entries are then ignored


class RunTimeout(Exception):
    """A run took longer than its wall-clock limit."""


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`RunTimeout` in this thread if the block runs longer than ``seconds``.

    The exception is sent again every ``RESEND_S`` until the block ends: one that arrives while
    the thread runs a garbage-collector callback (Dask installs one) is dropped by Python."""
    if not seconds:
        yield
        return
    target, lock, done = threading.get_ident(), threading.Lock(), threading.Event()

    def send(exc: type[BaseException] | None) -> None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(target), ctypes.py_object(exc) if exc else None
        )

    def expire() -> None:
        wait = seconds
        while not done.wait(wait):
            with lock:
                if done.is_set():
                    return
                send(RunTimeout)
            wait = RESEND_S

    watchdog = threading.Thread(target=expire, name="whatif-time-limit", daemon=True)
    watchdog.start()
    try:
        yield
    finally:
        while True:  # a late one may land in here: stop the watchdog all the same
            try:
                with lock:
                    done.set()
                    send(None)  # one sent but not yet raised is withdrawn
                break
            except RunTimeout:
                continue


def workload_fingerprint(workload: Workload) -> str:
    """A digest of the workload: the generator's spec (seed aside), or every record."""
    digest = hashlib.sha256()
    if isinstance(workload, GeneratorSpec):
        spec = workload.to_dict()
        spec.pop("seed", None)  # each task draws with its own seed, which is in its key
        digest.update(json.dumps(spec, sort_keys=True).encode())
    else:
        for item in workload:
            digest.update(json.dumps(item_to_mapping(item), sort_keys=True).encode())
    return digest.hexdigest()


@functools.cache
def code_digest() -> str:
    """A digest of the simulator's source and data files."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".yaml"):
            digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def _file_digest(path: str | None) -> str | None:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else None


def task_key(task: Task, fingerprint: str) -> str:
    """The cache key of ``task``: a digest of everything its result depends on."""
    parts = {
        "format": CACHE_FORMAT,
        "code": code_digest(),
        "workload": fingerprint,
        "configuration": task.configuration.to_dict(),
        "seed": task.seed,
        "base": _file_digest(task.base_path),
        "bins": task.bins,
        "horizon_s": task.horizon_s,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class RunCache:
    """Finished runs, one pickle file per key in ``directory`` (written atomically)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.pickle"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            return pickle.loads(self._path(key).read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError):
            return None  # absent, or cut short by a kill mid-write of an older version

    def put(self, key: str, result: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self._path(key))


def estimate(task: Task, size: float) -> float:
    """A relative cost of ``task``: workload size per GPU of its sized pools (unsized: per 1)."""
    pools = task.configuration.engine.get("pools") or []
    gpus = sum(
        group.get("count", 1) * group.get("gpus", 0)
        for pool in pools
        if "job" in pool.get("serves", ["job"])
        for group in pool.get("nodes", [])
    )
    return size / max(1, gpus)
