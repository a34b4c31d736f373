"""Runtime models from scenario data: how long each example's script runs once the workers are
READY, as a sum of calibrated phases (seconds), per GPU model where the observations differ.

Several examples share a script file name (``tensorflow_mnist_estimator.py`` is both the TF1 and
the TF2 example), so the models of one file name are tried in order and the first whose ``when``
matches the job decides; a job that matches none gets the first.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from simulator.jobs import Job
from simulator.runtime import RunPlan, RuntimeModel


def runtime_s(model: dict[str, Any], gpu_model: str | None) -> float:
    """The model's nominal run time (no jitter) on ``gpu_model``."""
    phases = model.get("by_gpu_model", {}).get(gpu_model or "", model["phases"])
    return float(sum(phases.values()))


def matches(model: dict[str, Any], job: Job) -> bool:
    when = model.get("when", {})
    spec = job.spec
    return (
        when.get("base_image_contains", "") in spec.base_image
        and when.get("type", spec.type) == spec.type
        and when.get("region", spec.region) == spec.region
    )


def dispatcher(name: str, models: list[dict[str, Any]]) -> RuntimeModel:
    """One registry entry for every model of a script file name."""

    def model_fn(job: Job, rng: random.Random) -> RunPlan:
        model = next((m for m in models if matches(m, job)), models[0])
        jitter = float(model.get("jitter", 0.0))
        seconds = runtime_s(model, job.itype.gpu_model) * rng.uniform(1 - jitter, 1 + jitter)
        return RunPlan(seconds, True, "", f"scenario:{name}")

    return model_fn


def by_script(scenarios: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for data in scenarios:
        for model in data.get("runtime_models", []):
            grouped.setdefault(model["script"], []).append(model)
    return grouped


def register(world: Any, scenarios: Iterable[dict[str, Any]]) -> list[str]:
    """Register the scenarios' models on ``world``; returns the script names covered."""
    grouped = by_script(scenarios)
    for script, models in grouped.items():
        world.register_runtime_model(script, dispatcher(script, models))
    return sorted(grouped)
