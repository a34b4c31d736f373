"""The state file's server side: the commands a server accepted, kept so a restart rebuilds the
same World; a failed command rolled back; snapshots as JSON.

``mlspace-sim serve --state FILE`` keeps in one SQLite file (:mod:`mock_server.state_file`:
whole after every write, every command chained) what the World is made of (seed, virtual start,
resolved configuration, clock mode and speed), every accepted command (method, path, query, raw
body, workspace, status) with the virtual instant it took effect and what it did to the world
(:func:`effect_of`), the workspaces and tokens the server handed out, and the latest virtual time
any answer showed. A command's row is committed in its request, before the answer leaves: what a
client saw acknowledged survives a crash, in the one file.

At start the World is rebuilt by replaying the commands, each at its instant, straight to its
view (no authentication: the recorded workspace is bound). Every id, timeline and log line is a
function of the seed, the request and its instant, so the replay gives the same world; each
replayed command must do what it did the first time (same entities, statuses, bill), or the start
fails naming the command, the version that wrote it and the difference. The bytes of its answer
are not compared: a new response shape does not make old files unusable. Commands
(POST/PUT/PATCH/DELETE) run one at a time with the clock held still, so the file's order is the
order they took effect and each happened at one instant, even on the realtime clock; the Public
API's other requests take their turns in the same queue, first come first served
(:mod:`mock_server.turns`). A command that fails after it may have changed the world (a crash,
or more entities than before) is undone by rebuilding the world from the file, which never held
it.

Without a file the same journal lives in memory (:mod:`mock_server.state_memory`), so ``GET
/_mock/state`` (export a snapshot) and ``POST /_mock/state`` (replace the world with one) work
either way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import sqlite3
from collections.abc import Collection, Iterable, Iterator
from dataclasses import asdict, replace
from importlib import metadata
from typing import Any
from urllib.parse import quote

from flask import Flask, current_app, g, request

from mock_server import routing
from mock_server.auth import Token, Workspace
from mock_server.errors import json_response, parse_body, validation_error
from mock_server.journal import Entry
from mock_server.models.snapshot import API_PREFIX, CLOCK_PREFIX, SnapshotBody
from mock_server.state import ServerState
from mock_server.state_file import (
    FORMAT,
    SCHEMA,
    Command,
    Identity,
    Snapshot,
    StateFile,
    StateFileError,
    legacy_version,
)
from mock_server.state_memory import MemoryStore
from mock_server.turns import TurnLock
from simulator.config import SimConfig, load_config
from simulator.world import World

COMMAND_METHODS = ("POST", "PUT", "PATCH", "DELETE")
SERVICE_AUTH = "/public/v2/service_auth"
EXTENSION = "mlspace_sim.persistence"
try:
    VERSION = f"mlspace-sim {metadata.version('mlspace-sim')} (state schema {SCHEMA})"
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    VERSION = f"mlspace-sim (state schema {SCHEMA})"
log = logging.getLogger("mlspace_sim.persistence")


class ReplayMismatch(Exception):
    """A command that did not replay as it was recorded."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


# ---- snapshots as JSON --------------------------------------------------------------------------
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
    if cmd.effect is None:
        del out["effect"]
    try:
        out["body"] = cmd.body.decode("utf-8")
    except UnicodeDecodeError:
        del out["body"]
        out["body_base64"] = base64.b64encode(cmd.body).decode("ascii")
    return out


