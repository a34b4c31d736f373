"""Connectors and transfer rules of every workspace, and their runs on the engine's clock.

Everything is keyed by workspace: a lookup never crosses workspaces, so one workspace can neither
see nor change another's records. Every workspace starts with two system connectors, its
``s3mlspace`` bucket and its ``nfs`` home (the NFS one has the workspace id as its id, as
``client_lib.copy_from_nfs`` shows on the platform). They date from the world's virtual start,
not from when they were first looked at, so replaying a state file's commands (reads are not
kept) rebuilds them the same.

A rule's schedule is a calendar the engine consults as it moves time (:meth:`Transfers.next_due`,
:meth:`Transfers.start_due`): each run starts at its own due instant, with the connectors as they
are then, and is a SimPy process that keeps the engine busy until its last source is copied. A
schedule waiting for its next date does not: ``run_until_idle`` ends when no copy is in flight.
When time jumps far ahead in one go, runs missed long ago are skipped (``skip_missed``), not
replayed by the thousand.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from simulator.randomness import stable_uuid, stream, uuid4_from
from simulator.transfers.runs import SQL_TYPES, Entry, Run, plan_entry
from simulator.transfers.schedule import Schedule

LOOKBACK_S = 31 * 86_400  # missed runs older than this are skipped, not replayed
MAX_CATCH_UP = 500  # at most this many missed runs are replayed per rule
MAX_RUNS_KEPT = 1000  # the history keeps this many runs per rule, oldest dropped first
ONLY_NEW = ("append_new", "sync_all")


def user_uid(owner_email: str) -> str:
    """The platform user id behind a workspace's keys."""
    return stable_uuid("user", owner_email)


@dataclass
class Connector:
    connector_id: str
    workspace_id: str
    name: str
    source_type: str
    parameters: dict[str, Any]
    uid: str
    created: float
    modified: float
    public: bool = False
    system: bool = False
    favorite: bool = False
    status: str = "success"
    type_status: str = "Test: success"
    try_status: str = "success"
    try_logs: list[str] = field(default_factory=list)

    def tested(self, ok: bool, logs: list[str], now: float) -> None:
        """Record a connection test's outcome; the connector is active only if it passed."""
        self.try_logs = logs
        self.try_status = self.status = "success" if ok else "failed"
        self.type_status = f"Test: {self.status}"
        self.modified = now


@dataclass
class Transfer:
    transfer_id: str
    workspace_id: str
    uid: str
    created: float
    modified: float
    body: dict[str, Any]  # the validated create/update body, minus ``crontab``
    schedule: Schedule
    active: bool = True
    next_at: int | None = None
    runs: list[Run] = field(default_factory=list)

    def uses(self, connector_id: str) -> bool:
        return connector_id in (self.body["connector_id"], self.body["destination_connector_id"])

    @property
    def sources(self) -> list[str]:
        source = self.body["query"]["source"]
        return [source] if isinstance(source, str) else list(source)

    def reschedule(self, now: float) -> None:
        """The next periodic run at or after ``now``; nothing more for a one-shot rule."""
        self.next_at = self.schedule.next_at(now)


def _system(ws: Any, kind: str, cid: str, where: str, now: float) -> Connector:
    """A platform-made connector: the workspace bucket (s3mlspace) or NFS home (nfs)."""
    params = {"bucket": where} if kind == "s3mlspace" else {"namespace": where}
    return Connector(
        cid, ws.id, kind, kind, params, user_uid(ws.owner_email), now, now, system=True
    )


def _unusable(role: str, cid: str, conn: Connector | None) -> str | None:
    """Why a run cannot use this connector, or None."""
    if conn is None:
        return f"{role} connector {cid} not found"
    if conn.status != "success":
        return f"{role} connector '{conn.name}' is not active (status: {conn.status})"
    return None


def _copied(t: Transfer, source: str, when: int) -> bool:
    """Whether an earlier run of the rule had copied ``source`` by ``when``."""
    return any(
        e.source == source and e.status(when) == "success" for r in t.runs for e in r.entries
    )


