"""Everything a running mock server holds: the World, auth, and per-area stores.

API areas that the engine does not model (connectors, transfers, image builds, autoshutdown
rules, S3 credentials) keep their records in an area store created on first use. One lock guards
the stores; the World has its own. Order is always stores first, then World, never the reverse.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from mock_server.auth import AuthRegistry
from mock_server.journal import Journal
from simulator.world import World

T = TypeVar("T")


class ServerState:
    def __init__(self, world: World, auth: AuthRegistry, settings: dict[str, Any]) -> None:
        self.world = world
        self.auth = auth
        self.settings = settings
        self.lock = threading.RLock()
        self.journal = Journal()
        self._areas: dict[str, Any] = {}

    def area(self, name: str, factory: Callable[[], T]) -> T:
        """The store of one API area (created empty on first use and after a reset)."""
        with self.lock:
            store = self._areas.get(name)
            if store is None:
                store = self._areas[name] = factory()
            return store

    def reset(self, seed: int | None = None, start_epoch: float | None = None) -> None:
        """A fresh world, empty area stores and journal; tokens and workspaces survive."""
        with self.lock:
            self.world.reset(seed, start_epoch)
            self._areas.clear()
            self.journal.clear()


def state() -> ServerState:
    """The state of the app serving the current request."""
    return current_app.extensions["mlspace_sim"]


def workspace() -> Any:
    """The workspace the current request authenticated as."""
    from flask import g

    return g.workspace
