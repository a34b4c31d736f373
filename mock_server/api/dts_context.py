"""What every data-transfer view shares: the request's view of the store, and rule lookup.

Kept apart from the route modules so the current and the legacy (client_lib) routes can both use
it without importing each other.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_server.errors import detail_error
from mock_server.params import UUID, path_value
from mock_server.state import state, workspace
from simulator.transfers import Connector, Transfer, Transfers


@dataclass
class Ctx:
    """One request's view: the store, the caller's workspace, virtual now."""

    store: Transfers
    ws: Any
    now: float

    @property
    def connectors(self) -> dict[str, Connector]:
        return self.store.workspace_connectors(self.ws)

    @property
    def transfers(self) -> dict[str, Transfer]:
        return self.store.workspace_transfers(self.ws.id)


def dts_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run ``view(ctx, ...)`` under the locks, on the engine's transfers as of now."""

    @functools.wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        st = state()
        with st.lock:
            world = st.world
            ctx = Ctx(world.data_transfers(), workspace(), world.now_epoch())
            return view(ctx, **kwargs)

    return wrapper


def find_transfer(ctx: Ctx, transfer_id: str, loc: list[Any]) -> Transfer:
    """The workspace's rule ``transfer_id`` (422 if not a UUID, 404 if absent here)."""
    path_value(UUID, loc, transfer_id)
    found = ctx.transfers.get(transfer_id)
    if found is None:
        raise detail_error(404, "Transfer not found")
    return found
