"""Following a running job's log without starving the rest of the server.

A follow holds its request open while the job runs, for at most ``log_follow_max_s`` wall
seconds, and waitress gives it a worker thread for all that time. So follows get their own
bounded share of threads: the server runs ``log_follow_slots`` threads on top of the ones for
everything else (``mock_server.server``), a follow takes a slot for as long as it streams, and a
follow that finds every slot taken is refused at once with the platform's 429 (``Retry-After:
1``) instead of queueing behind the others. Other requests never wait for a follow.

A follow does not poll a frozen clock: it sleeps on the World's change counter, which wakes it
when virtual time moves or a command acts (a kill, a reset). Under a realtime clock the log grows
with wall time, so it also looks every ``log_poll_s``.

Settings (``server:`` in the config file, or ``create_app(settings=...)``):
``log_follow_slots`` (default 64), ``log_follow_max_s`` (20), ``log_poll_s`` (0.05).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from mock_server.errors import json_response
from simulator.jobs import RUNNING, Job
from simulator.world import World

FOLLOW_SLOTS = 64
RETRY_AFTER_S = 1
EXTENSION = "mlspace_sim.follows"


class Follows:
    """The slots of concurrent follows, and the count of server stops (a follow ends when a stop
    happens after it began; the app may be served again afterwards)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        slots = settings.get("log_follow_slots", FOLLOW_SLOTS)
        if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
            raise ValueError("server.log_follow_slots: a positive integer")
        for name in ("log_follow_max_s", "log_poll_s"):
            value = settings.get(name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"server.{name}: a number of seconds >= 0")
        self.slots = slots
        self.max_s = float(settings["log_follow_max_s"])
        self.poll_s = float(settings["log_poll_s"])
        self._free = threading.BoundedSemaphore(slots)
        self.stops = 0

    def take(self) -> Callable[[], None] | None:
        """A slot's release (call it once), or None when every slot is in use."""
        if not self._free.acquire(blocking=False):
            return None
        once = threading.Lock()

        def release() -> None:
            if once.acquire(blocking=False):
                self._free.release()

        return release


def follows(app: Any) -> Follows:
    """The app's follow slots (made, and the settings checked, on first use)."""
    found = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions.setdefault(
            EXTENSION, Follows(app.extensions["mlspace_sim"].settings)
        )
    return found


def follow_slots(app: Any) -> int:
    """Threads a server must add for follows: 0 for an app that is not the mock."""
    extensions = getattr(app, "extensions", {})
    return follows(app).slots if "mlspace_sim" in extensions else 0


def stop_all(app: Any) -> None:
    """End every follow now (the server is stopping)."""
    if "mlspace_sim" in getattr(app, "extensions", {}):
        follows(app).stops += 1
        app.extensions["mlspace_sim"].world.changes.bump()


def busy() -> Any:
    """The answer to a follow beyond the slots: the platform's 429, retry in a second."""
    response = json_response(
        {"error_code": 429, "error_message": "Too many log streams open; retry later"}, 429
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


class Stream:
    """A follow's body: gives its slot back when the server closes it, read to the end or not
    (an unstarted generator's ``finally`` never runs, so the release cannot live there)."""

    def __init__(self, chunks: Iterator[bytes], release: Callable[[], None]) -> None:
        self._chunks = chunks
        self._release = release

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def close(self) -> None:
        try:
            self._chunks.close()  # type: ignore[attr-defined]
        finally:
            self._release()


def lines_while_running(
    world: World,
    job: Job,
    spec: Follows,
    read: Callable[[], list[str]],
    tail: int,
) -> Iterator[str]:
    """The job's log lines: those there now, then new ones as they come while the job runs,
    for at most ``spec.max_s`` wall seconds (``tail``: only the newest, once)."""
    deadline = time.monotonic() + spec.max_s
    stops = spec.stops
    realtime = world.clock.mode == "realtime"
    sent = 0
    while True:
        seen = world.changes.version
        running = world.get_job(job.name, job.workspace) is job and job.status == RUNNING
        lines = read()
        yield from lines[sent:] if not tail else (lines if not sent else [])
        sent = max(sent, len(lines))
        left = deadline - time.monotonic()
        if not running or left <= 0 or spec.stops != stops:
            return
        world.changes.wait(seen, min(left, spec.poll_s) if realtime else left)
