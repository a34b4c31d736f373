"""A lock handed to its waiters in the order they came (``threading.Lock`` is not: a waiter can
lose to one that came later any number of times).

The API's requests take turns on one (:mod:`mock_server.persistence`): the world is one lock and
one interpreter anyway, so requests running side by side only fight over both, and an unfair lock
let reads overtake a waiting command for hundreds of milliseconds under load.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any


class TurnLock:
    """A mutex granted first come, first served: ``release`` hands it to the oldest waiter."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self) -> None:
        with self._guard:
            if not self._held:
                self._held = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder handing over: now held by this thread

    def release(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._held = False

    def __enter__(self) -> TurnLock:
        self.acquire()
        return self

    def __exit__(self, *_: Any) -> None:
        self.release()
