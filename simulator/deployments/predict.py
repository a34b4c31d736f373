"""Deterministic predictions: the same seed, deployment and request always give the same answer.

The answer keeps the request's shape in KServe's v1 protocol: ``{"instances": [...]}`` gets one
score per row in ``{"predictions": [...]}``; any other body is one instance.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.randomness import derive_bits, unit_interval


def score(seed: int, deployment: str, model: str, row: Any) -> float:
    """A score in [0, 1) for one input row."""
    text = json.dumps(row, sort_keys=True, default=str)
    return round(unit_interval(derive_bits(seed, "predict", deployment, model, text)), 6)


def answer(seed: int, deployment: str, model: str, body: Any) -> dict[str, Any]:
    rows = body.get("instances") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        rows = [body]
    return {
        "model_name": model,
        "predictions": [score(seed, deployment, model, row) for row in rows],
    }
