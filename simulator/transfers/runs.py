"""One run of a transfer rule: a history entry per source, its progress and its event log.

An entry is planned when its run starts (object count, size, throughput drawn from streams seeded
by the world seed, the transfer and the source); while the run's engine process waits for its
end, its status, progress and events are functions of the engine's clock. Sizes depend only on
(transfer, source), so every run of a rule sees the same data; speed varies per run.

Event codes are the spec's: types 100 ObjectTransferred, 200 SkipObject, 304 ConnectorError,
305 EmptySource, 400 Other; categories 1 Success, 2 Error, 3 Info.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from simulator.randomness import stable_uuid, stream, uuid4_from

EVENT_TYPES = {
    100: "ObjectTransferred",
    200: "SkipObject",
    300: "NoSpaceLeft",
    301: "PermissionDenied",
    302: "AccessDenied",
    303: "NotADirectory",
    304: "ConnectorError",
    305: "EmptySource",
    306: "LimitReached",
    400: "Other",
}
EVENT_CATEGORIES = {1: "Success", 2: "Error", 3: "Info"}
SQL_TYPES = ("postgresql", "mssql", "mysql", "clickhouse", "oracledb")  # a query, not files
MIB = 1 << 20
MAX_DURATION_S = 900.0
EXTENSIONS = (".parquet", ".jpg", ".csv", ".json", ".tar")
# What a Keras ModelCheckpoint folder holds, as the NFS lists it, with log2 of each file's size;
# any folder on a ``checkpoint*`` path is taken to be one.
CHECKPOINT_FILES = (
    ("checkpoint.ckpt.data-00000-of-00001", 21.0, 24.0),
    ("checkpoint.ckpt.index", 10.0, 12.0),
    ("checkpoint", 7.0, 8.0),
)


def human_size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


@dataclass
class Entry:
    """The transfer of one source in one run (a ``HistoryModelV3`` row)."""

    history_id: str
    started: int
    source: str
    source_name: str
    source_type: str
    objects: tuple[str, ...]  # as listed at the source
    object_sizes: tuple[int, ...]
    rows_count: int | None
    duration: float
    skipped: bool = False  # nothing new since an earlier successful run
    error: str | None = None
    cancelled_at: float | None = None
    favorite: bool = False

    @property
    def size_bytes(self) -> int:
        return sum(self.object_sizes)

    @property
    def end(self) -> float:
        return self.started + (1.0 if self.error else self.duration)

    def status(self, now: float) -> str:
        if self.error:
            return "failed"
        if self.cancelled_at is not None:
            return "cancelled"
        return "in_progress" if now < self.end else "success"

    def _stop(self, now: float) -> float:
        return min(now, self.end, self.cancelled_at if self.cancelled_at is not None else now)

    def _fraction(self, now: float) -> float:
        return max(0.0, min(1.0, (self._stop(now) - self.started) / self.duration))

    def progress(self, now: float) -> int:
        status = self.status(now)
        if status == "success":
            return 100
        if status == "failed":
            return 0
        return min(99, int(100 * self._fraction(now)))

    def date_to(self, now: float) -> float | None:
        return None if self.status(now) == "in_progress" else self._stop(now)

    def copied(self, now: float) -> tuple[str, ...]:
        """The objects copied by ``now``, in the order they finished: smallest first, as parallel
        copies of one folder finish."""
        if self.error or self.skipped:
            return ()
        n = len(self.objects)
        done = n if self.status(now) == "success" else int(n * self._fraction(now))
        order = sorted(range(n), key=lambda i: self.object_sizes[i])
        return tuple(self.objects[i] for i in order[:done])

    def cancel(self, now: float) -> bool:
        """Stop the entry at ``now`` if it is still running; whether it was."""
        if self.status(now) != "in_progress":
            return False
        self.cancelled_at = now
        return True

    def events(self, transfer_id: str, now: float) -> list[dict[str, Any]]:
        """The aggregated event log (``EventLogsItemModel`` rows) as of ``now``, oldest first."""
        if self.error:
            return [self._event(transfer_id, 304, 2, 1, self.source, self.error)]
        n = len(self.objects)
        rows = [(400, 3, n, self.source, f"Start transfer, objects found: {n}")]
        status = self.status(now)
        if self.skipped:
            if status == "success":
                rows.append((200, 3, n, self.objects[-1], "Object already exists, skipped"))
                rows.append((305, 2, 1, self.source, "there was nothing to transfer"))
        elif done := self.copied(now):
            rows.append((100, 1, len(done), done[-1], "File transfer success"))
        if status == "cancelled":
            rows.append((400, 3, 1, self.source, "Transfer cancelled by user"))
        return [self._event(transfer_id, *row) for row in rows]

    def _event(
        self, transfer_id: str, etype: int, category: int, count: int, obj: str, log: str
    ) -> dict[str, Any]:
        return {
            "id": stable_uuid(self.history_id, str(etype), log),
            "transfer_id": transfer_id,
            "history_id": self.history_id,
            "event_type": etype,
            "event_category": category,
            "event_count": count,
            "last_object": obj,
            "last_log": log,
        }


@dataclass
class Run:
    """Every source of a rule transferred from one execution date."""

    execution: int
    source_connector_name: str
    destination_connector_name: str
    destination: str
    entries: list[Entry]

    def status(self, now: float) -> str:
        """in_progress while any source still runs, then failed, cancelled or success."""
        found = {e.status(now) for e in self.entries}
        for status in ("in_progress", "failed", "cancelled"):
            if status in found:
                return status
        return "success"


def _objects(rng: Any, source: str) -> tuple[str, str, tuple[tuple[str, float, float], ...]]:
    """(source_name, source_type, (path, log2 of the size range) per object) of a path source."""
    path = source.rstrip("/") or "/"
    name = posixpath.basename(path) or "/"
    if not source.endswith("/") and posixpath.splitext(name)[1]:
        return name, "file", ((path, 14, 31),)
    prefix = "" if path == "/" else path + "/"
    if any(part.lower().startswith("checkpoint") for part in path.split("/")):
        return name, "folder", tuple((prefix + f, lo, hi) for f, lo, hi in CHECKPOINT_FILES)
    ext = rng.choice(EXTENSIONS)
    count = rng.randint(1, 120)
    return name, "folder", tuple((f"{prefix}part-{i:05d}{ext}", 16, 28) for i in range(count))


def plan_entry(
    seed: int,
    transfer_id: str,
    execution: int,
    source: str,
    *,
    sql: bool,
    already_copied: bool,
    error: str | None,
) -> Entry:
    """An entry of a run that falls due at ``execution``; ``already_copied`` means the strategy
    only adds new objects and an earlier run copied this source."""
    data = stream(seed, "dts-source", transfer_id, source)
    rows = None
    if sql:
        name, kind, objects = source[:100], "query", ("query_result.csv",)
        rows = data.randint(1_000, 5_000_000)
        sizes: tuple[int, ...] = (rows * data.randint(60, 400),)
    else:
        name, kind, listed = _objects(data, source)
        objects = tuple(path for path, _, _ in listed)
        sizes = tuple(int(2 ** data.uniform(lo, hi)) for _, lo, hi in listed)
    size = sum(sizes)
    run = stream(seed, "dts-run", transfer_id, execution, source)
    throughput = run.uniform(40, 200) * MIB
    startup = run.uniform(2, 8)
    if already_copied:
        duration = startup + 0.02 * len(objects)
    else:
        duration = min(MAX_DURATION_S, startup + size / throughput + 0.05 * len(objects))
    return Entry(
        history_id=str(uuid4_from(stream(seed, "dts-history", transfer_id, execution, source))),
        started=execution,
        source=source,
        source_name=name,
        source_type=kind,
        objects=objects,
        object_sizes=sizes,
        rows_count=rows,
        duration=round(duration, 3),
        skipped=already_copied,
        error=error,
    )
