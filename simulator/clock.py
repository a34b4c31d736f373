"""Where virtual time should be: manual (moves only when told) or real time x speed.

The clock never drives SimPy itself; the World asks it for a target time on each call and runs
the engine up to that target (lazy catch-up), so no background thread touches the simulation.
A clock can stand still (``hold``/``pin``): a command takes effect at one instant, and a replayed
command at its recorded one. It never passes ``limit``, the last instant dates can show.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

MODES = ("manual", "realtime")
LAST_EPOCH = 253_402_300_799.0  # 9999-12-31T23:59:59Z: the last instant a date can show


class Clock:
    """Target virtual time, in seconds since the world's start."""

    def __init__(
        self,
        mode: str = "manual",
        speed: float = 1.0,
        wall: Callable[[], float] = time.monotonic,
        limit: float = math.inf,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"clock mode must be one of {MODES}, not {mode!r}")
        if not speed > 0:
            raise ValueError("clock speed must be > 0")
        self.mode, self.speed, self.wall = mode, float(speed), wall
        self.limit = limit
        self.held: float | None = None
        self._wall0 = wall()
        self._offset = 0.0

    def restart(self, limit: float | None = None) -> None:
        """Back to the start (a reset), running, with a new ``limit`` if given."""
        if limit is not None:
            self.limit = limit
        self._wall0 = self.wall()
        self._offset = 0.0
        self.held = None

    def target(self) -> float:
        if self.held is not None:
            return self.held
        if self.mode == "manual":
            return min(self._offset, self.limit)
        return min(self._offset + (self.wall() - self._wall0) * self.speed, self.limit)

    @property
    def stopped(self) -> bool:
        """True once time has reached ``limit``: it goes no further."""
        return self.target() >= self.limit

    def advance(self, seconds: float) -> None:
        """Move the target forward by ``seconds`` (in both modes, held or not)."""
        if seconds < 0:
            raise ValueError("cannot move the clock backwards")
        self._offset += seconds
        if self.held is not None:
            self.held = min(self.held + seconds, self.limit)

    def catch_up_to(self, t: float) -> None:
        """Make sure the target is at least ``t`` (after running the engine ahead)."""
        self._offset += max(0.0, t - self.target())
        if self.held is not None:
            self.held = max(self.held, min(t, self.limit))

    def hold(self) -> float:
        """Stand still at the current target until :meth:`release`; moves made meanwhile
        (advance, catch-up) count for both, so the running target is never behind."""
        if self.held is None:
            self.held = self.target()
        return self.held

    def pin(self, at: float) -> None:
        """Stand still at ``at`` (a replayed command's instant)."""
        self.held = min(at, self.limit)

    def release(self) -> None:
        self.held = None
