"""One run bills three ways at once: jobs and Jupyter Servers by running time under the chosen
tariff, deployments per second; the report keeps jobs, active and idle servers and inference
apart, and shows the same run under both tariffs (hand arithmetic: A100 300, V100 150 per
GPU-hour)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from simulator.whatif import Configuration, run_whatif
from simulator.whatif.report import table
from tests.whatif.helpers import INSTANT, job, notebook, pools
from tests.whatif.test_deployments_whatif import INFERENCE_POOL, PINNED, deployment

pytestmark = pytest.mark.usefixtures("instant_start")

PER_MINUTE = Configuration(
    "per-minute",
    {
        "pools": pools([8]),
        "scheduler": {"placement": "count"},
        "billing": {"tariff": "per_minute_ceil"},
        "timings": INSTANT,
        "inference": {**PINNED, "pools": [INFERENCE_POOL]},
    },
)


def test_jobs_servers_and_inference_are_billed_and_reported_apart():
    items = [
        deployment(1),  # one V100 replica for a day: 24 h x 150, per second whatever the tariff
        job(0.0, 90.5),  # 91 s per second (7.58), 2 min per minute (10.00)
        job(0.0, 90.5),
        notebook(0.0, 3600.0, 1830.0, gpus=2),  # 5430 s at 600/h: 905.00, or 91 min: 910.00
    ]
    result = run_whatif(items, [PER_MINUTE], executor="serial")
    m = result.runs[0]["metrics"]
    assert m["cost_jobs"] == Decimal("20.00")
    assert m["cost_notebooks"] == Decimal("910.00")
    assert m["cost_idle_notebooks"] == Decimal("305.00")  # 1830 s after the active hour
    assert m["cost_active_notebooks"] == Decimal("605.00")
    assert m["cost_inference"] == Decimal("3600.00")
    assert m["cost_total"] == m["cost_if_per_minute_ceil"] == Decimal("4530.00")
    assert m["cost_if_per_second"] == Decimal("4520.16")  # 2 x 7.58 + 905.00 + 3600.00
    cells = [re.split(r"\s{2,}", line.strip()) for line in table(result).splitlines()]
    rows = {row[0]: row[1:] for row in cells[2:-2]}
    assert rows["training jobs, RUB"] == ["20"]
    assert rows["active, RUB"] == ["605"]
    assert rows["idle (GPUs held, nothing run), RUB"] == ["305"]
    assert rows["inference deployments (per second), RUB"] == ["3,600"]
    assert rows["Same run billed per second, RUB"] == ["4,520"]
    assert rows["Same run billed per started minute, RUB"] == ["4,530"]