class Transfers:
    """All data-transfer records of one engine; runs happen on its environment."""

    def __init__(
        self, env: simpy.Environment, seed: int, start_epoch: float, now: Callable[[], float]
    ) -> None:
        self.env = env
        self.seed = seed
        self.start_epoch = start_epoch  # when the system connectors were made
        self.now_epoch = now
        self.connectors: dict[str, dict[str, Connector]] = {}
        self.transfers: dict[str, dict[str, Transfer]] = {}
        self._counters: dict[tuple[str, str], int] = {}

    def new_id(self, workspace_id: str, kind: str) -> str:
        """Deterministic per (seed, workspace, kind, n): other workspaces never shift it."""
        n = self._counters.get((workspace_id, kind), 0)
        self._counters[workspace_id, kind] = n + 1
        return str(uuid4_from(stream(self.seed, "dts", kind, workspace_id, n)))

    # ---- connectors ---------------------------------------------------------------------------
    def workspace_connectors(self, ws: Any) -> dict[str, Connector]:
        """The workspace's connectors, system ones filled in on first use."""
        found = self.connectors.get(ws.id)
        if found is not None:
            return found
        made = self.start_epoch
        s3 = _system(ws, "s3mlspace", stable_uuid(ws.id, "s3mlspace"), f"b-{ws.namespace}", made)
        nfs = _system(ws, "nfs", ws.id, ws.namespace, made)
        found = self.connectors[ws.id] = {s3.connector_id: s3, nfs.connector_id: nfs}
        return found

    def halt(self, ws_id: str, conn: Connector) -> None:
        """Mark a connector inactive and deactivate every rule that reads or writes through it."""
        now = self.now_epoch()
        conn.status, conn.type_status, conn.modified = "inactive", "Halt: success", now
        for t in self.transfers.get(ws_id, {}).values():
            if t.uses(conn.connector_id) and t.active:
                t.active, t.modified = False, now

    # ---- transfers ----------------------------------------------------------------------------
    def workspace_transfers(self, ws_id: str) -> dict[str, Transfer]:
        return self.transfers.setdefault(ws_id, {})

    def add(self, t: Transfer) -> None:
        """Keep a new rule; a run due now (a one-shot rule) starts at once."""
        self.workspace_transfers(t.workspace_id)[t.transfer_id] = t
        self.start_due(self.now_epoch())

    def _rules(self) -> Generator[Transfer]:
        for rules in self.transfers.values():
            yield from rules.values()

    def skip_missed(self, until: float) -> None:
        """Before a jump to ``until``: runs that would fall due long before it are skipped (at
        most ``MAX_CATCH_UP`` per rule, none older than ``LOOKBACK_S``)."""
        for t in self._rules():
            since = until - min(LOOKBACK_S, (MAX_CATCH_UP - 1) * t.schedule.min_gap_s)
            if t.next_at is not None and t.next_at < since:
                t.next_at = t.schedule.next_at(since)

    def next_due(self) -> float:
        """The epoch of the next run of an active rule (infinity if none)."""
        due = [t.next_at for t in self._rules() if t.active and t.next_at is not None]
        return min(due, default=float("inf"))

    def start_due(self, now: float) -> None:
        """Start every run due by ``now``."""
        for t in self._rules():
            while t.active and t.next_at is not None and t.next_at <= now:
                self._start_run(t, t.next_at, self.connectors.get(t.workspace_id, {}))
                t.next_at = t.schedule.next_at(t.next_at + 1)

    def history(self, ws_id: str) -> Generator[tuple[Transfer, Run, Entry]]:
        """Every history entry of the workspace, with its rule and run."""
        for t in self.workspace_transfers(ws_id).values():
            for run in t.runs:
                for e in run.entries:
                    yield t, run, e

    def delete_history(self, ws_id: str, history_ids: list[str]) -> list[str]:
        """Forget the entries named (a run left without entries goes too); the ids found."""
        wanted, gone = set(history_ids), []
        for t in self.workspace_transfers(ws_id).values():
            for run in t.runs:
                gone += [e.history_id for e in run.entries if e.history_id in wanted]
                run.entries = [e for e in run.entries if e.history_id not in wanted]
            t.runs = [r for r in t.runs if r.entries]
        return gone

    def rerun(self, t: Transfer, source: str) -> tuple[Run, list[Entry]]:
        """Run one source of a rule again now, whether or not the rule is active; a second
        re-run of it at the same instant answers the first one's entry."""
        now = int(self.now_epoch())
        for run in t.runs:
            same = [e for e in run.entries if e.source == source]
            if run.execution == now and same:
                return run, same
        run = self._start_run(t, now, self.connectors.get(t.workspace_id, {}), [source])
        return run, run.entries

    def _start_run(
        self,
        t: Transfer,
        execution: int,
        conns: dict[str, Connector],
        sources: list[str] | None = None,
    ) -> Run:
        body = t.body
        roles = (
            ("Source", body["connector_id"]),
            ("Destination", body["destination_connector_id"]),
        )
        found = [(role, cid, conns.get(cid)) for role, cid in roles]
        errors = [_unusable(*f) for f in found]
        error = next((e for e in errors if e), None)
        only_new = body["strategy"] in ONLY_NEW
        entries = [
            plan_entry(
                self.seed,
                t.transfer_id,
                execution,
                source,
                sql=body["connector_type"] in SQL_TYPES,
                already_copied=only_new and _copied(t, source, execution),
                error=error,
            )
            for source in sources or t.sources
        ]
        names = [c.name if c else "" for _, _, c in found]
        run = Run(execution, names[0], names[1], body["query"]["destination"], entries)
        t.runs.append(run)
        del t.runs[:-MAX_RUNS_KEPT]
        self.env.process(self._copying(run))
        return run

    def _copying(self, run: Run) -> Generator[simpy.Event]:
        """The run in flight: the engine is busy until its last source ends."""
        left = max(e.end for e in run.entries) - self.now_epoch()
        if left > 0:
            yield self.env.timeout(left)
