"""One workload record: what a user asked for, when, and how long it ran (or stayed open).

The same record serves every source (generator, trace file, a running server's journal) and both
file formats, so a workload can be replayed unchanged against any configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

JOB, NOTEBOOK, DEPLOYMENT = "job", "notebook", "deployment"
KINDS = (JOB, NOTEBOOK, DEPLOYMENT)
SUCCESS, FAILURE, KILLED = "success", "failure", "killed"
OUTCOMES = ("", SUCCESS, FAILURE, KILLED)  # "" = the engine's runtime model decides
DEFAULT_SCRIPT = "/home/jovyan/train.py"


class WorkloadError(ValueError):
    """A record that cannot be replayed (raised with the record's position)."""


@dataclass(slots=True)
class WorkloadItem:
    """A training job or a Jupyter Server session, with times in seconds from the start.

    Jobs: ``run_s`` is the script's run time once Running and ``outcome`` how it ends (success,
    failure, or ``killed``: the user deleted it at ``kill_s``); either left empty, the engine's
    runtime model decides.
    Notebooks: the server is open ``active_s`` (training) then ``idle_s`` (open, not used),
    from ``submit_s`` until it is deleted at ``submit_s + active_s + idle_s``.
    Deployments: an inference service of ``min_replicas``..``max_replicas`` replicas in an
    inference region, deployed for ``active_s`` under ``daily_rps`` (24 hourly requests per
    second, ``;``-separated; empty = no load).
    """

    submit_s: float
    workspace: str
    author: str
    kind: str
    region: str
    instance_type: str
    n_workers: int = 1
    priority: str = "medium"
    run_s: float | None = None
    active_s: float = 0.0
    idle_s: float = 0.0
    outcome: str = ""
    kill_s: float | None = None
    name: str = ""
    script: str = ""
    job_type: str = ""
    min_replicas: int = 0
    max_replicas: int = 1
    daily_rps: str = ""

    def daily_profile(self) -> tuple[float, ...]:
        """The deployment's daily load profile as 24 numbers (or none)."""
        return tuple(float(x) for x in self.daily_rps.split(";")) if self.daily_rps else ()

    @property
    def end_s(self) -> float:
        """When a notebook session is deleted."""
        return self.submit_s + self.active_s + self.idle_s

    def check(self, where: str = "") -> WorkloadItem:
        """Raise :class:`WorkloadError` unless the record can be replayed; returns itself."""
        problem = _problem(self)
        if problem:
            raise WorkloadError(f"{where}{': ' if where else ''}{problem}")
        return self


def _bad_seconds(value: float | None, optional: bool) -> bool:
    if value is None:
        return not optional
    return not math.isfinite(value) or value < 0


def _problem(item: WorkloadItem) -> str:
    if item.kind not in KINDS:
        return f"kind must be one of {KINDS}, not {item.kind!r}"
    if _bad_seconds(item.submit_s, False):
        return "submit_s must be seconds >= 0"
    if not item.region or not item.instance_type:
        return "region and instance_type are required"
    if item.n_workers < 1:
        return "n_workers must be >= 1"
    if item.kind == DEPLOYMENT:
        return _deployment_problem(item)
    if item.kind == NOTEBOOK:
        if _bad_seconds(item.active_s, False) or _bad_seconds(item.idle_s, False):
            return "a notebook needs active_s and idle_s (seconds >= 0)"
        return ""
    if _bad_seconds(item.run_s, True):
        return "run_s must be seconds >= 0 (or empty)"
    if item.outcome not in OUTCOMES:
        return f"outcome must be one of {OUTCOMES[1:]} or empty, not {item.outcome!r}"
    if item.outcome == KILLED and (item.kill_s is None or item.kill_s < item.submit_s):
        return "a killed job needs kill_s (when the user deleted it) at or after submit_s"
    return ""


def _deployment_problem(item: WorkloadItem) -> str:
    if _bad_seconds(item.active_s, False):
        return "a deployment needs active_s (seconds deployed, >= 0)"
    if not 0 <= item.min_replicas <= item.max_replicas or item.max_replicas < 1:
        return "a deployment needs 0 <= min_replicas <= max_replicas, max_replicas >= 1"
    try:
        profile = item.daily_profile()
    except ValueError:
        return f"daily_rps must be 24 numbers separated by ';', not {item.daily_rps!r}"
    if profile and (len(profile) != 24 or min(profile) < 0 or not all(map(math.isfinite, profile))):
        return "daily_rps must be 24 non-negative hourly values"
    return ""


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(WorkloadItem))
REQUIRED = ("submit_s", "workspace", "author", "kind", "region", "instance_type")
_INTS = {"n_workers", "min_replicas", "max_replicas"}
_FLOATS = {"submit_s", "active_s", "idle_s"}
_OPTIONAL_FLOATS = {"run_s", "kill_s"}


def item_from_mapping(
    row: dict[str, Any], where: str = "", texts: dict[str, str] | None = None
) -> WorkloadItem:
    """Build a record from a CSV row or JSON object (strings or typed values; blanks = default).
    ``texts``: one object per distinct text across the records read (a million records repeat
    a few dozen workspaces, types and authors; a copy of each in each record is ~0.5 KB)."""
    missing = [c for c in REQUIRED if row.get(c) in (None, "")]
    if missing:
        raise WorkloadError(f"{where}: missing {', '.join(missing)}")
    kwargs: dict[str, Any] = {}
    for col in COLUMNS:
        value = row.get(col)
        if value is None or value == "":
            continue
        try:
            if col in _INTS:
                kwargs[col] = int(float(value))
            elif col in _FLOATS or col in _OPTIONAL_FLOATS:
                kwargs[col] = float(value)
            else:
                text = str(value)
                kwargs[col] = text if texts is None else texts.setdefault(text, text)
        except (TypeError, ValueError):
            raise WorkloadError(f"{where}: {col}={value!r} is not a number") from None
    return WorkloadItem(**kwargs).check(where)


def item_to_mapping(item: WorkloadItem) -> dict[str, Any]:
    """The record as a JSON object; fields that do not apply to its kind are left out."""
    out: dict[str, Any] = {c: getattr(item, c) for c in COLUMNS}
    skip = ("run_s", "outcome", "kill_s", "priority", "script", "job_type")
    if item.kind != DEPLOYMENT:
        for col in ("min_replicas", "max_replicas", "daily_rps"):
            out.pop(col)
    if item.kind == DEPLOYMENT:
        for col in (*skip, "idle_s", "n_workers"):
            out.pop(col)
    elif item.kind == NOTEBOOK:
        for col in skip:
            out.pop(col)
    else:
        out.pop("active_s")
        out.pop("idle_s")
        if out["kill_s"] is None:
            out.pop("kill_s")
        if out["run_s"] is None:
            out.pop("run_s")
    return {k: v for k, v in out.items() if v != ""}
