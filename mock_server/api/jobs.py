"""Training jobs: submit, status, list, logs (streamed), kill, restart, elastic pods."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from flask import Response, current_app

from mock_server import log_follow, routing
from mock_server.errors import json_response, refusal
from mock_server.models.queries import JobListStatus, JobLogsQuery, JobsQuery
from mock_server.params import json_body
from mock_server.state import ServerState, state, workspace
from mock_server.tenancy import placement_names, stable_uuid
from simulator.billing import kopecks, metered_seconds
from simulator.errors import Rejected
from simulator.jobs import PENDING, RESTARTING, RUNNING, Job

LIST_STATUSES = tuple(status.value for status in JobListStatus)
LOWER_STATUS = {RESTARTING: "pending"}  # JobStatusLowerCase has no "restarting"
CHUNK = 256
LOG_TEXT = "text/plain; charset=utf-8"


def _iso(epoch: float) -> str | None:
    if not epoch:
        return None
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _queue_fields(job: Job) -> dict[str, str]:
    return placement_names(job.queue)


def list_item(st: ServerState, job: Job) -> dict[str, Any]:
    """``ListJobsItem``: capitalised status, string cost and ``"<int>s"`` duration, no nulls
    in the string fields the CLI filters on."""
    now = st.world.now_epoch()
    return {
        "uid": job.uid,
        "job_name": job.name,
        "status": job.status,
        "region": job.region,
        "instance_type": job.itype.key,
        "job_desc": job.spec.job_desc or "",
        "job_author": job.author or "N/A",
        "created_dt": _iso(job.created_at),
        "updated_dt": _iso(job.updated_at),
        "completed_dt": _iso(job.completed_at),
        "cost": str(kopecks(st.world.job_cost(job))),
        "gpu_count": job.gpu_count,
        "duration": f"{metered_seconds(job.run_seconds(now), 'per_second')}s",
        "namespace": workspace().namespace,
        **_queue_fields(job),
    }


def submit() -> Any:
    st = state()
    body = json_body()
    ws = workspace()
    try:
        job = st.world.submit_job(body, workspace=ws.id, author=ws.owner_email)
    except Rejected as exc:
        raise refusal(exc, "platform") from None
    return json_response(
        {"job_name": job.name, "status": "Pending", "created_at": int(job.created_at)}
    )


def list_jobs() -> Any:
    st = state()
    q: JobsQuery = routing.query()
    statuses = [status.value for status in q.status]
    start = q.start_date.timestamp() if q.start_date else None
    end = q.end_date.timestamp() if q.end_date else None
    if not q.region:
        return json_response(
            {"count": 0, "jobs": [], "status": "ok", "error_code": 0, "error_message": ""}
        )
    jobs = st.world.list_jobs(workspace().id, region=q.region, statuses=statuses or None)
    jobs = [
        j
        for j in jobs
        if (start is None or j.created_at >= start) and (end is None or j.created_at <= end)
    ]
    jobs.sort(key=lambda j: (-j.created_at, -j.seq))
    page = jobs[q.offset : q.offset + q.limit]
    return json_response(
        {
            "count": len(jobs),
            "jobs": [list_item(st, j) for j in page],
            "status": "ok",
            "error_code": 0,
            "error_message": "",
        }
    )


def _not_found(name: str) -> Any:
    return json_response(
        {
            "job_name": name,
            "status": "job not found",
            "error_code": 0,
            "error_message": "job not found",
        }
    )


def status(job_name: str) -> Any:
    job = state().world.get_job(job_name, workspace().id)
    if job is None:
        return _not_found(job_name)
    return json_response(
        {
            "uid": job.uid,
            "job_name": job.name,
            "status": LOWER_STATUS.get(job.status, job.status.lower()),
            "created_at": int(job.created_at),
            "pending_at": int(job.pending_at),
            "running_at": int(job.running_at),
            "completed_at": int(job.completed_at),
            "error_code": 0,
            "error_message": "",
        }
    )


def kill(job_name: str) -> Any:
    """Logical and idempotent: always ``deleted``; a real job stays listed as Deleted."""
    st = state()
    st.world.kill_job(job_name, workspace().id)
    return json_response(
        {
            "job_name": job_name,
            "deleted_at": str(int(st.world.now_epoch())),
            "status": "deleted",
            "error_code": 0,
            "error_message": "",
        }
    )


def restart() -> Any:
    body = json_body()
    st = state()
    try:
        job = st.world.restart_job(body["job_name"], workspace().id)
    except Rejected as exc:
        raise refusal(exc, "platform") from None
    return json_response(
        {"job_name": job.name, "status": "Pending", "created_at": int(job.created_at)}
    )


POD_STATUS = {
    PENDING: "Pending",
    RUNNING: "Running",
    "Completed": "Completed",
    "Succeeded": "Succeeded",
    "Failed": "Failed",
    "Deleted": "Deleted",
}


def elastic_pods(job_name: str) -> Any:
    st = state()
    job = st.world.get_job(job_name, workspace().id)
    if job is None or job.spec.type != "pytorch_elastic":
        return json_response({"pods": []})
    now = st.world.now_epoch()
    pods = []
    for i in range(job.n_workers):
        version = "mpimaster-0" if i == 0 else f"mpiworker-{i - 1}"
        placed = bool(job.placed_at)
        pods.append(
            {
                "uid": stable_uuid(job.uid, version),
                "job_name": job.name,
                "job_version": version,
                "status": POD_STATUS.get(job.status, job.status),
                "reason": "ContainerCreating"
                if placed and not job.running_at
                else (job.status if job.running_at else "Pending"),
                "running_at": _iso(job.running_at),
                "completed_at": _iso(job.completed_at),
                "updated_at": _iso(job.updated_at),
                "duration": round(job.run_seconds(now), 3),
            }
        )
    return json_response({"pods": pods})


def preemptors(job_name: str) -> Any:
    """Who evicted the job (``Terminated`` by preemption); empty for any other or unknown job."""
    job = state().world.get_job(job_name, workspace().id)
    return json_response({"preemptors": list(job.preemptors) if job else []})


def _pieces(line: str) -> Iterator[bytes]:
    """One line per chunk, at most 256 bytes each, never splitting a UTF-8 character."""
    data = (line + "\n").encode("utf-8", "backslashreplace")
    while data:
        cut = min(CHUNK, len(data))
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:
            cut -= 1
        yield data[:cut]
        data = data[cut:]


def _chunked(lines: list[str]) -> Response:
    """A log body sent chunked, one line per chunk, like a live stream (``mls_core``'s
    ``stream_logs`` turns each chunk into one piece, whatever the job's status)."""
    return Response((p for line in lines for p in _pieces(line)), content_type=LOG_TEXT)


def logs(job_name: str) -> Any:
    st = state()
    q: JobLogsQuery = routing.query()
    tail, stamps = q.tail, q.verbose
    job = st.world.get_job(job_name, workspace().id)
    if job is None:
        return _not_found(job_name)
    if job.status == PENDING:
        return _chunked([f"Job {job.name} in queue. Try later"])
    if job.status == RUNNING:
        spec = log_follow.follows(current_app)
        release = spec.take()
        if release is None:
            return log_follow.busy()
        lines = log_follow.lines_while_running(
            st.world, job, spec, lambda: st.world.job_logs(job, tail=tail, timestamps=stamps), tail
        )
        body = (piece for line in lines for piece in _pieces(line))
        return Response(log_follow.Stream(body, release), content_type=LOG_TEXT)
    return _chunked(st.world.job_logs(job, tail=tail, timestamps=stamps))