def parse_snapshot(data: Any) -> Snapshot:
    """A snapshot from ``GET /_mock/state``'s JSON, or a FastAPI-style 422 naming the problem."""
    body = parse_body(SnapshotBody, data)
    commands: list[Command] = []
    for i, row in enumerate(body.entries):
        previous = commands[-1].at if commands else 0.0
        if row.at < previous:
            raise validation_error(
                ["body", "entries", i, "at"],
                f"Input should be greater than or equal to {previous} (commands in time order)",
                "greater_than_equal",
                input=row.at,
            )
        kept = row.model_dump(exclude={"seq", "body", "body_base64", "version"})
        version = row.version or legacy_version(body.schema_)
        commands.append(Command(**kept, body=row.raw_body(), version=version))
    meta = body.meta
    identity = Identity(
        config=meta.config,
        seed=meta.seed,
        start_epoch=meta.start_epoch,
        clock=meta.clock.mode,
        speed=meta.clock.speed,
    )
    workspaces = [Workspace(**ws.model_dump()) for ws in body.workspaces]
    return Snapshot(identity, meta.clock.elapsed_s, workspaces, commands)


# ---- the server side ----------------------------------------------------------------------------
def is_command() -> bool:
    """Whether the current request may change the world: such requests run one at a time on a
    held clock, are journaled, and are undone when they fail. An operation of the table says so
    itself (``Op.mutating``); an admin route by its method."""
    op = routing.current()
    return op.mutating if op is not None else request.method in COMMAND_METHODS


class FlagConflict(StateFileError):
    """A flag given at start that says otherwise than the state file's record."""


def world_arguments(
    store: StateFile | None,
    config: SimConfig,
    seed: int,
    start_epoch: float | None,
    clock: str,
    speed: float,
    given: Collection[str] = (),
) -> tuple[SimConfig, int, float | None, str, float]:
    """What to build the World from: the file's record once it has one, else the arguments.
    Raises :class:`FlagConflict` when a flag named in ``given`` (``--seed``, ``--config``, ...)
    was set to something else than the file records."""
    found = store.identity() if store is not None else None
    if store is None or found is None:
        return config, seed, start_epoch, clock, speed
    try:
        saved = load_config(None, found.config)
    except (KeyError, TypeError, ValueError) as exc:
        store.close()
        raise StateFileError(f"{store.path}: unusable configuration ({exc})") from None
    asked = {
        "--seed": (seed, found.seed),
        "--start-time": (start_epoch, found.start_epoch),
        "--clock": (clock, found.clock),
        "--speed": (speed, found.speed),
        "--tariff": (config.tariff, saved.tariff),
        "--config": (_resolved(config.raw), _resolved(saved.raw)),
    }
    conflicts = [
        f"{flag} {mine!r} (the file has {theirs!r})" if flag != "--config" else flag
        for flag, (mine, theirs) in asked.items()
        if flag in given and mine != theirs
    ]
    if conflicts:
        store.close()
        raise FlagConflict(
            f"{store.path}: {', '.join(conflicts)} conflicts with the state file: once written, "
            "it fixes the seed, start, configuration and clock; drop the flag or use a new file"
        )
    return saved, found.seed, found.start_epoch, found.clock, found.speed


def effect_of(world: World, path: str, ref: str) -> dict[str, Any]:
    """What a command did, as the world shows it at its instant: how many jobs, servers and
    bill lines exist, the entity it made or acted on and that entity's status, and after a clock
    move the bill. Not the bytes of its answer: a new response shape changes none of it."""
    effect: dict[str, Any] = {"census": world.census(), "ref": ref}
    if ref:
        found = world.get_job(ref) or world.get_notebook(ref)
        if found is not None:
            effect["status"] = found.status
    if path.startswith(CLOCK_PREFIX):
        effect["bill"] = world.billing_report()["total"]
    return effect


def _difference(recorded: dict[str, Any], now: dict[str, Any]) -> str | None:
    """Why a replayed effect is not the recorded one (None: it is). A census compares only the
    kinds it recorded: a file from a release that counted fewer kinds still replays."""
    for key, then in recorded.items():
        if key == "census":
            counted = now.get(key, {})
            wrong = [
                f"{counted.get(kind)} {kind} where the first run left {count}"
                for kind, count in then.items()
                if counted.get(kind) != count
            ]
            if wrong:
                return "; ".join(wrong)
            continue
        if now.get(key) == then:
            continue
        what = {"ref": "the entity it made or acted on", "status": "its status", "bill": "the bill"}
        return f"{what.get(key, key)} is {now.get(key)!r} where the first run had {then!r}"
    return None


