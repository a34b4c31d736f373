"""The state file's records without a file (a server started without ``--state``).

The journal still needs them: ``GET /_mock/state`` exports them, ``POST /_mock/state`` replaces
them, and a failed command is undone by replaying them. Nothing here survives the process and
nobody can change it from outside, so there are no hashes or seals to keep and nothing to verify:
a command is kept as given and passes through the row the file would hold (its effect as JSON
text) only when read, so :meth:`load` gives back exactly what
:class:`~mock_server.state_file.StateFile` would, for a fraction of an SQLite transaction, three
sealed meta rows and a chain hash per command.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace

from mock_server.auth import Workspace
from mock_server.state_file import (
    SCHEMA,
    Command,
    Identity,
    Snapshot,
    StateFileError,
    command_from_row,
    command_row,
)


class MemoryStore:
    """:class:`~mock_server.state_file.StateFile`'s interface, kept in memory."""

    durable = False
    path = ":memory:"
    schema = SCHEMA

    def __init__(self) -> None:
        self.written_by: list[str] = []
        self._identity: Identity | None = None
        self._clock_s = 0.0
        self._commands: list[Command] = []
        self._workspaces: dict[str, str] = {}  # id -> its JSON, in the order last written
        self._tokens: dict[str, tuple[str, float]] = {}

    # ---- reading ----
    def identity(self) -> Identity | None:
        return self._identity

    def load(self) -> Snapshot:
        if self._identity is None:
            raise StateFileError(f"{self.path}: no world recorded yet")
        commands = [command_from_row(command_row(cmd), SCHEMA) for cmd in self._commands]
        workspaces = [Workspace(**json.loads(data)) for data in self._workspaces.values()]
        return Snapshot(self._identity, self._clock_s, workspaces, commands)  # type: ignore[arg-type]

    def tokens(self) -> list[tuple[str, str, float]]:
        return [(token, *record) for token, record in self._tokens.items()]

    # ---- writing ----
    def write_identity(self, identity: Identity) -> None:
        self._identity = _as_stored(identity)

    def append(self, seq: int, cmd: Command, workspaces: list[Workspace], clock_s: float) -> None:
        del seq  # the position in the list
        self._put_workspaces(workspaces)
        self._commands.append(cmd)
        self._clock_s = clock_s

    def clear(self, seed: int) -> None:
        self._commands.clear()
        if self._identity is not None:
            self._identity = replace(self._identity, seed=seed)
        self._clock_s = 0.0

    def replace(self, snap: Snapshot) -> None:
        self._commands = list(snap.commands)
        self._put_workspaces(snap.workspaces)
        self._identity = _as_stored(snap.identity)
        self._clock_s = float(snap.clock_s)

    def save_workspaces(self, workspaces: list[Workspace]) -> None:
        self._put_workspaces(workspaces)

    def _put_workspaces(self, workspaces: list[Workspace]) -> None:
        for ws in workspaces:
            self._workspaces.pop(ws.id, None)  # a rewritten row goes last, as in SQLite
            self._workspaces[ws.id] = json.dumps(asdict(ws))

    def save_token(self, token: str, client_id: str, expires_at: float) -> None:
        self._tokens[token] = (client_id, expires_at)

    def drop_tokens_expired_by(self, epoch: float) -> None:
        self._tokens = {t: r for t, r in self._tokens.items() if r[1] > epoch}

    def checkpoint(self, clock_s: float) -> None:
        self._clock_s = clock_s

    def close(self) -> None:
        """Nothing to let go."""


def _as_stored(identity: Identity) -> Identity:
    """The identity as the file would give it back (its values through JSON)."""
    stored = Identity(**json.loads(json.dumps(asdict(identity))))
    return replace(stored, start_epoch=float(stored.start_epoch), speed=float(stored.speed))
