"""Which requests need which credentials, and what answers paths we do not implement."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

AUTH_FULL, AUTH_TOKEN, AUTH_NONE = "full", "token", "none"


def auth_level(level: str) -> Callable[[F], F]:
    """Mark a view as needing only a token (``AUTH_TOKEN``) or nothing (``AUTH_NONE``)."""

    def mark(view: F) -> F:
        view._mlspace_auth = level  # type: ignore[attr-defined]
        return view

    return mark


@lru_cache(maxsize=1)
def spec_operations() -> list[tuple[str, re.Pattern[str]]]:
    """(METHOD, path regex) for every operation of the official spec v2.8.1."""
    text = resources.files("mock_server").joinpath("data", "spec_operations.txt").read_text()
    ops = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        method, template = line.split(" ", 1)
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        ops.append((method, re.compile(f"^{pattern}$")))
    return ops


def classify(method: str, path: str) -> int:
    """501 for an operation of the official spec, 405 for a spec path with another method, 404."""
    hits = [m for m, rx in spec_operations() if rx.match(path)]
    if method in hits:
        return 501
    return 405 if hits else 404
