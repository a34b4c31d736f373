"""A change counter that threads can wait on: how a log stream sleeps until there is news.

The World bumps it whenever virtual time moves or a command changes something; a reader notes
the version, looks at the world, and waits for a newer version instead of polling. Bumps that
land between the look and the wait are not lost: the wait returns at once.
"""

from __future__ import annotations

import threading


class Changes:
    """A version number that only grows, with a condition signalled on every bump."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.version = 0

    def bump(self) -> None:
        with self._cond:
            self.version += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Block until the version differs from ``seen`` or ``timeout`` wall seconds pass;
        returns the version then."""
        with self._cond:
            self._cond.wait_for(lambda: self.version != seen, timeout=max(0.0, timeout))
            return self.version
