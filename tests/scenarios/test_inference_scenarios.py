"""The inference scenarios: the walk-through's deployment bills only while it has a replica, and
a min-0 deployment costs a fraction of a min-1 one over a bursty day."""

from __future__ import annotations

from collections.abc import Callable

from scenarios.report import to_text
from scenarios.runner import Report

Replay = Callable[[str], Report]


def test_public_api_deploys_predicts_and_stops_billing_at_zero(replayed: Replay) -> None:
    report = replayed("public_api")
    dep = report.subjects["dep"]
    assert [s for _, s in dep.events] == ["Loading", "Running", "ScaledToZero", "Deleted"]
    scaled_at = next(at for at, s in dep.events if s == "ScaledToZero")
    created_at = dep.events[0][0]
    assert dep.billed_s <= scaled_at - created_at  # nothing after scale to zero
    predicts = [e for e in report.transcript if "predict" in e["call"]]
    assert predicts and predicts[0]["status"] == 200 and "predictions" in predicts[0]["returned"]
    assert report.subjects["build"].status == "SUCCEEDED"


def test_inference_costs_min0_pays_for_bursts_only(replayed: Replay) -> None:
    report = replayed("inference_costs")
    always, scale0 = report.subjects["always1"], report.subjects["scale0"]
    assert always.billed_s >= 24 * 3600  # one replica all day, more in bursts
    assert scale0.billed_s < 12 * 3600
    assert always.bill / scale0.bill > 2
    assert "ScaledToZero" in [s for _, s in scale0.events]
    assert "ratio:" in to_text(report)
