"""A month of arrivals costs the month: the backlog left at its end is reported apart."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from simulator.whatif import run_whatif
from simulator.whatif.report import table
from tests.whatif.helpers import config, job

pytestmark = pytest.mark.usefixtures("instant_start")

DAY = 86400.0
A100_GPU_HOUR = Decimal(300)


def month_of_two_day_jobs() -> list:
    """One 16-GPU job a day at noon for 30 days, each running two days: 16 GPUs fall behind."""
    return [job(d * DAY + DAY / 2, 2 * DAY, workers=2, gpus_per_worker=8) for d in range(30)]


def test_a_month_on_16_gpus_costs_the_month_and_reports_the_backlog_apart():
    result = run_whatif(month_of_two_day_jobs(), [config("16 GPUs", [8, 8])], executor="serial")
    m = result.runs[0]["metrics"]
    # job k runs days [0.5 + 2k, 2.5 + 2k]: the last one ends on day 60.5
    assert m["horizon_s"] == 30 * DAY and m["makespan_s"] == 60.5 * DAY
    # inside the month the 16 GPUs were busy from day 0.5 to day 30
    assert m["cost_horizon"] == 16 * Decimal("29.5") * 24 * A100_GPU_HOUR
    # at day 30 job 14 has half a day to go and jobs 15..29 have not started
    assert (m["backlog_jobs"], m["backlog_jobs_queued"]) == (16, 15)
    assert m["backlog_gpu_hours"] == pytest.approx(16 * (12 + 15 * 48))
    assert m["cost_drain"] == Decimal(16 * (12 + 15 * 48)) * A100_GPU_HOUR
    assert m["cost_total"] == m["cost_horizon"] + m["cost_drain"] == 30 * 16 * 48 * A100_GPU_HOUR
    cells = [re.split(r"\s{2,}", line.strip()) for line in table(result).splitlines()]
    rows = {row[0]: row[1:] for row in cells[2:-2]}
    assert rows["Cost within the horizon (30.0 d), RUB"] == ["3,398,400"]
    assert rows["Backlog at the horizon, jobs"] == ["16"]
    assert rows["Cost after the horizon (draining), RUB"] == ["3,513,600"]


def test_a_configuration_that_keeps_up_leaves_only_running_jobs_to_finish():
    result = run_whatif(
        month_of_two_day_jobs(), [config("32 GPUs", [8, 8, 8, 8])], executor="serial"
    )
    m = result.runs[0]["metrics"]
    # two jobs fit at once; jobs 28 and 29 (days 28.5 and 29.5) still run at day 30
    assert (m["backlog_jobs"], m["backlog_jobs_queued"]) == (2, 0)
    assert m["backlog_gpu_hours"] == pytest.approx(16 * (12 + 36))  # half a day + 1.5 days
    assert m["cost_total"] - m["cost_horizon"] == m["cost_drain"] == 16 * 48 * A100_GPU_HOUR
