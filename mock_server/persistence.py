"""The state file: the commands a server accepted, kept so a restart rebuilds the same World.

``mlspace-sim serve --state FILE`` keeps in SQLite (WAL, ``synchronous=FULL``, locked by one
server at a time) what the World is made of (seed, virtual start, resolved configuration, clock
mode and speed), every accepted command (method, path, query, raw body, workspace, status, a
digest of the response) with the virtual instant it took effect, the workspaces and tokens the
server handed out, and the latest virtual time any response showed. A command's row is committed
in its request, before the response leaves: what a client saw acknowledged survives a crash.

At start the World is rebuilt by replaying the commands, each at its instant, straight to its
view (no authentication: the recorded workspace is bound). Every id, timeline and log line is a
function of the seed, the request and its instant, so the replay gives the same world; each
replayed response must match the recorded digest, or the start fails rather than serve another
world. Commands (POST/PUT/PATCH/DELETE) run one at a time with the clock held still, so the file's
order is the order they took effect and each happened at one instant, even on the realtime clock.

Without a file the same journal lives in an in-memory database, so ``GET /_mock/state`` (export a
snapshot) and ``POST /_mock/state`` (replace the world with one) work either way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, astuple, dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, current_app, g, request

from mock_server.auth import Token, Workspace
from mock_server.errors import json_response, validation_error
from mock_server.journal import Entry
from mock_server.state import ServerState
from mock_server.validation import Field, validate
from simulator.clock import MODES, Clock
from simulator.config import SimConfig, load_config

FORMAT = "mlspace-sim-state"
SCHEMA = 1
APPLICATION_ID = 0x4D4C5353  # "MLSS" in the SQLite header: our files, not any SQLite database
LOCK_WAIT_S = 0.2  # one connection per file: waiting only means another server has it
COMMAND_METHODS = ("POST", "PUT", "PATCH", "DELETE")
SERVICE_AUTH = "/public/v2/service_auth"
JOURNALED_PREFIXES = ("/public/v2/", "/_mock/clock/")  # what app.record() journals
EXTENSION = "mlspace_sim.persistence"
TABLES = {
    "meta": "key TEXT PRIMARY KEY, value TEXT NOT NULL",
    "commands": "seq INTEGER PRIMARY KEY, at REAL NOT NULL, t REAL NOT NULL, "
    "epoch REAL NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, query TEXT NOT NULL, "
    "content_type TEXT NOT NULL, body BLOB NOT NULL, workspace TEXT NOT NULL, "
    "author TEXT NOT NULL, status INTEGER NOT NULL, digest TEXT NOT NULL",
    "workspaces": "id TEXT PRIMARY KEY, data TEXT NOT NULL",
    "tokens": "token TEXT PRIMARY KEY, client_id TEXT NOT NULL, expires_at REAL NOT NULL",
}
log = logging.getLogger("mlspace_sim.persistence")


class StateFileError(Exception):
    """A state file that cannot be used: unreadable, foreign, newer, in use, or replaying to
    another world."""


class ReplayMismatch(Exception):
    """A command that did not replay as it was recorded."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


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
    """One accepted command, enough to replay it and to check the replay."""

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
    digest: str  # sha256 of the response body


@dataclass(frozen=True)
class Snapshot:
    identity: Identity
    clock_s: float  # the virtual time to resume at
    workspaces: list[Workspace]
    commands: list[Command]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# ---- the clock ----------------------------------------------------------------------------------