class Persistence:
    """The journal's sink and the request hooks: serialized commands, durable answers, failed
    commands rolled back."""

    def __init__(self, app: Flask, st: ServerState, store: StateFile | MemoryStore) -> None:
        self.app, self.st, self.store = app, st, store
        # one command at a time, in the file's order; the API's reads take their turns too
        self.turns = TurnLock()
        self.resumed = False
        self.broken: str | None = None
        world = st.world
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
        """Rebuild the recorded world (once); returns how many commands were replayed. A file
        of the previous schema is upgraded once its replay has succeeded."""
        with self.turns:
            if self.resumed:
                return 0
            try:
                snap = self.store.load()
                self.store.drop_tokens_expired_by(snap.identity.start_epoch + snap.clock_s)
                for token, client_id, expires_at in self.store.tokens():
                    self.st.auth.restore(token, Token(client_id, expires_at))
                if snap.commands:
                    commands = self._rebuild(snap)
                else:
                    commands = []
                    self._join(snap)
                if self.store.schema != SCHEMA:
                    self.store.upgrade(commands)
                    log.warning("%s: upgraded to state schema %d", self.store.path, SCHEMA)
            except sqlite3.Error as exc:
                raise StateFileError(f"{self.store.path}: cannot read ({exc})") from None
            except ReplayMismatch as exc:
                raise StateFileError(
                    f"{self.store.path}: command {snap.commands[exc.index].describe(exc.index + 1)}"
                    f" cannot be replayed: {exc}; {VERSION} would build another world from it, "
                    "so the file is refused (run the version that wrote it, or use a new file)"
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
        self.st.world.clock.catch_up_to(snap.clock_s)

    def _rebuild(self, snap: Snapshot) -> list[Command]:
        """The world of ``snap``: a reset, then every command at its instant (its effect
        checked), then the clock. Nobody sees the steps between. Returns the commands with the
        effects their replay had."""
        st, world = self.st, self.st.world
        for ws in snap.workspaces:
            st.auth.workspaces.setdefault(ws.id, ws)
        sink, st.journal.sink = st.journal.sink, None
        at = snap.clock_s
        replayed = []
        with st.lock, world.exclusive():
            try:
                st.reset(snap.identity.seed, start_epoch=snap.identity.start_epoch)
                for i, cmd in enumerate(snap.commands):
                    world.clock.pin(cmd.at)
                    replayed.append(replace(cmd, effect=self._replay(i, cmd)))
                at = max(world.clock.target(), at)
            finally:
                st.journal.sink = sink
                world.clock.release()
                world.clock.restart()
                world.clock.advance(at)
        return replayed

    def _replay(self, i: int, cmd: Command) -> dict[str, Any]:
        """Run one recorded command again; its effect, checked against the recorded one."""
        app = self.app
        ws = self.st.auth.workspaces.get(cmd.workspace)
        if ws is None and cmd.path.startswith(API_PREFIX):
            raise ReplayMismatch(i, f"it acts for an unknown workspace {cmd.workspace!r}")
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
        if not 200 <= response.status_code < 300:
            raise ReplayMismatch(
                i, f"it is refused now (HTTP {response.status_code}: {data[:200]!r})"
            )
        entry = self.st.journal.record(
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
        effect = effect_of(self.st.world, cmd.path, entry.ref)
        why = _difference(cmd.effect, effect) if cmd.effect is not None else None
        if why:
            raise ReplayMismatch(i, why)
        return effect

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
            digest=hashlib.sha256(response).hexdigest(),
            effect=effect_of(world, entry.path, entry.ref),
            version=VERSION,
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
        if not is_command():
            if request.path.startswith(API_PREFIX):
                self.turns.acquire()
                g.mlspace_turn = True
            return None
        if self.broken:
            return json_response(
                {"error_code": 503, "error_message": f"state file unusable: {self.broken}"}, 503
            )
        request.get_data(cache=True)  # the raw body, kept: parsing a form would consume it
        self.turns.acquire()
        g.mlspace_command = True
        world = self.st.world
        g.command_at = world.clock.hold()
        g.census = world.census()
        return None

    def after(self, response: Any) -> Any:
        """A failed command leaves no trace; tokens, new workspaces and the virtual time shown
        reach the file before the answer's first byte (a streamed answer: before each chunk)."""
        try:
            if g.get("mlspace_command") and not 200 <= response.status_code < 300:
                self._undo_if_changed(response.status_code)
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
            self._checkpoint()
        except sqlite3.Error as exc:
            self._fail(exc)
        if response.is_streamed and self.store.durable:
            response.response = self._covered(response.response)
        return response

    def _undo_if_changed(self, status: int) -> None:
        """Rebuild the world from the file, without the command that failed, when it may have
        changed something: it crashed (5xx), or there are more jobs, servers or bill lines."""
        if status < 500 and self.st.world.census() == g.census:
            return
        log.warning(
            "%s %s failed with %d: rebuilding the world without it",
            request.method,
            request.path,
            status,
        )
        try:
            snap = self.store.load()
            self._rebuild(replace(snap, clock_s=self.st.world.clock.target()))
        except (StateFileError, ReplayMismatch) as exc:
            self._fail(exc)  # the world may hold the failed command: accept no more
        self.st.world.clock.hold()

    def _covered(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """A streamed body whose every chunk is covered by the clock checkpoint."""
        try:
            for chunk in chunks:
                self._checkpoint()
                yield chunk
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def _checkpoint(self) -> None:
        """The virtual time now is on disk: after a crash no status shown goes backwards."""
        shown = self.st.world.clock.target()
        if shown > self._shown and self.store.durable:
            self.store.checkpoint(shown)
            self._shown = shown

    def teardown(self, _exc: BaseException | None) -> None:
        if g.pop("mlspace_command", False):
            self.st.world.clock.release()
            self.turns.release()
        elif g.pop("mlspace_turn", False):
            self.turns.release()

    def _new_workspaces(self) -> list[Workspace]:
        known = self.st.auth.workspaces
        if len(known) == len(self._saved_ws):
            return []
        return [ws for ws_id, ws in list(known.items()) if ws_id not in self._saved_ws]

    def _save_token(self, response: Any) -> None:
        token = json.loads(response.get_data())["token"]["access_token"]
        issued = self.st.auth.issued(token)
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
        with self.turns:
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
            commands = self._rebuild(snap)
        except ReplayMismatch as exc:
            self._rebuild(previous)
            raise validation_error(
                ["body", "entries", exc.index],
                f"The command cannot be replayed: {exc}",
                "value_error",
            ) from None
        self.identity = replace(
            self.identity, seed=snap.identity.seed, start_epoch=snap.identity.start_epoch
        )
        kept = replace(
            snap,
            identity=self.identity,
            commands=commands,
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
        with self.turns:
            if self.store.durable and not self.broken:
                self.store.checkpoint(max(self._shown, self.st.world.clock.target()))
            self.store.close()


def _resolved(raw: dict[str, Any]) -> str:
    """A recorded configuration as this version resolves it (defaults added since included)."""
    return json.dumps(load_config(None, raw).raw, sort_keys=True, default=str)


def install(app: Flask, store: StateFile | None) -> Persistence:
    """Mirror the journal to ``store`` (in memory when None) and serialize commands. The
    start-up replay runs on :func:`resume`, or before the first request."""
    keeper = Persistence(app, app.extensions["mlspace_sim"], store or MemoryStore())
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
    "FlagConflict",
    "Persistence",
    "StateFile",
    "StateFileError",
    "effect_of",
    "install",
    "of",
    "parse_snapshot",
    "resume",
    "world_arguments",
]
