"""The cost-versus-wait front marks the configurations that no other one beats on both counts."""

from __future__ import annotations

import csv
import re

import pytest

from simulator.whatif import run_whatif
from simulator.whatif.front import on_front
from simulator.whatif.plots import render
from simulator.whatif.report import front_table, write_csv
from tests.whatif.helpers import config, job

pytestmark = pytest.mark.usefixtures("instant_start")


def test_a_point_is_on_the_front_unless_another_is_no_worse_in_both_and_better_in_one():
    points = [(10.0, 5.0), (8.0, 9.0), (12.0, 5.0), (10.0, 5.0), (20.0, 1.0), (9.0, 9.0)]
    assert on_front(points) == [True, True, False, True, True, False]


def test_the_sweep_marks_its_front_in_table_csv_and_plot(tmp_path):
    """Four 90.5 s one-GPU jobs at once: 91 s billed per second (7.58) or 2 min (10.00) each.
    One GPU per second is cheapest but queues them; four GPUs per minute waits for nothing;
    one GPU per minute costs as much as the latter and waits as long as the former."""
    confs = [
        config("1 GPU, per-second", [1]),
        config("4 GPUs, per-minute", [4], tariff="per_minute_ceil"),
        config("1 GPU, per-minute", [1], tariff="per_minute_ceil"),
    ]
    result = run_whatif([job(0.0, 90.5) for _ in range(4)], confs, executor="serial")
    lines = front_table(result).splitlines()
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines[2:]]
    # waits 0, 90.5, 181, 271.5 s: p95 257.9 s; makespan 362 s
    assert cells == [
        ["p95 queue wait", "1 GPU, per-second", "30", "4.3 min", "*"],
        ["p95 queue wait", "4 GPUs, per-minute", "40", "0 s", "*"],
        ["p95 queue wait", "1 GPU, per-minute", "40", "4.3 min"],
        ["makespan", "1 GPU, per-second", "30", "6.0 min", "*"],
        ["makespan", "4 GPUs, per-minute", "40", "1.5 min", "*"],
        ["makespan", "1 GPU, per-minute", "40", "6.0 min"],
    ]
    with open(write_csv(result, tmp_path)["fronts"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["configuration"], r["cost_total"], r["on_front"]) for r in rows[:3]] == [
        ("1 GPU, per-second", "30.32", "True"),
        ("4 GPUs, per-minute", "40.00", "True"),
        ("1 GPU, per-minute", "40.00", "False"),
    ]
    assert render("cost_wait_front", result).startswith(b"\x89PNG")