class HeldClock(Clock):
    """A clock that can stand still: while a command runs (``hold``), or at each replayed
    command's recorded instant (``pin``). Moves made meanwhile (advance, catch-up) still count,
    by the same float arithmetic in both cases, so a replay lands on the very same instants."""

    def __init__(self, mode: str, speed: float, wall: Any) -> None:
        super().__init__(mode, speed, wall)
        self.held: float | None = None

    @classmethod
    def continuing(cls, clock: Clock, at: float | None = None) -> HeldClock:
        """A held-capable clock of ``clock``'s mode and speed, at ``at`` (default: where
        ``clock`` is now)."""
        new = cls(clock.mode, clock.speed, clock._wall)
        new.advance(clock.target() if at is None else at)
        return new

    def target(self) -> float:
        return super().target() if self.held is None else self.held

    def hold(self) -> float:
        self.held = super().target() if self.held is None else self.held
        return self.held

    def pin(self, at: float) -> None:
        self.held = at

    def release(self) -> None:
        self.held = None

    def advance(self, seconds: float) -> None:
        super().advance(seconds)
        if self.held is not None:
            self.held += seconds

    def catch_up_to(self, t: float) -> None:
        super().catch_up_to(t)
        if self.held is not None:
            self.held = max(self.held, t)


# ---- the SQLite side ----------------------------------------------------------------------------
class StateFile:
    """One connection, one lock; every write is one transaction. ``None`` keeps it in memory."""

    def __init__(self, path: str | Path | None) -> None:
        self.durable = path is not None
        self.path = str(path) if path is not None else ":memory:"
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self.path, timeout=LOCK_WAIT_S, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StateFileError(f"{self.path}: cannot open ({exc})") from None
        try:
            if self.durable:  # the file lock, once taken, is kept until close
                self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
            new = self._is_new()  # reads only: a file that is not ours is left untouched
            if self.durable:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
            with self._write():  # a write, so the lock is taken now, not at the first command
                if new:
                    for name, columns in TABLES.items():
                        self._db.execute(f"CREATE TABLE {name} ({columns})")
                    self._db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                    self._db.execute(f"PRAGMA user_version={SCHEMA}")
                    self._put_meta(format=FORMAT, clock_s=0.0)
                self._put_meta(schema=SCHEMA)
        except StateFileError:
            self._db.close()
            raise
        except sqlite3.OperationalError as exc:
            self._db.close()
            if "locked" in str(exc):
                raise StateFileError(f"{self.path}: in use by another mlspace-sim server") from None
            raise StateFileError(f"{self.path}: cannot use ({exc})") from None
        except sqlite3.DatabaseError as exc:
            self._db.close()
            what = "not an mlspace-sim state file" if "not a database" in str(exc) else "damaged"
            raise StateFileError(f"{self.path}: {what} (SQLite: {exc})") from None

    # ---- plumbing ----
    @contextmanager
    def _write(self, *, synced: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction; ``synced=False`` skips the fsync (it survives a crash of this
        process, not of the machine): for the clock checkpoint, written on every response."""
        with self._lock:
            if not synced and self.durable:
                self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            finally:
                if not synced and self.durable:
                    self._db.execute("PRAGMA synchronous=FULL")

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _is_new(self) -> bool:
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
                f"schema {SCHEMA})"
            )
        if version != SCHEMA or not set(TABLES) <= tables:
            raise StateFileError(
                f"{self.path}: damaged (schema {version}, tables {sorted(tables)})"
            )
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise StateFileError(f"{self.path}: damaged ({check})")
        return False

    def _put_meta(self, **values: Any) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, json.dumps(v)) for k, v in values.items()],
        )

    def _meta(self) -> dict[str, Any]:
        try:
            return {k: json.loads(v) for k, v in self._read("SELECT key, value FROM meta")}
        except ValueError as exc:
            raise StateFileError(f"{self.path}: damaged meta ({exc})") from None

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
        rows = self._read(
            "SELECT at, t, epoch, method, path, query, content_type, body, workspace, author, "
            "status, digest FROM commands ORDER BY seq"
        )
        try:
            commands = [Command(*row[:7], bytes(row[7]), *row[8:]) for row in rows]
            workspaces = [
                Workspace(**json.loads(d)) for (d,) in self._read("SELECT data FROM workspaces")
            ]
            clock_s = float(self._meta()["clock_s"])
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFileError(f"{self.path}: damaged records ({exc!r})") from None
        return Snapshot(identity, clock_s, workspaces, commands)

    def tokens(self) -> list[tuple[str, str, float]]:
        return self._read("SELECT token, client_id, expires_at FROM tokens")

    # ---- writing ----
    def write_identity(self, identity: Identity) -> None:
        with self._write():
            self._put_meta(**asdict(identity))

    def append(self, seq: int, cmd: Command, workspaces: list[Workspace], clock_s: float) -> None:
        """One command, the workspaces it brought, the clock: together, synced."""
        with self._write() as db:
            self._put_workspaces(workspaces)
            db.execute(
                "INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, *(getattr(cmd, f.name) for f in fields(cmd))),  # flat: astuple copies deep
            )
            self._put_meta(clock_s=clock_s)

    def clear(self, seed: int) -> None:
        """A reset: no commands, the new seed, the clock at the start."""
        with self._write() as db:
            db.execute("DELETE FROM commands")
            self._put_meta(seed=seed, clock_s=0.0)

    def replace(self, snap: Snapshot) -> None:
        """An imported world, in one transaction."""
        with self._write() as db:
            db.execute("DELETE FROM commands")
            db.executemany(
                "INSERT INTO commands VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(i, *astuple(c)) for i, c in enumerate(snap.commands, 1)],
            )
            self._put_workspaces(snap.workspaces)
            self._put_meta(**asdict(snap.identity), clock_s=snap.clock_s)

    def save_workspaces(self, workspaces: list[Workspace]) -> None:
        with self._write():
            self._put_workspaces(workspaces)

    def _put_workspaces(self, workspaces: list[Workspace]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO workspaces (id, data) VALUES (?, ?)",
            [(ws.id, json.dumps(asdict(ws))) for ws in workspaces],
        )

    def save_token(self, token: str, client_id: str, expires_at: float) -> None:
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)", (token, client_id, expires_at)
            )

    def drop_tokens_expired_by(self, epoch: float) -> None:
        with self._write() as db:
            db.execute("DELETE FROM tokens WHERE expires_at <= ?", (epoch,))

    def checkpoint(self, clock_s: float) -> None:
        """The latest virtual time a response showed (not fsynced: see ``_write``)."""
        with self._write(synced=False):
            self._put_meta(clock_s=clock_s)

    def close(self) -> None:
        with self._lock:
            self._db.close()


# ---- snapshots as JSON --------------------------------------------------------------------------
TOP_FIELDS = {
    "format": Field("string", required=True, enum=(FORMAT,)),
    "schema": Field("integer", required=True, enum=(SCHEMA,)),
    "meta": Field("object", required=True),
    "workspaces": Field("array", required=True),
    "entries": Field("array", required=True),
}
META_FIELDS = {
    "seed": Field("integer", required=True),
    "start_epoch": Field("number", required=True, ge=0),
    "config": Field("object", required=True),
    "clock": Field("object", required=True),
}
CLOCK_FIELDS = {
    "mode": Field("string", required=True, enum=MODES),
    "speed": Field("number", required=True, gt=0),
    "elapsed_s": Field("number", required=True, ge=0),
}
WORKSPACE_FIELDS = {
    "id": Field("string", required=True),
    "api_key": Field("string", required=True),
    "name": Field("string", required=True),
    "namespace": Field("string", required=True),
    "project_id": Field("string"),
    "project_name": Field("string"),
    "owner_email": Field("string"),
    "extra": Field("object"),
}
ENTRY_FIELDS = {
    "seq": Field("integer", ge=1),
    "at": Field("number", required=True, ge=0),
    "t": Field("number", required=True),
    "epoch": Field("number", required=True),
    "method": Field("string", required=True, enum=COMMAND_METHODS),
    "path": Field("string", required=True),
    "query": Field("string", required=True),
    "content_type": Field("string", required=True),
    "body": Field("string"),
    "body_base64": Field("string"),
    "workspace": Field("string", required=True),
    "author": Field("string", required=True),
    "status": Field("integer", required=True, ge=200, le=299),
    "digest": Field("string", required=True),
}


def snapshot_json(snap: Snapshot) -> dict[str, Any]:
    ident = snap.identity
    return {
        "format": FORMAT,
        "schema": SCHEMA,
        "meta": {
            "seed": ident.seed,
            "start_epoch": ident.start_epoch,
            "config": ident.config,
            "clock": {"mode": ident.clock, "speed": ident.speed, "elapsed_s": snap.clock_s},
        },
        "workspaces": [asdict(ws) for ws in snap.workspaces],
        "entries": [_entry_json(i, c) for i, c in enumerate(snap.commands, 1)],
    }


def _entry_json(seq: int, cmd: Command) -> dict[str, Any]:
    out = {"seq": seq, **asdict(cmd)}
    try:
        out["body"] = cmd.body.decode("utf-8")
    except UnicodeDecodeError:
        del out["body"]
        out["body_base64"] = base64.b64encode(cmd.body).decode("ascii")
    return out


def parse_snapshot(data: Any) -> Snapshot:
    """A snapshot from ``GET /_mock/state``'s JSON, or a FastAPI-style 422 naming the problem."""
    if not isinstance(data, dict):
        raise validation_error(["body"], "Input should be a valid dictionary", "dict_type")
    validate(data, TOP_FIELDS)
    meta = data["meta"]
    validate(meta, META_FIELDS, loc=("body", "meta"))
    validate(meta["clock"], CLOCK_FIELDS, loc=("body", "meta", "clock"))
    _finite(["body", "meta", "start_epoch"], meta["start_epoch"])
    for name in ("speed", "elapsed_s"):
        _finite(["body", "meta", "clock", name], meta["clock"][name])
    workspaces = []
    for i, ws in enumerate(data["workspaces"]):
        loc = ("body", "workspaces", i)
        if not isinstance(ws, dict):
            raise validation_error(list(loc), "Input should be a valid dictionary", "dict_type")
        validate(ws, WORKSPACE_FIELDS, loc=loc)
        workspaces.append(Workspace(**ws))
    commands: list[Command] = []
    for i, entry in enumerate(data["entries"]):
        commands.append(_parse_entry(entry, i, commands[-1].at if commands else 0.0))
    identity = Identity(
        config=meta["config"],
        seed=meta["seed"],
        start_epoch=float(meta["start_epoch"]),
        clock=meta["clock"]["mode"],
        speed=float(meta["clock"]["speed"]),
    )
    return Snapshot(identity, float(meta["clock"]["elapsed_s"]), workspaces, commands)


def _parse_entry(entry: Any, i: int, previous_at: float) -> Command:
    loc = ["body", "entries", i]
    if not isinstance(entry, dict):
        raise validation_error(loc, "Input should be a valid dictionary", "dict_type")
    validate(entry, ENTRY_FIELDS, loc=tuple(loc))
    for name in ("at", "t", "epoch"):
        _finite([*loc, name], entry[name])
    if not entry["path"].startswith(JOURNALED_PREFIXES):
        raise validation_error(
            [*loc, "path"],
            "Input should be a path the journal keeps (the Public API or the clock)",
            "value_error",
            input=entry["path"],
        )
    if entry["at"] < previous_at:
        raise validation_error(
            [*loc, "at"],
            f"Input should be greater than or equal to {previous_at} (commands in time order)",
            "greater_than_equal",
            input=entry["at"],
        )
    if ("body" in entry) == ("body_base64" in entry):
        raise validation_error(loc, "Exactly one of body, body_base64 is required", "value_error")
    if "body" in entry:
        body = entry["body"].encode("utf-8", "surrogatepass")
    else:
        try:
            body = base64.b64decode(entry["body_base64"], validate=True)
        except binascii.Error:
            raise validation_error(
                [*loc, "body_base64"], "Input should be base64", "value_error"
            ) from None
    fields = {k: v for k, v in entry.items() if k not in ("seq", "body", "body_base64")}
    times = {name: float(entry[name]) for name in ("at", "t", "epoch")}
    return Command(**{**fields, **times, "body": body})


def _finite(loc: list[Any], value: float) -> None:
    if not math.isfinite(value):
        raise validation_error(loc, "Input should be a finite number", "finite_number", input=None)


# ---- the server side ----------------------------------------------------------------------------
def world_arguments(
    store: StateFile | None,
    config: SimConfig,
    seed: int,
    start_epoch: float | None,
    clock: str,
    speed: float,
) -> tuple[SimConfig, int, float | None, str, float]:
    """What to build the World from: the file's record once it has one, else the arguments."""
    found = store.identity() if store is not None else None
    if store is None or found is None:
        return config, seed, start_epoch, clock, speed
    try:
        saved = load_config(None, found.config)
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFileError(f"{store.path}: unusable configuration ({exc})") from None
    return saved, found.seed, found.start_epoch, found.clock, found.speed


class Persistence:
    """The journal's sink and the request hooks: serialized commands, durable answers."""

    def __init__(self, app: Flask, st: ServerState, store: StateFile) -> None:
        self.app, self.st, self.store = app, st, store
        self.commands = threading.Lock()  # one command at a time, in the file's order
        self.resumed = False
        self.broken: str | None = None
        world = st.world
        self._wall = world.clock._wall
        world.clock = HeldClock.continuing(world.clock)
        self.identity = Identity(
            config=json.loads(json.dumps(world.config.raw, default=str)),  # YAML dates: text
            seed=world.seed,
            start_epoch=world.start_epoch,
            clock=world.clock.mode,
            speed=world.clock.speed,
        )
        found = store.identity()
        if found is None:
            store.write_identity(self.identity)
        elif (found.seed, found.start_epoch, _resolved(found.config)) != (
            world.seed,
            world.start_epoch,
            _resolved(self.identity.config),
        ):
            raise StateFileError(f"{store.path}: records another world than the one given")
        self._saved_ws: set[str] = set()
        self._shown = 0.0  # the latest virtual time checkpointed
        st.journal.sink = self

    # ---- start ----
    def resume(self) -> int:
        """Rebuild the recorded world (once); returns how many commands were replayed."""
        with self.commands:
            if self.resumed:
                return 0
            try:
                snap = self.store.load()
                self.store.drop_tokens_expired_by(snap.identity.start_epoch + snap.clock_s)
                for token, client_id, expires_at in self.store.tokens():
                    self.st.auth._tokens[token] = Token(client_id, expires_at)
                if snap.commands:
                    self._rebuild(snap)
                else:
                    self._join(snap)
            except sqlite3.Error as exc:
                raise StateFileError(f"{self.store.path}: cannot read ({exc})") from None
            except ReplayMismatch as exc:
                cmd = snap.commands[exc.index]
                raise StateFileError(
                    f"{self.store.path}: command #{exc.index + 1} ({cmd.method} {cmd.path}) "
                    f"{exc}; the file was written by another version or configuration of "
                    "mlspace-sim"
                ) from None
            self._saved_ws = {ws.id for ws in snap.workspaces}
            self._shown = snap.clock_s
            self.resumed = True
            return len(snap.commands)

    def _join(self, snap: Snapshot) -> None:
        """A file with no commands yet: the world stays as it is (a given World may hold
        runtime models or state of its own); workspaces and the clock catch up."""
        for ws in snap.workspaces:
            self.st.auth.workspaces.setdefault(ws.id, ws)
        world = self.st.world
        world.clock = HeldClock.continuing(world.clock, max(snap.clock_s, world.clock.target()))

    def _rebuild(self, snap: Snapshot) -> None:
        """The world of ``snap``: a reset, then every command at its instant, then the clock."""
        st, world = self.st, self.st.world
        for ws in snap.workspaces:
            st.auth.workspaces.setdefault(ws.id, ws)
        sink, st.journal.sink = st.journal.sink, None
        at = snap.clock_s
        try:
            world.start_epoch = snap.identity.start_epoch
            st.reset(snap.identity.seed)
            pinned = world.clock = HeldClock(snap.identity.clock, snap.identity.speed, self._wall)
            for i, cmd in enumerate(snap.commands):
                pinned.pin(cmd.at)
                self._replay(i, cmd)
            at = max(pinned.target(), at)
        finally:
            st.journal.sink = sink
            world.clock = HeldClock(self.identity.clock, self.identity.speed, self._wall)
            world.clock.advance(at)

    def _replay(self, i: int, cmd: Command) -> None:
        app = self.app
        ws = self.st.auth.workspaces.get(cmd.workspace)
        if ws is None and cmd.path.startswith("/public/v2/"):
            raise ReplayMismatch(i, f"acts for an unknown workspace {cmd.workspace!r}")
        query = {"QUERY_STRING": cmd.query}  # byte for byte as the server saw it
        headers = {"Content-Type": cmd.content_type} if cmd.content_type else {}
        with (
            app.app_context(),  # a g of its own, even inside an importing request
            app.test_request_context(
                quote(cmd.path),
                method=cmd.method,
                environ_overrides=query,
                data=cmd.body,
                headers=headers,
            ),
        ):
            g.workspace = ws
            try:
                rv = app.dispatch_request()
            except Exception as exc:  # answered as the app answers it (ApiError, 404, crash)
                rv = app.handle_user_exception(exc)
            response = app.make_response(rv)
            data = response.get_data()
        if response.status_code != cmd.status:
            raise ReplayMismatch(
                i, f"replays as HTTP {response.status_code}, recorded {cmd.status}"
            )
        if _digest(data) != cmd.digest:
            raise ReplayMismatch(i, "replays with another response than recorded")
        self.st.journal.record(
            t=cmd.t,
            epoch=cmd.epoch,
            method=cmd.method,
            path=cmd.path,
            query=cmd.query,
            workspace=cmd.workspace,
            author=cmd.author,
            status=cmd.status,
            body=cmd.body,
            response=data,
        )

    # ---- the journal's sink ----
    def append(self, entry: Entry, body: bytes, response: bytes) -> None:
        if self.broken:
            raise StateFileError(self.broken)
        world = self.st.world
        cmd = Command(
            at=g.get("command_at", world.clock.target()),
            t=entry.t,
            epoch=entry.epoch,
            method=entry.method,
            path=entry.path,
            query=entry.query,
            content_type=request.headers.get("Content-Type", ""),
            body=body,
            workspace=entry.workspace,
            author=entry.author,
            status=entry.status,
            digest=_digest(response),
        )
        new = self._new_workspaces()
        clock_s = world.clock.target()
        try:
            self.store.append(entry.seq, cmd, new, clock_s)
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        self._saved_ws.update(ws.id for ws in new)
        self._shown = max(self._shown, clock_s)

    def clear(self) -> None:
        try:
            self.store.clear(self.st.world.seed)
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        self._shown = 0.0

    # ---- request hooks ----
    def before(self) -> Any:
        if not self.resumed and not self.broken:
            try:
                self.resume()
            except StateFileError as exc:
                self._fail(exc)
        if request.method not in COMMAND_METHODS:
            return None
        if self.broken:
            return json_response(
                {"error_code": 503, "error_message": f"state file unusable: {self.broken}"}, 503
            )
        request.get_data(cache=True)  # the raw body, kept: parsing a form would consume it
        self.commands.acquire()
        g.mlspace_command = True
        g.command_at = self._clock().hold()
        return None

    def after(self, response: Any) -> Any:
        """Tokens, new workspaces and the virtual time shown reach the file before the answer."""
        try:
            if (
                request.path == SERVICE_AUTH
                and request.method == "POST"
                and response.status_code == 200
            ):
                self._save_token(response)
            new = self._new_workspaces()
            if new:
                self.store.save_workspaces(new)
                self._saved_ws.update(ws.id for ws in new)
            shown = self.st.world.clock.target()
            if shown > self._shown and self.store.durable:
                self.store.checkpoint(shown)
                self._shown = shown
        except sqlite3.Error as exc:
            self._fail(exc)
        return response

    def teardown(self, _exc: BaseException | None) -> None:
        if g.pop("mlspace_command", False):
            clock = self.st.world.clock
            if isinstance(clock, HeldClock):
                clock.release()
            self.commands.release()

    def _clock(self) -> HeldClock:
        """The world's clock, made held-capable again if a reset replaced it."""
        world = self.st.world
        if not isinstance(world.clock, HeldClock):
            world.clock = HeldClock.continuing(world.clock)
        return world.clock

    def _new_workspaces(self) -> list[Workspace]:
        known = self.st.auth.workspaces
        if len(known) == len(self._saved_ws):
            return []
        return [ws for ws_id, ws in list(known.items()) if ws_id not in self._saved_ws]

    def _save_token(self, response: Any) -> None:
        token = json.loads(response.get_data())["token"]["access_token"]
        issued = self.st.auth._tokens.get(token)
        if issued is not None:
            self.store.save_token(token, issued.client_id, issued.expires_at)

    def _fail(self, exc: BaseException) -> StateFileError:
        """From now on commands are refused: the world in memory may be ahead of the file."""
        self.broken = str(exc)
        log.error("state file %s: %s; refusing commands until restart", self.store.path, exc)
        return StateFileError(self.broken)

    # ---- snapshots ----
    def export(self) -> dict[str, Any]:
        """The world as JSON: identity, workspaces, commands, the virtual time now."""
        with self.commands:
            snap = self.store.load()
            snap = replace(
                snap,
                identity=self.identity,
                clock_s=self.st.world.clock.target(),
                workspaces=list(self.st.auth.workspaces.values()),
            )
        return snapshot_json(snap)

    def load(self, data: Any) -> dict[str, Any]:
        """Replace the world with a snapshot's (inside a command: the lock is held)."""
        snap = parse_snapshot(data)
        try:
            same = _resolved(snap.identity.config) == _resolved(self.identity.config)
        except (KeyError, TypeError, ValueError):
            same = False
        if not same:
            raise validation_error(
                ["body", "meta", "config"],
                "The snapshot was taken with another configuration than this server's; start a "
                "server with that configuration to import it",
                "value_error",
            )
        previous = replace(self.store.load(), clock_s=self.st.world.clock.target())
        try:
            self._rebuild(snap)
        except ReplayMismatch as exc:
            self._rebuild(previous)
            raise validation_error(
                ["body", "entries", exc.index], f"The command {exc}", "value_error"
            ) from None
        self.identity = replace(
            self.identity, seed=snap.identity.seed, start_epoch=snap.identity.start_epoch
        )
        kept = replace(
            snap,
            identity=self.identity,
            workspaces=list(self.st.auth.workspaces.values()),
        )
        try:
            self.store.replace(kept)
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        self._saved_ws = {ws.id for ws in kept.workspaces}
        self._shown = snap.clock_s
        self.st.world.clock.hold()  # the rest of this request stands still, as commands do
        return {
            "status": "ok",
            "entries": len(snap.commands),
            "clock": self.st.world.clock_info(),
        }

    def close(self) -> None:
        """Checkpoint the clock and let the file go (tests, embedders)."""
        with self.commands:
            if self.store.durable and not self.broken:
                self.store.checkpoint(max(self._shown, self.st.world.clock.target()))
            self.store.close()


def _resolved(raw: dict[str, Any]) -> str:
    """A recorded configuration as this version resolves it (defaults added since included)."""
    return _canonical(load_config(None, raw).raw)


def install(app: Flask, store: StateFile | None) -> Persistence:
    """Mirror the journal to ``store`` (in memory when None) and serialize commands. The
    start-up replay runs on :func:`resume`, or before the first request."""
    keeper = Persistence(app, app.extensions["mlspace_sim"], store or StateFile(None))
    app.extensions[EXTENSION] = keeper
    app.before_request_funcs.setdefault(None, []).insert(0, keeper.before)  # before everything
    app.after_request(keeper.after)  # registered first, so it runs last
    app.teardown_request(keeper.teardown)
    return keeper


def of(app: Flask | None = None) -> Persistence:
    return (app or current_app).extensions[EXTENSION]


def resume(app: Flask) -> int:
    """Replay the state file now (after runtime models are registered); commands replayed."""
    return of(app).resume()


__all__ = [
    "Persistence",
    "StateFile",
    "StateFileError",
    "install",
    "of",
    "parse_snapshot",
    "resume",
    "world_arguments",
]
