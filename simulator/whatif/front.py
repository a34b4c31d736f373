"""Cost-versus-wait fronts of a sweep: the configurations no other one beats on both counts.

Cost is the total including draining the backlog, so every configuration pays for the same work
(a configuration that has not finished it is not cheaper); it is set against the p95 queue wait
and against the makespan, means over the seeds. A configuration is on the front when no other
one costs no more and waits no longer while being strictly better in one of the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.whatif.runner import WhatIfResult

COST = "cost_total"
AGAINST = {"wait_p95_s": "p95 queue wait", "makespan_s": "makespan"}


def on_front(points: Sequence[tuple[float, float]]) -> list[bool]:
    """For each (cost, time) point, whether it is Pareto-optimal (both minimised)."""
    return [
        not any(c <= cost and t <= time and (c < cost or t < time) for c, t in points)
        for cost, time in points
    ]


def fronts(result: WhatIfResult) -> dict[str, list[dict[str, Any]]]:
    """Per measure of time: every configuration's cost and time, and whether it is on the front;
    sorted by cost."""
    summary = result.summary()
    out = {}
    for key in AGAINST:
        points = [(float(s["mean"][COST]), float(s["mean"][key])) for s in summary]
        marks = on_front(points)
        rows = [
            {"configuration": s["configuration"], COST: s["mean"][COST], key: t, "on_front": m}
            for s, (_c, t), m in zip(summary, points, marks, strict=True)
        ]
        out[key] = sorted(rows, key=lambda r: (float(r[COST]), r[key]))
    return out
