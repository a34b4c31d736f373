"""Every scenario replays end to end in-process and meets its expectations; three also through a
live server on a loopback port (the ``--url`` path)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

import scenarios
from mlspace_sim.cli import main
from mock_server.testing import MockServer, running_server
from scenarios.report import to_json, to_text
from scenarios.runner import Report

Replay = Callable[[str], Report]


def statuses(report: Report, var: str) -> list[str]:
    return [status for _, status in report.subjects[var].events]


@pytest.mark.parametrize("name", scenarios.names())
def test_scenario_meets_its_expectations_in_process(replayed: Replay, name: str) -> None:
    report = replayed(name)
    assert report.failures == []
    assert report.checked >= 5
    assert "Result: PASS" in to_text(report)
    timeline = to_json(report)["timeline"]
    assert [row["at"] for row in timeline] == sorted(row["at"] for row in timeline)


def test_queued_job_waits_for_the_other_team_then_bills_only_its_run(
    replayed: Replay,
) -> None:
    report = replayed("job_launch_pt")
    (pending_at, _), (running_at, _), (done_at, _) = report.subjects["job"].events
    assert running_at - pending_at > 600  # held back while the pool was full
    assert done_at - running_at < 12
    assert float(report.subjects["job"].bill) < 1
    printed = [e.get("printed", "") for e in report.transcript]
    assert any(p.endswith('in queue. Try later"') for p in printed)


def test_jupyter_server_bills_idle_time_the_region_job_does_not(
    replayed: Replay,
) -> None:
    report = replayed("notebooks_gpu")
    nb, job = report.subjects["nb"], report.subjects["job"]
    assert nb.billed_s > 3600 and job.billed_s < 30
    assert nb.bill / job.bill > 100
    refused = report.transcript[0]
    assert refused["status"] == 400 and "v100.17gpu" in refused["returned"]
    assert "ratio:" in to_text(report)


def test_default_region_rejection_is_explained_then_fixed(replayed: Replay) -> None:
    report = replayed("pytorch_example")
    errors = [e["error"] for e in report.transcript if e.get("error")]
    assert (
        errors == ["Can't find instance_type_key='a100.1gpu.80vG.12C.96G' for region=DGX2-MT"] * 2
    )
    assert statuses(report, "hvd_job")[-1] == statuses(report, "pt_job")[-1] == "Completed"


@pytest.fixture(scope="module")
def live() -> Iterator[MockServer]:
    with running_server(settings={"log_follow_max_s": 0.0}) as srv:
        scenarios.register_all(srv.world)
        yield srv


@pytest.mark.parametrize("name", ["job_launch_cpu", "job_launch_pt", "notebooks_gpu", "public_api"])
def test_scenario_replays_against_a_live_server(
    live: MockServer, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["scenario", "run", name, "--url", live.api_url, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert (code, report["failures"]) == (0, [])
    assert report["mode"] == f"against {live.api_url}"
    assert report["timeline"]


def test_realtime_server_is_waited_for_within_the_wall_timeout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with running_server(clock="realtime", speed=50, settings={"log_follow_max_s": 0.0}) as srv:
        scenarios.register_all(srv.world)
        code = main(["scenario", "run", "pytorch_elastic", "--url", srv.api_url, "--timeout", "20"])
    assert code == 0
    assert "Result: PASS" in capsys.readouterr().out


def test_the_report_says_what_the_scenario_changed(replayed: Replay) -> None:
    """job_launch_pt shrinks the region pool from the packaged 1000 GPUs to one 8-GPU node: the
    report says so in its header and beside the step that takes every GPU of that pool."""
    report = replayed("job_launch_pt")
    text = to_text(report)
    assert "Changed by this scenario: pool 'region' has 8 GPUs (default 1000)" in text
    fill = next(e for e in report.transcript if e["kind"] == "fill_pool")
    assert "pool 'region' (8 GPUs; the default is 1000)" in fill["call"]
    assert "take every GPU of the region pool" in fill["note"]


def test_a_wait_reports_the_status_it_waited_for(replayed: Replay) -> None:
    """The job ran for ~10 s inside one 30 s polling step: the wait for Running reports Running
    (when it started), not the Completed it found at the end of that step."""
    report = replayed("job_launch_pt")
    at = [i for i, e in enumerate(report.transcript) if e["kind"] == "wait"]
    waited_from = report.transcript[at[0] - 1]["at"]  # the clock does not move between steps
    running_at = next(t for t, status in report.subjects["job"].events if status == "Running")
    assert report.transcript[at[0]]["returned"] == f"Running after {running_at - waited_from:.0f} s"
    assert report.transcript[at[1]]["returned"].startswith("Completed")
