"""The console's HTTP side: the page and its files, ``state.json``, job logs, what-if reports,
and the admin guard (token, cookie, ``--no-admin``)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from mock_server.ui.views import STATIC
from tests.reliability.support import JOB, auth_headers, make_app

TOKEN = "s3cret-token"
COOKIE = "mlspace_sim_admin"


def client(**settings: Any) -> FlaskClient:
    return make_app(settings=settings).test_client()


def submit(c: FlaskClient, runtime_s: int = 600) -> str:
    body = {**JOB, "env_variables": {"MLSPACE_SIM_RUNTIME_S": str(runtime_s)}}
    r = c.post("/public/v2/jobs", json=body, headers=auth_headers(c))
    assert r.status_code == 200, r.json
    return r.json["job_name"]


# ---- the page -------------------------------------------------------------------------------
def test_the_page_and_its_files_load_nothing_from_elsewhere() -> None:
    c = client()
    page = c.get("/_mock/ui")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    html = page.get_data(as_text=True)
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(r.startswith("/_mock/ui/static/") or r.startswith("data:") for r in refs)
    for ref in refs:
        if ref.startswith("/"):
            assert c.get(ref).status_code == 200, ref
    for name in os.listdir(STATIC):  # no URL of another site, no @import, no font download
        text = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|@import|@font-face|url\(", text), name


def test_state_shows_the_work_the_queue_names_and_the_clock() -> None:
    c = client()
    name = submit(c)
    assert c.post("/_mock/clock/advance", json={"seconds": 60}).status_code == 200
    r = c.get("/_mock/ui/state.json")
    assert r.status_code == 200 and r.content_type == "application/json"
    view = r.json
    assert view["clock"]["elapsed_s"] == 60 and view["clock"]["mode"] == "manual"
    (job,) = view["work"]["items"]
    assert (job["id"], job["status"], job["kind"]) == (name, "Running", "job")
    assert job["nodes"] and job["has_log"]
    ws = job["workspace"]
    assert view["workspace_names"] == {ws: f"workspace-{ws[:8]}"}
    assert view["faults"]["api_rules"] == [] and view["reports"] is False
    inference = {"inference-v100", "inference-a100", "inference-cpu"}
    assert {p["name"] for p in view["pools"]} == {"direct", "region", "cpu"} | inference


def test_a_waiting_job_is_listed_under_its_queue() -> None:
    config = {
        "pools": [
            {
                "name": "region",
                "serves": ["job"],
                "nodes": [{"gpus": 2, "cpus": 64, "memory_gi": 512}],
            }
        ]
    }
    c = make_app(config).test_client()
    first, second = submit(c), submit(c)
    (group,) = c.get("/_mock/ui/state.json").json["queue"]
    (waiting,) = group["items"]
    assert waiting["id"] == second and waiting["queue_name"] == "default-dgx2-mt"
    assert first in {it["id"] for it in c.get("/_mock/ui/state.json").json["work"]["items"]}


def test_unknown_filters_narrow_to_nothing_and_never_fail() -> None:
    c = client()
    submit(c)
    for query in ("workspace=nobody", "region=%00", "region=" + "x" * 500, "workspace="):
        r = c.get(f"/_mock/ui/state.json?{query}")
        assert r.status_code == 200, query
    assert c.get("/_mock/ui/state.json?workspace=nobody").json["work"]["items"] == []


def test_reading_the_console_changes_nothing_and_is_not_journaled() -> None:
    c = client()
    submit(c)
    before = c.get("/_mock/journal").json["count"]
    first = c.get("/_mock/ui/state.json").json
    assert c.get("/_mock/ui/state.json").json == first
    assert c.get("/_mock/journal").json["count"] == before


# ---- logs -----------------------------------------------------------------------------------
def test_a_job_log_is_the_api_log_oldest_first_with_timestamps() -> None:
    c = client()
    name = submit(c)
    c.post("/_mock/clock/advance", json={"seconds": 60})
    r = c.get(f"/_mock/ui/jobs/{name}/log")
    assert r.status_code == 200
    lines = r.json["lines"]
    assert lines[0].endswith(f"Job {name} is starting...")
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", lines[0])
    assert any("All workers are READY" in ln for ln in lines)
    assert len(c.get(f"/_mock/ui/jobs/{name}/log?tail=2").json["lines"]) == 2


def test_a_log_of_no_job_or_a_bad_tail_is_refused() -> None:
    c = client()
    name = submit(c)
    assert c.get("/_mock/ui/jobs/lm-mpi-job-nope/log").status_code == 404
    for tail in ("abc", "0", "-1", "1e9"):
        assert c.get(f"/_mock/ui/jobs/{name}/log?tail={tail}").status_code == 422, tail


# ---- protection -----------------------------------------------------------------------------
CONSOLE_PATHS = ("/_mock/ui", "/_mock/ui/state.json", "/_mock/ui/static/console.js")


def test_with_no_admin_the_console_does_not_exist() -> None:
    c = client(admin=False)
    for path in (*CONSOLE_PATHS, "/_mock/ui?token=x", "/_mock/ui/reports"):
        assert c.get(path).status_code == 404, path


def test_with_a_token_the_console_needs_it() -> None:
    c = client(admin_token=TOKEN)
    for path in CONSOLE_PATHS:
        r = c.get(path)
        assert r.status_code == 401 and r.json["error_code"] == 401, path
    assert c.get("/_mock/ui?token=wrong").status_code == 401
    assert c.get("/_mock/ui/state.json?token=" + TOKEN).status_code == 401  # the page only
    assert c.get_cookie(COOKIE) is None
    for headers in ({"x-admin-token": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}):
        assert c.get("/_mock/ui/state.json", headers=headers).status_code == 200


def test_the_token_in_the_address_becomes_a_strict_cookie() -> None:
    c = client(admin_token=TOKEN)
    r = c.get(f"/_mock/ui?token={TOKEN}")
    assert r.status_code == 303 and r.headers["Location"] == "/_mock/ui"
    set_cookie = r.headers["Set-Cookie"]
    for part in (f"{COOKIE}={TOKEN}", "HttpOnly", "SameSite=Strict", "Path=/_mock"):
        assert part in set_cookie
    for path in CONSOLE_PATHS:
        assert c.get(path).status_code == 200, path


def test_the_cookie_moves_the_clock_only_with_the_console_header() -> None:
    c = client(admin_token=TOKEN)
    c.get(f"/_mock/ui?token={TOKEN}")
    advance = {"json": {"seconds": 60}}
    assert c.post("/_mock/clock/advance", **advance).status_code == 401  # a cross-site form
    assert c.get("/_mock/clock").json["elapsed_s"] == 0
    r = c.post("/_mock/clock/advance", headers={"x-mlspace-console": "1"}, **advance)
    assert r.status_code == 200 and r.json["elapsed_s"] == 60


# ---- what-if reports ------------------------------------------------------------------------
@pytest.fixture
def reports(tmp_path: Path) -> Path:
    root = tmp_path / "reports"
    (root / "capacity-x2").mkdir(parents=True)
    (root / "capacity-x2" / "report.html").write_text("<h1>x2</h1>")
    (root / "capacity-x2" / "summary.csv").write_text("a,b\n")
    (root / "empty").mkdir()
    (tmp_path / "secret.txt").write_text("not yours")
    (root / "escape").mkdir()
    (root / "escape" / "report.html").symlink_to(tmp_path / "secret.txt")
    return root


def test_reports_are_listed_and_opened(reports: Path) -> None:
    c = client(reports_dir=str(reports))
    assert c.get("/_mock/ui/state.json").json["reports"] is True
    listed = c.get("/_mock/ui/reports").json["reports"]
    assert [(r["name"], r["path"]) for r in listed] == [("capacity-x2", "capacity-x2/report.html")]
    r = c.get("/_mock/ui/reports/capacity-x2/report.html")
    assert r.status_code == 200 and r.get_data(as_text=True) == "<h1>x2</h1>"
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert c.get("/_mock/ui/reports/capacity-x2/summary.csv").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "%2e%2e/secret.txt",
        "capacity-x2/../../secret.txt",
        "escape/report.html",
        "/etc/passwd",
        "%2fetc%2fpasswd",
        "..%5csecret.txt",
        "capacity-x2/%00",
        "empty",
        "missing/report.html",
    ],
)
def test_no_path_leads_out_of_the_reports_folder(reports: Path, path: str) -> None:
    r = client(reports_dir=str(reports)).get(f"/_mock/ui/reports/{path}")
    assert r.status_code == 404, path
    assert "not yours" not in r.get_data(as_text=True)


def test_without_a_reports_folder_there_are_no_reports() -> None:
    c = client()
    assert c.get("/_mock/ui/reports").status_code == 404
    assert c.get("/_mock/ui/reports/report.html").status_code == 404
