"""Routes of the console under ``/_mock/ui``: guarded like the rest of ``/_mock/``.

The page polls ``state.json`` (the World's overview at one instant, with names the server knows
added) and moves the clock through the admin API itself (``/_mock/clock/...``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, redirect, request, send_file, send_from_directory

from mock_server.errors import json_response, platform_error
from mock_server.faults import plan_of
from mock_server.openapi import undocumented
from mock_server.params import query_int
from mock_server.security import CONSOLE_COOKIE, CONSOLE_PATH
from mock_server.state import state
from mock_server.ui.reports import list_reports, report_file

STATIC = Path(__file__).parent / "static"
REPORTS_SETTING = "reports_dir"
LOG_TAIL = 500
# the page loads nothing from elsewhere; a what-if report is one file with inline style and
# data: images
CONSOLE_CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'"
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STATIC_FILES = frozenset({"console.css", "console.js"})

bp = Blueprint("console", __name__)


@bp.after_request
def no_outside_sources(response: Any) -> Any:
    response.headers.setdefault("Content-Security-Policy", CONSOLE_CSP)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@undocumented
def page() -> Any:
    """The console; ``?token=`` (checked by the admin guard) becomes a cookie, then goes away."""
    if request.args.get("token"):
        response = redirect(CONSOLE_PATH, code=303)
        response.set_cookie(
            CONSOLE_COOKIE,
            request.args["token"],
            path="/_mock",
            httponly=True,
            samesite="Strict",
            secure=request.is_secure,
        )
        return response
    return send_from_directory(STATIC, "index.html")


@bp.get("/static/<name>")
@undocumented
def static_file(name: str) -> Any:
    if name not in STATIC_FILES:
        raise platform_error(404, 404, f"No console file {name!r}")
    return send_from_directory(STATIC, name)


@bp.get("/state.json")
def snapshot() -> Any:
    """Everything the page shows, read at one virtual instant."""
    st = state()
    view = st.world.overview(
        workspace=request.args.get("workspace") or None,
        region=request.args.get("region") or None,
    )
    known = st.auth.workspaces
    view["workspace_names"] = {ws: known[ws].name for ws in view["workspaces"] if ws in known}
    view["faults"]["api_rules"] = plan_of(current_app).describe()["rules"]
    view["reports"] = _reports_root() is not None
    return json_response(view)


@bp.get("/jobs/<name>/log")
def job_log(name: str) -> Any:
    """The last lines of a job's log, with their timestamps."""
    tail = query_int("tail", LOG_TAIL, minimum=1, maximum=100_000)
    world = state().world
    job = world.get_job(name)
    if job is None:
        raise platform_error(404, 404, f"Job {name!r} not found")
    lines = world.job_logs(job, tail=tail, timestamps=True)[::-1]  # the tail is newest first
    return json_response({"name": name, "status": job.status, "lines": lines})


def _reports_root() -> Path | None:
    where = state().settings.get(REPORTS_SETTING)
    return Path(where) if where else None


def _require_reports() -> Path:
    root = _reports_root()
    if root is None:
        raise platform_error(404, 404, "No reports folder: start the server with --reports DIR")
    return root


@bp.get("/reports")
def reports() -> Any:
    """The what-if reports found in the ``--reports`` folder."""
    root = _require_reports()
    return json_response({"reports": list_reports(root) if root.is_dir() else []})


@bp.get("/reports/<path:relative>")
@undocumented
def report(relative: str) -> Any:
    """One file of a report (``report.html`` or what sits beside it), never outside the folder."""
    path = report_file(_require_reports(), relative)
    if path is None:
        raise platform_error(404, 404, f"No report file {relative!r}")
    response = send_file(path)
    response.headers["Content-Security-Policy"] = REPORT_CSP
    return response
