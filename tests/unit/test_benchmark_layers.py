"""``benchmarks/api_layers.py`` times the app with layers switched off: each variant must still
answer the pairs correctly, or its figure would time error pages."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mock_server.testing import Credentials
from tests.support.bench import BENCH, bench_script

layers = bench_script("api_layers")


@pytest.mark.parametrize("variant", ["bare", "ours - all four"])
def test_a_variant_answers_its_pairs_and_reports_ms_per_pair(variant: str) -> None:
    script = str(BENCH / "api_layers.py")
    command = [sys.executable, script, "--variant", variant, "--pairs", "5"]
    ms = float(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    assert ms > 0


def test_a_refused_request_stops_the_measurement() -> None:
    app, _token = layers.app_of("ours")
    pair = layers.pair_caller(app, "not-a-token", Credentials())
    with pytest.raises(RuntimeError, match="401"):
        pair()
