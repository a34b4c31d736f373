"""Everything a running mock server holds: the World, auth, and per-area stores.

API areas that the engine does not model (autoshutdown rules, S3 credentials and the like) keep
their records in an area store created on first use; image builds and data transfers are the
engine's (they take time). One lock guards
the stores; the World has its own. Order is always stores first, then World, never the reverse.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, g, request

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

    def hold(self) -> float | None:
        """Both locks (stores, then World) and one virtual instant (``World.hold``), as a request
        takes them; the token is for :meth:`let_go`."""
        self.lock.acquire()
        try:
            return self.world.hold()
        except BaseException:
            self.lock.release()
            raise

    def let_go(self, outer: float | None) -> None:
        self.world.let_go(outer)
        self.lock.release()

    def reset(self, seed: int | None = None, start_epoch: float | None = None) -> None:
        """A fresh world, empty area stores and journal; tokens and workspaces survive."""
        with self.lock:
            self.world.reset(seed, start_epoch)
            self._areas.clear()
            self.journal.clear()


def install_instant(app: Flask, prefix: str) -> None:
    """Compute each request under ``prefix`` at one virtual instant under the locks: taken
    before the handler, given back at teardown (before a streamed body is sent, so a log that
    follows a job takes the lock per look instead of holding it)."""

    st: ServerState = app.extensions["mlspace_sim"]

    @app.before_request
    def hold_instant() -> None:
        if request.path.startswith(prefix):
            g.instant_held = (st.hold(),)  # in a tuple: the token itself may be None

    @app.teardown_request
    def release_instant(_exc: BaseException | None) -> None:
        held = g.pop("instant_held", None)
        if held is not None:
            st.let_go(held[0])


def state() -> ServerState:
    """The state of the app serving the current request."""
    return current_app.extensions["mlspace_sim"]


def workspace() -> Any:
    """The workspace the current request authenticated as."""
    from flask import g

    return g.workspace
