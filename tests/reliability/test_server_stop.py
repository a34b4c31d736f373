"""Stopping the server while clients keep it busy: no error anywhere, every time.

waitress's trigger (the pipe that wakes its loop) used to be closed while worker threads were
still answering: a worker that then woke the loop, or ``stop()`` itself, hit ``EBADF``. The race
is rare per stop, so the test stops a loaded server many times (bounded in count and time).
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import suppress

import pytest
import requests

from mock_server.app import create_app
from mock_server.server import BackgroundServer

pytestmark = pytest.mark.timeout(120)
CYCLES = 15
CLIENTS = 6


class Errors(logging.Handler):
    """Every error waitress logs (it logs a worker's exception instead of raising it)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(f"{record.getMessage()}: {record.exc_info and record.exc_info[1]!r}")


def _hammer(url: str, until: threading.Event) -> None:
    with requests.Session() as session:
        while not until.is_set():
            # the server is going away: refused and reset connections are expected
            with suppress(requests.RequestException):
                session.get(url, timeout=2)


def test_stopping_a_busy_server_raises_and_logs_nothing() -> None:
    errors = Errors()
    waitress_log = logging.getLogger("waitress")
    waitress_log.addHandler(errors)
    failures: list[str] = []
    try:
        for _ in range(CYCLES):
            server = BackgroundServer(create_app(seed=0)).start()
            until = threading.Event()
            url = f"http://127.0.0.1:{server.port}/public/v2/openapi.json"
            clients = [threading.Thread(target=_hammer, args=(url, until)) for _ in range(CLIENTS)]
            for client in clients:
                client.start()
            time.sleep(0.05)  # wall time for requests to be in flight, not a simulation wait
            try:
                server.stop()
            except OSError as exc:
                failures.append(f"stop(): {exc!r}")
            until.set()
            for client in clients:
                client.join(timeout=10)
    finally:
        waitress_log.removeHandler(errors)
    assert failures == [] and errors.seen == []
