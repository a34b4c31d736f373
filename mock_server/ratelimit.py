"""Rate limits as on the platform: 429 past a limit, ``GET /public/v2/limiter/`` reports usage.

Off by default. Turned on by the config file::

    rate_limits:
      enabled: true
      clock: wall          # wall (default): what clients feel; virtual: follows the sim clock
      retry_after: false   # send Retry-After on 429 (the SDK then retries 429s over https)
      limits:              # default: the platform's example, 1000 per 1 minute for everything
        - {method: "*", endpoint: "**", limit: "1000 per 1 minute"}
        - {method: POST, endpoint: "jobs", limit: "30 per 1 minute"}

Each limit counts the requests of one workspace (the ``x-workspace-id`` header, else the client
address) to the endpoints it matches (a glob relative to ``/public/v2``, as in fault rules) in a
fixed window that opens with the first request and lasts one period, like a counter key with a
TTL. A request is refused when any matching limit is used up; refused requests are not counted.
``limiter/`` itself is never limited, so usage can be read without changing it.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request

from mock_server.errors import json_response
from mock_server.faults import API_PREFIX, METHODS, glob_regex
from mock_server.state import ServerState, workspace

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
DEFAULT_LIMIT = "1000 per 1 minute"
EXEMPT = "limiter"
USAGE_AREA = "rate_limits"  # an area store, so /_mock/reset empties every window
LIMIT_RX = re.compile(
    r"^\s*(\d+)\s*(?:per|/)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class Limit:
    method: str
    endpoint: str
    amount: int
    multiple: int
    period: str
    rx: re.Pattern[str]

    @property
    def seconds(self) -> int:
        return self.multiple * PERIODS[self.period]

    @property
    def text(self) -> str:
        return f"{self.amount} per {self.multiple} {self.period}"

    def matches(self, method: str, rel_path: str) -> bool:
        return self.method in ("*", method) and self.rx.fullmatch(rel_path.strip("/")) is not None


def parse_limit(raw: Any, where: str) -> Limit:
    if not isinstance(raw, dict) or set(raw) - {"method", "endpoint", "limit"}:
        raise ValueError(f"{where}: expected a mapping of method, endpoint and limit")
    method = str(raw.get("method", "*")).upper()
    if method not in ("*", *METHODS):
        raise ValueError(f"{where}.method: one of *, {', '.join(METHODS)}")
    match = LIMIT_RX.match(str(raw.get("limit", DEFAULT_LIMIT)))
    if not match or int(match.group(1)) < 1 or match.group(2) == "0":
        raise ValueError(f"{where}.limit: expected 'N per [M] second|minute|hour|day'")
    endpoint = str(raw.get("endpoint", "**"))
    return Limit(
        method,
        endpoint,
        int(match.group(1)),
        int(match.group(2) or 1),
        match.group(3).lower(),
        glob_regex(endpoint),
    )


class RateLimiter:
    """Fixed windows per (workspace, limit), kept in an area store of the server state."""

    def __init__(self, st: ServerState, section: dict[str, Any]) -> None:
        self._st = st
        self._lock = threading.Lock()
        clock = section.get("clock", "wall")
        if clock not in ("wall", "virtual"):
            raise ValueError("rate_limits.clock: wall or virtual")
        self._now: Callable[[], float] = time.monotonic if clock == "wall" else st.world.now_epoch
        self.retry_after = bool(section.get("retry_after", False))
        raw = section.get("limits") or [{"limit": DEFAULT_LIMIT}]
        if not isinstance(raw, list):
            raise ValueError("rate_limits.limits: expected a list")
        self.limits = [parse_limit(item, f"rate_limits.limits.{i}") for i, item in enumerate(raw)]

    def _windows(self) -> dict[tuple[str, int], list[float]]:
        return self._st.area(USAGE_AREA, dict)

    def hit(self, key: str, method: str, rel_path: str) -> tuple[Limit, int] | None:
        """Count a request; the exhausted limit and seconds to its reset when refused."""
        now = self._now()
        with self._lock:
            windows = self._windows()
            chosen = []
            for i, limit in enumerate(self.limits):
                if not limit.matches(method, rel_path):
                    continue
                window = windows.get((key, i))
                if window is None or window[0] <= now:
                    window = windows[(key, i)] = [now + limit.seconds, 0]
                if window[1] >= limit.amount:
                    return limit, max(1, math.ceil(window[0] - now))
                chosen.append(window)
            for window in chosen:
                window[1] += 1
        return None

    def usage(self, key: str) -> list[dict[str, Any]]:
        """The ``LimiterItem`` list of the spec for one workspace."""
        now = self._now()
        with self._lock:
            windows = self._windows()
            items = []
            for i, limit in enumerate(self.limits):
                window = windows.get((key, i))
                live = window is not None and window[0] > now
                items.append(
                    {
                        "amount": limit.amount,
                        "endpoint": f"{API_PREFIX}/{limit.endpoint.strip('/')}",
                        "expire_ttl": math.ceil(window[0] - now) if live else 0,
                        "limit": limit.text,
                        "method": limit.method,
                        "period": limit.period,
                        "usage": int(window[1]) if live else 0,
                    }
                )
        return items


EXTENSION = "mlspace_sim.rate_limits"


def client_key(headers: Any, remote_addr: str | None) -> str:
    return (headers.get("x-workspace-id") or "").strip() or f"addr:{remote_addr or ''}"


def limiter_list() -> Any:
    """The rate limits of the workspace and how much of each is used"""
    limiter: RateLimiter | None = current_app.extensions.get(EXTENSION)
    return json_response(limiter.usage(workspace().id) if limiter else [])


def hook(app: Any, section: Any) -> Callable[[], Any] | None:
    """When limits are enabled, the hook that refuses requests past a limit with the
    platform's 429 (it runs before authentication, as a gateway would); else None."""
    section = section or {}
    if not isinstance(section, dict):
        raise ValueError("rate_limits: expected a mapping")
    if not section.get("enabled", False):
        return None
    limiter = RateLimiter(app.extensions["mlspace_sim"], section)
    app.extensions[EXTENSION] = limiter

    def rate_limit() -> Any:
        path = request.path
        if not path.startswith(API_PREFIX + "/"):
            return None
        rel = path[len(API_PREFIX) :]
        if rel.strip("/") == EXEMPT:
            return None
        refused = limiter.hit(client_key(request.headers, request.remote_addr), request.method, rel)
        if refused is None:
            return None
        limit, ttl = refused
        response = json_response(
            {"error_code": 429, "error_message": f"Rate limit exceeded: {limit.text}"}, 429
        )
        if limiter.retry_after:
            response.headers["Retry-After"] = str(ttl)
        return response

    return rate_limit
