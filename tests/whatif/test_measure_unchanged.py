"""``measure()``'s whole output (metrics, series, bills, refusals, horizon split) stays the same
for the same workload and seed: digests recorded on the code before the batch what-if path
measured during the run, over workloads that exercise notebooks, moved sessions, quotas,
kills, failures, deployments, a per-minute tariff and a horizon shorter than the run."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pytest

from simulator.billing import metered_seconds, seconds_cost
from simulator.config import TARIFFS
from simulator.whatif import Configuration, tally
from simulator.whatif.configs import base_config, from_entry
from simulator.whatif.metrics import kopecks_of, metered_seconds_of
from simulator.whatif.runner import Task, run_task
from simulator.workload import GeneratorSpec, generate
from tests.whatif.helpers import config, job, notebook
from tests.whatif.test_deployments_whatif import CONF as SERVING
from tests.whatif.test_deployments_whatif import deployment

DAY = 86400.0
MIXED = GeneratorSpec(days=6, jobs_per_day=150, notebooks_per_day=8)
SMALL = GeneratorSpec(days=4, jobs_per_day=120, notebooks_per_day=4)
BURSTY = ";".join(["0"] * 8 + ["40"] * 12 + ["0"] * 4)


def _hand_made() -> list:
    """Kills (before and after placement), failures, an unknown type refused, notebooks."""
    return [
        job(0.0, 500.0, workers=2, gpus_per_worker=4),
        job(5.0, 900.0, gpus_per_worker=8, outcome="killed", kill_s=300.0),
        job(6.0, 900.0, gpus_per_worker=8, outcome="killed", kill_s=7.0),
        job(8.0, 100.0, outcome="failure"),
        job(9.0, 50.0),
        notebook(1.0, 400.0, 800.0, gpus=2),
        notebook(2.0, 100.0, 0.0, gpus=16),
        job(10.0, 100.0, gpus_per_worker=3),
    ]


def _cases() -> dict[str, Task]:
    base = base_config()
    quota = from_entry({"name": "quota 16", "quotas": {"workspace_gpus": 16}}, base, 0)
    minute = from_entry({"name": "minute", "tariff": "per_minute_ceil", "region_gpus": 64}, base, 0)
    faulty = config("faults", [8, 8, 8, 8], backfill=True)
    faulty = replace(
        faulty,
        engine={
            **faulty.engine,
            "faults": {
                "node_failures": {"rate_per_node_hour": 0.05},
                "preemption": {"enabled": True},
            },
        },
    )
    return {
        "nothing": Task([], Configuration("default"), 0),
        "one notebook": Task([notebook(0.0, 100.0, 100.0)], Configuration("default"), 0),
        "generated default seed 0": Task(MIXED, Configuration("default"), 0),
        "generated default seed 3": Task(MIXED, Configuration("default"), 3),
        "moved to region": Task(MIXED, Configuration("move", jupyter_to_region=True), 1),
        "quota": Task(MIXED, quota, 2),
        "per minute, horizon a day": Task(MIXED, minute, 4, horizon_s=DAY, bins=50),
        "small pool backlog": Task(SMALL, config("tiny", [8, 8], direct_gpus=4), 5, horizon_s=DAY),
        "hand made": Task(_hand_made(), config("hand", [8, 8], backfill=True), 0),
        "faults": Task(SMALL, faulty, 6, horizon_s=DAY),
        "serving": Task(
            [deployment(1), deployment(0, BURSTY), *generate(replace(SMALL, days=1))],
            SERVING,
            0,
        ),
    }


def digest(result: dict) -> str:
    text = json.dumps(result, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Recorded on 02b6873, before measuring during the run. The five workloads whose jobs draw pull
# times were re-recorded when a replay began naming each record's job by the record
# (``replay.record_bits``) rather than by its request: with the request's bits they still gave
# the digests first recorded.
RECORDED = {
    "nothing": "3b9fad976ef5e94c",
    "one notebook": "eabd5b1078278a0d",
    "generated default seed 0": "89a6893d7458ce96",
    "generated default seed 3": "45bc9df472bd5544",
    "moved to region": "1c18b36888201d12",
    "quota": "2ecb9ffbee8c81ab",
    "per minute, horizon a day": "e88705a0ba3a1eb7",
    "small pool backlog": "a6cc47e10e4db499",
    "hand made": "6e121e5d44116e92",
    "faults": "7a5b199fcc5569bd",
    "serving": "278c4f68d4342704",
}


@pytest.mark.parametrize("name", list(RECORDED))
def test_measure_output_is_unchanged(name: str) -> None:
    result = run_task(_cases()[name])
    assert digest(result) == RECORDED[name]
    assert {type(v) for v in _leaves(result)} <= {int, float, str, Decimal}  # not numpy's


def _leaves(data: object) -> list[object]:
    if isinstance(data, dict):
        return [leaf for v in data.values() for leaf in _leaves(v)]
    if isinstance(data, list):
        return [leaf for v in data for leaf in _leaves(v)]
    return [data]


@pytest.mark.parametrize("name", ["quota", "faults", "serving"])
def test_a_ledger_letting_taken_lines_go_early_changes_nothing(name: str, monkeypatch) -> None:
    monkeypatch.setattr(tally, "FORGET_AFTER", 8)
    assert digest(run_task(_cases()[name])) == RECORDED[name]


def test_columns_are_metered_and_priced_as_the_ledger_does_to_the_kopeck() -> None:
    rng = np.random.default_rng(0)
    edges = [0.0, -1.0, 1e-7, 1e-6, 1.0000005, 59.9999995, 60.0, 60.000002, 3599.5, 18.0]
    elapsed = np.concatenate([edges, rng.exponential(3600.0, 3000), rng.exponential(9e6, 300)])
    # the last price is too fine for 64-bit integers: Python's take over
    prices = [Decimal(p) for p in ("300.00", "0.01", "1234.5678", "150", "1.00000000000000001")]
    which = rng.integers(len(prices), size=len(elapsed))
    for tariff in TARIFFS:
        seconds = metered_seconds_of(elapsed, tariff)
        assert seconds.tolist() == [metered_seconds(e, tariff) for e in elapsed.tolist()]
        for only in (which, np.zeros_like(which)):  # mixed, and all in 64-bit integers
            got = [Decimal(int(k)).scaleb(-2) for k in kopecks_of(seconds, prices, only)]
            pairs = zip(seconds.tolist(), only.tolist(), strict=True)
            assert got == [seconds_cost(s, prices[w]) for s, w in pairs]
