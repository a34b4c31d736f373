"""The journal of accepted commands: what a running server saw, with virtual times.

Every request that changed state and succeeded is recorded (method, path, query, body, the
workspace it acted for, the virtual time, and the id it produced). ``GET /_mock/journal`` serves
it as a replayable workload; job and Jupyter Server commands are also classified
(kind/action/ref) so the what-if analyser can import them directly. A sink (the state file of
``mock_server.persistence``) sees each entry before it counts, so a command the file could not
keep is never acknowledged.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from mock_server import routing

CLOCK_COMMANDS = {
    "/_mock/clock/advance": ("clock", "advance"),
    "/_mock/clock/run-until-idle": ("clock", "run-until-idle"),
}
ID_KEYS = ("job_name", "uid", "uuid", "id", "transfer_id", "connector_id")
Routed = tuple[routing.Op, dict[str, Any]]


@dataclass
class Entry:
    """One accepted command."""

    seq: int
    t: float  # virtual seconds since the world's start
    epoch: float
    method: str
    path: str
    query: str
    workspace: str
    author: str
    status: int
    body: bytes = b""  # the command's raw body: shown parsed as ``params``, read rarely
    kind: str = "other"
    action: str = ""
    ref: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def classify(
    method: str, path: str, response: Any, found: Routed | None = None
) -> tuple[str, str, str]:
    """(kind, action, ref) of a command, from its operation's ``journal`` column; ``ref`` is
    the job name or server uid it acted on (its last path parameter, or the id it produced).
    ``found``: the operation and path parameters the request was routed to (else matched here
    again, as for a replayed command)."""
    if method == "POST" and path in CLOCK_COMMANDS:
        return (*CLOCK_COMMANDS[path], "")
    if found is None:
        found = routing.match(method, path)
    if found is not None and found[0].journal is not None:
        (kind, action), args = found[0].journal, found[1]
        ref = str(list(args.values())[-1]) if args else _produced_id(response)
        return kind, action, ref
    return "other", f"{method} {path}", _produced_id(response)


def _produced_id(response: Any) -> str:
    if isinstance(response, dict):
        for key in ID_KEYS:
            if isinstance(response.get(key), str):
                return response[key]
    return ""


class JournalSink(Protocol):
    """Where entries go besides memory: written in the request, before the response."""

    def append(self, entry: Entry, body: bytes, response: bytes) -> None: ...

    def clear(self) -> None: ...


class Journal:
    """An append-only, thread-safe list of entries, mirrored to ``sink`` when there is one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self.sink: JournalSink | None = None

    def record(
        self,
        *,
        t: float,
        epoch: float,
        method: str,
        path: str,
        query: str,
        workspace: str,
        author: str,
        status: int,
        body: bytes,
        response: bytes,
        found: Routed | None = None,
    ) -> Entry:
        kind, action, ref = classify(method, path, _json_or_none(response), found)
        with self._lock:
            entry = Entry(
                len(self._entries) + 1,
                t,
                epoch,
                method,
                path,
                query,
                workspace,
                author,
                status,
                body,
                kind,
                action,
                ref,
            )
            if self.sink is not None:  # may raise: then the entry is not recorded anywhere
                self.sink.append(entry, body, response)
            self._entries.append(entry)
            return entry

    def entries(
        self, *, workspace: str | None = None, kinds: set[str] | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            chosen = [
                e
                for e in self._entries
                if (workspace is None or e.workspace == workspace)
                and (kinds is None or e.kind in kinds)
            ]
        return [_shown(e) for e in chosen]

    def clear(self) -> None:
        with self._lock:
            if self.sink is not None:
                self.sink.clear()
            self._entries.clear()


def _shown(entry: Entry) -> dict[str, Any]:
    """An entry as the journal serves it: the body parsed, as ``params``, in its place."""
    return dict(
        ("params", _json_or_none(value)) if key == "body" else (key, value)
        for key, value in asdict(entry).items()
    )


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
