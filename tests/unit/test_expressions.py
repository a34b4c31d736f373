"""The arithmetic that log templates may compute, and nothing more."""

from __future__ import annotations

import math

import pytest

from simulator.expressions import ExpressionError, evaluate


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("60000 // batch_size // max(1, world)", 600),
        ("round(n / 36, 2)", 0.03),
        ("stop_epoch < epochs", True),
        ("nan if n == 1 else 2.5", math.nan),
        ("0.5 * (1 + cos(pi))", 0.0),
        (7, 7),
    ],
)
def test_expressions_compute_over_the_given_names(text, value):
    got = evaluate(text, {"batch_size": 50, "world": 2, "n": 1, "stop_epoch": 62, "epochs": 100})
    assert got == value or (math.isnan(value) and math.isnan(got))


@pytest.mark.parametrize(
    "text",
    ["__import__('os')", "().__class__", "open('x')", "[1][0]", "lambda: 1", "x = 1", "missing"],
)
def test_anything_beyond_arithmetic_is_refused(text):
    with pytest.raises(ExpressionError):
        evaluate(text, {})
