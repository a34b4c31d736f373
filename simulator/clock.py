"""Where virtual time should be: manual (moves only when told) or real time x speed.

The clock never drives SimPy itself; the World asks it for a target time on each call and runs
the engine up to that target (lazy catch-up), so no background thread touches the simulation.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MODES = ("manual", "realtime")


class Clock:
    """Target virtual time, in seconds since the world's start."""

    def __init__(
        self,
        mode: str = "manual",
        speed: float = 1.0,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"clock mode must be one of {MODES}, not {mode!r}")
        if not speed > 0:
            raise ValueError("clock speed must be > 0")
        self.mode, self.speed, self._wall = mode, float(speed), wall
        self._wall0 = wall()
        self._offset = 0.0

    def target(self) -> float:
        if self.mode == "manual":
            return self._offset
        return self._offset + (self._wall() - self._wall0) * self.speed

    def advance(self, seconds: float) -> None:
        """Move the target forward by ``seconds`` (in both modes)."""
        if seconds < 0:
            raise ValueError("cannot move the clock backwards")
        self._offset += seconds

    def catch_up_to(self, t: float) -> None:
        """Make sure the target is at least ``t`` (after running the engine ahead)."""
        self._offset += max(0.0, t - self.target())
