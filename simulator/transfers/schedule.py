"""Transfer-rule schedules (the API's ``crontab``): when the runs of a rule fall due.

A rule is periodic when it has a ``period`` (hours), a ``time`` (``HH:MM`` UTC, daily), or
``weekdays``/``monthdays`` (at ``time``; a missing ``time`` becomes ``start_at``'s time of day,
so the CLI, which only reads ``weekdays`` next to a ``time``, shows the schedule that runs).
No run of a periodic rule is ever due before ``start_at``. A one-shot rule has none of these;
``start_at`` is then only recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

DAY_S = 86_400
MIN_PERIOD_S = 60  # shorter periods run once a minute
SEARCH_DAYS = 800  # a calendar rule always matches within ~13 months


def iso(epoch: float | None) -> str | None:
    """RFC 3339 UTC with a ``Z``, whole seconds (as the API prints dates)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Schedule:
    start_at: int
    time: str | None = None
    weekdays: tuple[int, ...] | None = None
    monthdays: tuple[int, ...] | None = None
    period: float | None = None

    @classmethod
    def from_json(cls, crontab: dict[str, Any] | None, start_at: int) -> Schedule:
        """From a validated ``crontab`` body whose ``start_at`` was parsed to ``start_at``."""
        crontab = crontab or {}

        def days(key: str) -> tuple[int, ...] | None:
            return tuple(crontab[key]) if crontab.get(key) else None

        weekdays, monthdays = days("weekdays"), days("monthdays")
        when = crontab.get("time") or None
        if when is None and (weekdays or monthdays):
            when = datetime.fromtimestamp(start_at, tz=timezone.utc).strftime("%H:%M")
        return cls(
            start_at=start_at,
            time=when,
            weekdays=weekdays,
            monthdays=monthdays,
            period=crontab.get("period") or None,
        )

    def to_json(self) -> dict[str, Any]:
        """Exactly the five keys the CLI's ``CronViewModel(**crontab)`` accepts."""
        return {
            "start_at": iso(self.start_at),
            "time": self.time,
            "weekdays": list(self.weekdays) if self.weekdays else None,
            "monthdays": list(self.monthdays) if self.monthdays else None,
            "period": self.period,
        }

    @property
    def periodic(self) -> bool:
        return bool(self.period or self.time or self.weekdays or self.monthdays)

    @property
    def min_gap_s(self) -> int:
        """The shortest possible time between two runs."""
        return self._step_s() if self.period else DAY_S

    def _step_s(self) -> int:
        return max(MIN_PERIOD_S, round((self.period or 0) * 3600))

    def next_at(self, t: float) -> int | None:
        """The first due time at or after ``t`` (never before ``start_at``); None if one-shot."""
        if not self.periodic:
            return None
        lower = max(math.ceil(t), self.start_at)
        if self.period:
            step = self._step_s()
            return self.start_at + math.ceil((lower - self.start_at) / step) * step
        return self._next_calendar(lower)

    def _next_calendar(self, lower: int) -> int | None:
        hh, mm = (int(x) for x in (self.time or "00:00").split(":"))
        day = datetime.fromtimestamp(lower, tz=timezone.utc).replace(
            hour=hh, minute=mm, second=0, microsecond=0
        )
        for i in range(SEARCH_DAYS):
            when = day + timedelta(days=i)
            if when.timestamp() < lower:
                continue
            if self.weekdays and when.isoweekday() not in self.weekdays:
                continue
            if self.monthdays and when.day not in self.monthdays:
                continue
            return int(when.timestamp())
        return None
