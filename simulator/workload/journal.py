"""A running server's journal (``GET /_mock/journal``) as a replayable workload.

Each journal record is one accepted request: ``{"t": virtual seconds since start, "epoch",
"workspace", "author", "kind": "job"|"notebook", "action", "ref": job name or notebook uid,
"params": the request body}``. Mapping:

- job ``submit`` -> a job record (region, instance type, workers, priority, description, script
  and type from the body); its run time and outcome come from the body's ``MLSPACE_SIM_RUNTIME_S``
  / ``MLSPACE_SIM_OUTCOME`` when present, else the engine's runtime model decides, as it did on
  the server (same seed and same submission order give the same runtimes);
- job ``restart`` (body ``{"job_name": old}``, ``ref`` the new job) -> a new job with the old
  one's parameters, submitted at the restart's time;
- job ``kill`` -> the job's outcome becomes ``killed`` at the kill's time;
- notebook ``create``/``resume`` open a running span, ``pause``/``delete`` close it; each span is
  one notebook session (a paused server holds no GPUs and is not billed). The journal cannot tell
  active from idle time, so a span counts as active: moving it to a region job saves nothing;
- a span still open at the end closes at ``end_s`` (default: the last record's time).

Records of other kinds (``other``: uploads, image builds, ...) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.runtime import OUTCOME_ENV, RUNTIME_ENV
from simulator.workload.io import sort_items
from simulator.workload.model import JOB, KILLED, NOTEBOOK, WorkloadError, WorkloadItem

API_DEFAULT_REGION = "DGX2-MT"
API_DEFAULT_NOTEBOOK_TYPE = "free.0gpu"


def _job(rec: dict[str, Any], params: dict[str, Any]) -> WorkloadItem:
    env = params.get("env_variables") or {}
    run = env.get(RUNTIME_ENV)
    outcome = str(env.get(OUTCOME_ENV, "")).lower()
    return WorkloadItem(
        submit_s=float(rec["t"]),
        workspace=str(rec["workspace"]),
        author=str(rec.get("author") or ""),
        kind=JOB,
        region=params.get("region") or API_DEFAULT_REGION,
        instance_type=str(params.get("instance_type") or ""),
        n_workers=int(params.get("n_workers") or 1),
        priority=params.get("priority_class") or "medium",
        run_s=None if run is None else float(run),
        outcome=outcome,
        name=str(params.get("job_desc") or ""),
        script=str(params.get("script") or ""),
        job_type=str(params.get("type") or ""),
    )


class _Spans:
    """Running spans of notebooks, keyed by uid; each closed span becomes a session."""

    def __init__(self) -> None:
        self.created: dict[str, dict[str, Any]] = {}
        self.running: dict[str, tuple[float, str, str]] = {}
        self.items: list[WorkloadItem] = []

    def start(self, rec: dict[str, Any], params: dict[str, Any]) -> None:
        ref = str(rec["ref"])
        self.created.setdefault(ref, rec)
        self.running[ref] = (
            float(rec["t"]),
            params.get("region") or API_DEFAULT_REGION,
            params.get("instance_type") or API_DEFAULT_NOTEBOOK_TYPE,
        )

    def stop(self, ref: str, t: float) -> None:
        span = self.running.pop(ref, None)
        if span is None:
            return
        start, region, itype = span
        created = self.created[ref]
        self.items.append(
            WorkloadItem(
                submit_s=start,
                workspace=str(created["workspace"]),
                author=str(created.get("author") or ""),
                kind=NOTEBOOK,
                region=region,
                instance_type=itype,
                active_s=max(0.0, t - start),
                name=str((created.get("params") or {}).get("name") or ref),
            )
        )

    def close_all(self, t: float) -> None:
        for ref in list(self.running):
            self.stop(ref, t)


def workload_from_journal(
    records: Iterable[dict[str, Any]], end_s: float | None = None
) -> list[WorkloadItem]:
    """The workload a server's journal describes, in submission order."""
    recs = sorted(records, key=lambda r: float(r["t"]))
    jobs: dict[str, WorkloadItem] = {}
    bodies: dict[str, dict[str, Any]] = {}  # job name -> its submission body (for restarts)
    spans = _Spans()
    for n, rec in enumerate(recs):
        kind, action, params = rec.get("kind"), rec.get("action"), rec.get("params") or {}
        t = float(rec["t"])
        if kind == JOB and action in ("submit", "restart"):
            if action == "restart":
                params = bodies.get(str(params.get("job_name")), {})
                if not params:
                    raise WorkloadError(f"journal[{n}]: restart of a job the journal never saw")
            bodies[str(rec["ref"])] = params
            jobs[str(rec["ref"])] = _job(rec, params).check(f"journal[{n}]")
        elif kind == JOB and action == "kill":
            job = jobs.get(str(rec["ref"]))
            if job is not None and job.outcome != KILLED:
                job.outcome, job.kill_s = KILLED, t
        elif kind == NOTEBOOK and action in ("create", "resume"):
            spans.start(rec, params)
        elif kind == NOTEBOOK and action in ("pause", "delete"):
            spans.stop(str(rec["ref"]), t)
        elif kind in (JOB, NOTEBOOK):
            raise WorkloadError(f"journal[{n}]: unknown {kind} action {action!r}")
    last = float(recs[-1]["t"]) if recs else 0.0
    spans.close_all(last if end_s is None else max(end_s, last))
    return sort_items([*jobs.values(), *spans.items])
