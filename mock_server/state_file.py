"""The state file on disk: one SQLite file, whole after every acknowledged write, every command
chained to the one before it.

Schema 2 (this version) uses a rollback journal with ``synchronous=FULL``: a committed
transaction is in the main file itself, so the one file named by ``--state`` can be copied or
moved after a crash and nothing acknowledged stays behind in a ``-wal``. Each command row carries
the hash of its content and of the row before it (a chain from :data:`GENESIS`); ``meta``
records how many commands there are and the last hash; every meta, workspace and token row
carries a seal (the hash of its content). At open the count, the chain and the seals are checked:
a truncated file, flipped bytes or a missing tail are refused, naming the last good command,
never loaded short.

Schema 1 (the previous release: write-ahead log, no chain, a digest of each response) is read as
it is, and upgraded to schema 2 in one transaction once its replay has succeeded
(:meth:`StateFile.upgrade`); until then it is not written.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mock_server.auth import Workspace

FORMAT = "mlspace-sim-state"
SCHEMA = 2
LEGACY_SCHEMA = 1
APPLICATION_ID = 0x4D4C5353  # "MLSS" in the SQLite header: our files, not any SQLite database
JOURNAL_MODE = "DELETE"  # a rollback journal: committed means in the main file
LOCK_WAIT_S = 0.2  # one connection per file: waiting only means another server has it
GENESIS = hashlib.sha256(FORMAT.encode()).hexdigest()  # what the first command chains to
TABLES = {
    "meta": "key TEXT PRIMARY KEY, value TEXT NOT NULL, seal TEXT NOT NULL",
    "commands": "seq INTEGER PRIMARY KEY, at REAL NOT NULL, t REAL NOT NULL, "
    "epoch REAL NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, query TEXT NOT NULL, "
    "content_type TEXT NOT NULL, body BLOB NOT NULL, workspace TEXT NOT NULL, "
    "author TEXT NOT NULL, status INTEGER NOT NULL, digest TEXT NOT NULL, "
    "effect TEXT NOT NULL, version TEXT NOT NULL, hash TEXT NOT NULL",
    "workspaces": "id TEXT PRIMARY KEY, data TEXT NOT NULL, seal TEXT NOT NULL",
    "tokens": "token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at REAL NOT NULL, "
    "seal TEXT NOT NULL",
}
# columns schema 2 added to schema 1's tables, in the order the upgrade adds them
ADDED = {
    "meta": ["seal TEXT NOT NULL DEFAULT ''"],
    "commands": [
        "effect TEXT NOT NULL DEFAULT 'null'",
        "version TEXT NOT NULL DEFAULT ''",
        "hash TEXT NOT NULL DEFAULT ''",
    ],
    "workspaces": ["seal TEXT NOT NULL DEFAULT ''"],
    "tokens": ["seal TEXT NOT NULL DEFAULT ''"],
}
LEGACY_COLUMNS = (
    "at, t, epoch, method, path, query, content_type, body, workspace, author, status, digest"
)
COLUMNS = {  # a command row, and its hash, as each schema keeps them
    SCHEMA: f"{LEGACY_COLUMNS}, effect, version, hash",
    LEGACY_SCHEMA: f"{LEGACY_COLUMNS}, 'null', '', ''",
}


class StateFileError(Exception):
    """A state file that cannot be used: unreadable, foreign, newer, damaged, in use, in
    conflict with the flags given, or replaying to another world."""


# ---- what is kept -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Identity:
    """What the World is made of, besides the commands."""

    config: dict[str, Any]  # the resolved raw configuration
    seed: int
    start_epoch: float
    clock: str
    speed: float


@dataclass(frozen=True)
class Command:
    """One accepted command: enough to replay it and to check what it did."""

    at: float  # the clock's target (seconds since start) while it ran
    t: float
    epoch: float
    method: str
    path: str
    query: str
    content_type: str
    body: bytes
    workspace: str
    author: str
    status: int
    digest: str  # sha256 of the response body (informative: replay does not compare it)
    effect: dict[str, Any] | None  # what it did to the world; None: not recorded (schema 1)
    version: str  # the mlspace-sim that recorded it

    def describe(self, seq: int) -> str:
        when = datetime.fromtimestamp(self.epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"#{seq} ({self.method} {self.path} at {when}, written by {self.version})"


@dataclass(frozen=True)
class Snapshot:
    identity: Identity
    clock_s: float  # the virtual time to resume at
    workspaces: list[Workspace]
    commands: list[Command]


def legacy_version(schema: int) -> str:
    return f"an mlspace-sim release of state schema {schema}"


# one encoder for every hash: json.dumps with options builds a new one per call
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def _seal(*parts: Any) -> str:
    return hashlib.sha256(_canonical(parts).encode()).hexdigest()[:32]


def chain(previous: str, seq: int, cmd: Command) -> str:
    """The hash of a command row: its content and the hash of the row before it."""
    content = {**vars(cmd), "body": cmd.body.hex()}  # flat: ``asdict`` would copy deep
    return hashlib.sha256(f"{previous}|{seq}|{_canonical(content)}".encode()).hexdigest()


# ---- the file -----------------------------------------------------------------------------------
class StateFile:
    """One connection, one lock; every write is one transaction. (Without a file the journal
    lives in :class:`~mock_server.state_memory.MemoryStore`.)"""

    durable = True

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.schema = SCHEMA  # LEGACY_SCHEMA until a schema 1 file is upgraded
        self.written_by: list[str] = []  # the versions that wrote its commands
        self._head = GENESIS
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self.path, timeout=LOCK_WAIT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StateFileError(f"{self.path}: cannot open ({exc})") from None
        try:
            # the file lock, once taken, is kept until close
            self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            new = self._inspect()  # reads only: a file that is not ours is left untouched
            if self.schema == SCHEMA:
                self._db.execute(f"PRAGMA journal_mode={JOURNAL_MODE}")
                self._db.execute("PRAGMA synchronous=FULL")
            with self._write():  # a write, so the lock is taken now, not at the first command
                if new:
                    for name, columns in TABLES.items():
                        self._db.execute(f"CREATE TABLE {name} ({columns})")
                    self._db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                    self._db.execute(f"PRAGMA user_version={SCHEMA}")
                    self._put_meta(format=FORMAT, schema=SCHEMA, clock_s=0.0, count=0, head=GENESIS)
            if not new and self.schema == SCHEMA:
                self._verify()
        except StateFileError:
            self._db.close()
            raise
        except sqlite3.OperationalError as exc:
            self._db.close()
            if "locked" in str(exc):
                raise StateFileError(f"{self.path}: in use by another mlspace-sim server") from None
            raise StateFileError(f"{self.path}: cannot use ({exc})") from None
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc):
                refusal = StateFileError(f"{self.path}: not an mlspace-sim state file ({exc})")
            else:
                refusal = self._damaged(f"SQLite finds it malformed ({exc})")
            self._db.close()
            raise refusal from None

    # ---- plumbing ----
    @contextmanager
    def _write(self, *, synced: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction; ``synced=False`` skips the fsyncs (it survives a crash of this
        process, not of the machine): for the clock checkpoint, written on every response."""
        with self._lock:
            if not synced:
                self._db.execute("PRAGMA synchronous=OFF")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            finally:
                if not synced:
                    self._db.execute("PRAGMA synchronous=FULL")

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _inspect(self) -> bool:
        """True for an empty file; raises unless it is a sound state file of ours."""
        db = self._db
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if app_id == 0 and not tables:
            return True
        if app_id != APPLICATION_ID:
            raise StateFileError(
                f"{self.path}: not an mlspace-sim state file (an SQLite database of another "
                "application)"
            )
        if version > SCHEMA:
            raise StateFileError(
                f"{self.path}: written by a newer mlspace-sim (schema {version}; this one reads "
                f"schemas {LEGACY_SCHEMA}-{SCHEMA})"
            )
        if version not in (LEGACY_SCHEMA, SCHEMA) or not set(TABLES) <= tables:
            raise StateFileError(
                f"{self.path}: damaged (schema {version}, tables {sorted(tables)})"
            )
        self.schema = version
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise self._damaged(f"SQLite finds it malformed ({check})")
        return False

    # ---- checks at open ----
    def _damaged(self, problem: str) -> StateFileError:
        """The refusal of a damaged file, naming the last command that is still sound."""
        good, last = self._last_good()
        if last is None:
            where = "no command is readable"
        else:
            where = f"the last good command is {last.describe(good)}"
        return StateFileError(
            f"{self.path}: damaged: {problem}; {where}; refusing to load it short (restore a "
            "copy of the file, or start a new one)"
        )

    def _last_good(self) -> tuple[int, Command | None]:
        """How far the chain holds: the last sound command and its number (0, None: none)."""
        good, last, previous = 0, None, GENESIS
        try:
            cursor = self._db.execute(
                f"SELECT seq, {COLUMNS[self.schema]} FROM commands ORDER BY seq"
            )
            for row in cursor:
                cmd = command_from_row(row[1:-1], self.schema)
                if row[0] != good + 1 or cmd is None:
                    break
                if self.schema == SCHEMA:
                    digest = chain(previous, row[0], cmd)
                    if digest != row[-1]:
                        break
                    previous = digest
                good, last = row[0], cmd
        except sqlite3.DatabaseError:
            pass
        return good, last

    def _verify(self) -> None:
        """Count, chain and seals, or a refusal naming the last good command."""
        try:
            meta = self._sealed_meta()
            for table in ("workspaces", "tokens"):
                for row in self._db.execute(f"SELECT * FROM {table}"):
                    if _seal(table, *row[:-1]) != row[-1]:
                        raise self._damaged(f"the {table} row {row[0]!r} does not match its seal")
            good = self._last_good()[0]
            rows = self._db.execute("SELECT count(*), max(seq) FROM commands").fetchone()
        except sqlite3.DatabaseError as exc:
            raise self._damaged(f"unreadable ({exc})") from None
        count, head = meta.get("count"), meta.get("head")
        if rows[0] != good:
            problem = f"command #{good + 1} is missing or does not match its hash (changed bytes)"
        elif count != good:
            problem = f"{count} commands recorded, {good} present (the tail is missing)"
        elif head != (self._chain_head(good) if good else GENESIS):
            problem = "the last command is not the one recorded"
        else:
            self._head = head
            self.written_by = sorted(
                {v for (v,) in self._db.execute("SELECT DISTINCT version FROM commands")}
            )
            return
        raise self._damaged(problem)

    def _chain_head(self, seq: int) -> str:
        return self._db.execute("SELECT hash FROM commands WHERE seq = ?", (seq,)).fetchone()[0]

    def _sealed_meta(self) -> dict[str, Any]:
        meta = {}
        seal_column = "seal" if self.schema == SCHEMA else "''"
        for key, value, seal in self._db.execute(f"SELECT key, value, {seal_column} FROM meta"):
            if self.schema == SCHEMA and _seal("meta", key, value) != seal:
                raise self._damaged(f"the meta value {key!r} does not match its seal")
            try:
                meta[key] = json.loads(value)
            except ValueError:
                raise self._damaged(f"the meta value {key!r} is not JSON") from None
        return meta

    def _put_meta(self, **values: Any) -> None:
        rows = []
        for key, value in values.items():
            text = json.dumps(value)
            rows.append((key, text, _seal("meta", key, text)))
        self._db.executemany(
            "INSERT OR REPLACE INTO meta (key, value, seal) VALUES (?, ?, ?)", rows
        )

    def _meta(self) -> dict[str, Any]:
        with self._lock:
            return self._sealed_meta()

    # ---- reading ----
    def identity(self) -> Identity | None:
        """What the World is made of, or None for a new file."""
        meta = self._meta()
        if "seed" not in meta:
            return None
        try:
            identity = Identity(
                config=meta["config"],
                seed=meta["seed"],
                start_epoch=float(meta["start_epoch"]),
                clock=meta["clock"],
                speed=float(meta["speed"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFileError(f"{self.path}: damaged meta (missing or bad {exc})") from None
        if not isinstance(identity.config, dict) or not isinstance(identity.seed, int):
            raise StateFileError(f"{self.path}: damaged meta (config or seed)")
        return identity

    def load(self) -> Snapshot:
        """Everything kept, to replay."""
        identity = self.identity()
        if identity is None:
            raise StateFileError(f"{self.path}: no world recorded yet")
        rows = self._read(f"SELECT {COLUMNS[self.schema]} FROM commands ORDER BY seq")
        try:
            commands = [command_from_row(row[:-1], self.schema) for row in rows]
            workspaces = [
                Workspace(**json.loads(d)) for (d,) in self._read("SELECT data FROM workspaces")
            ]
            clock_s = float(self._meta()["clock_s"])
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFileError(f"{self.path}: damaged records ({exc!r})") from None
        if None in commands:
            raise StateFileError(f"{self.path}: damaged records (a command's effect)")
        return Snapshot(identity, clock_s, workspaces, commands)  # type: ignore[arg-type]

    def tokens(self) -> list[tuple[str, str, float]]:
        return self._read("SELECT token, client_id, expires_at FROM tokens")

    # ---- writing ----
    def write_identity(self, identity: Identity) -> None:
        with self._write():
            self._put_meta(**asdict(identity))

    def append(self, seq: int, cmd: Command, workspaces: list[Workspace], clock_s: float) -> None:
        """One command, the workspaces it brought, the clock: together, synced."""
        head = chain(self._head, seq, cmd)
        with self._write() as db:
            self._put_workspaces(workspaces)
            db.execute(
                "INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, *command_row(cmd), head),
            )
            self._put_meta(clock_s=clock_s, count=seq, head=head)
        self._head = head

    def clear(self, seed: int) -> None:
        """A reset: no commands, the new seed, the clock at the start."""
        with self._write() as db:
            db.execute("DELETE FROM commands")
            self._put_meta(seed=seed, clock_s=0.0, count=0, head=GENESIS)
        self._head = GENESIS

    def replace(self, snap: Snapshot) -> None:
        """An imported world, in one transaction."""
        with self._write() as db:
            db.execute("DELETE FROM commands")
            head = self._insert_chain(snap.commands)
            self._put_workspaces(snap.workspaces)
            self._put_meta(
                **asdict(snap.identity), clock_s=snap.clock_s, count=len(snap.commands), head=head
            )
        self._head = head

    def upgrade(self, commands: list[Command]) -> None:
        """Rewrite a schema 1 file as schema 2, its commands (with the effects their replay
        had) chained, in one transaction; then leave the write-ahead log for good."""
        with self._write() as db:
            for table, columns in ADDED.items():
                for column in columns:
                    db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
            db.execute("DELETE FROM commands")
            head = self._insert_chain(commands)
            meta = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}
            self._put_meta(**{**meta, "schema": SCHEMA, "count": len(commands), "head": head})
            for (data,) in db.execute("SELECT data FROM workspaces").fetchall():
                self._put_workspaces([Workspace(**json.loads(data))])
            tokens = db.execute("SELECT token, client_id, expires_at FROM tokens").fetchall()
            for token in tokens:
                self._put_token(*token)
            db.execute(f"PRAGMA user_version={SCHEMA}")
        with self._lock:
            self._db.execute(f"PRAGMA journal_mode={JOURNAL_MODE}")
            self._db.execute("PRAGMA synchronous=FULL")
        self._head, self.schema = head, SCHEMA

    def _insert_chain(self, commands: list[Command]) -> str:
        head, rows = GENESIS, []
        for seq, cmd in enumerate(commands, 1):
            head = chain(head, seq, cmd)
            rows.append((seq, *command_row(cmd), head))
        self._db.executemany(
            "INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
        return head

    def save_workspaces(self, workspaces: list[Workspace]) -> None:
        with self._write():
            self._put_workspaces(workspaces)

    def _put_workspaces(self, workspaces: list[Workspace]) -> None:
        rows = []
        for ws in workspaces:
            data = json.dumps(asdict(ws))
            rows.append((ws.id, data, _seal("workspaces", ws.id, data)))
        self._db.executemany(
            "INSERT OR REPLACE INTO workspaces (id, data, seal) VALUES (?, ?, ?)", rows
        )

    def save_token(self, token: str, client_id: str, expires_at: float) -> None:
        with self._write():
            self._put_token(token, client_id, expires_at)

    def _put_token(self, token: str, client_id: str, expires_at: float) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?)",
            (token, client_id, expires_at, _seal("tokens", token, client_id, expires_at)),
        )

    def drop_tokens_expired_by(self, epoch: float) -> None:
        with self._write() as db:
            db.execute("DELETE FROM tokens WHERE expires_at <= ?", (epoch,))

    def checkpoint(self, clock_s: float) -> None:
        """The latest virtual time an answer showed (not fsynced: see ``_write``)."""
        with self._write(synced=False):
            self._put_meta(clock_s=clock_s)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def command_row(cmd: Command) -> tuple[Any, ...]:
    """A command as its table row (flat: ``astuple`` would copy deep)."""
    values = [getattr(cmd, f.name) for f in fields(cmd)]
    values[-2] = json.dumps(cmd.effect)
    return tuple(values)


def command_from_row(row: tuple[Any, ...], schema: int) -> Command | None:
    """A command from its row; None when a value is not of its kind (damage)."""
    try:
        effect = json.loads(row[12])
    except (TypeError, ValueError):
        return None
    if not isinstance(row[7], bytes) or not isinstance(effect, (dict, type(None))):
        return None
    version = row[13] or legacy_version(schema)
    return Command(*row[:7], row[7], *row[8:12], effect, version)


__all__ = [
    "FORMAT",
    "SCHEMA",
    "Command",
    "Identity",
    "Snapshot",
    "StateFile",
    "StateFileError",
    "chain",
    "command_from_row",
    "command_row",
]
