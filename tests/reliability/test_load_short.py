"""A short run of ``benchmarks/load.py``: 8 clients (threads of one spawned process) for 5 s
against the real server.

Only the invariants are asserted (no 5xx, no lost or duplicated job, no over-allocated node in
any sample, bills that add up), never a latency or a rate: those depend on the machine.
"""

from __future__ import annotations

import pytest

from benchmarks.load import OPS, Options, run

pytestmark = pytest.mark.timeout(120)


def test_concurrent_clients_leave_every_invariant_intact() -> None:
    report = run(Options(clients=8, seconds=5.0, max_requests=20_000, processes=1, sample_s=0.05))
    assert report.problems == []
    assert report.pool_samples > 0
    assert report.jobs == sum(len(log.acked) for log in report.logs) > 0
    for op in OPS:
        assert report.latencies(op), f"no {op} request was made"
