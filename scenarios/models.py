"""Runtime models from scenario data: how long each example's script runs once the workers are
READY, as a sum of calibrated phases (seconds), per GPU model where the observations differ, and
what it prints: a framework log template (``simulator/data/script_logs.yaml``) whose phases are
the model's, with the example's own parameters (epochs, steps, recorded values).

Several examples share a script file name (``tensorflow_mnist_estimator.py`` is both the TF1 and
the TF2 example), so the models of one file name are tried in order and the first whose ``when``
matches the job decides; a job that matches none gets the first.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from simulator.jobs import Job
from simulator.runtime import RunPlan, RuntimeModel, ScriptLog


def variant(model: dict[str, Any], gpu_model: str | None) -> dict[str, Any]:
    """The model's phases and log parameters on ``gpu_model`` (its ``by_gpu_model`` entry, if
    any, replaces the phases and adds to the parameters)."""
    own = model.get("by_gpu_model", {}).get(gpu_model or "")
    log = model.get("log", {})
    if own is None:
        return {"phases": model["phases"], "params": log.get("params", {})}
    return {"phases": own["phases"], "params": {**log.get("params", {}), **own.get("params", {})}}


def runtime_s(model: dict[str, Any], gpu_model: str | None) -> float:
    """The model's nominal run time (no jitter) on ``gpu_model``."""
    return float(sum(variant(model, gpu_model)["phases"].values()))


def script_log(model: dict[str, Any], gpu_model: str | None) -> ScriptLog | None:
    """What the model's script prints on ``gpu_model``; None: the job's type and image decide."""
    if "log" not in model:
        return None
    v = variant(model, gpu_model)
    return ScriptLog(model["log"]["template"], v["params"], tuple(v["phases"].items()))


def matches(model: dict[str, Any], base_image: str, job_type: str, region: str) -> bool:
    """Whether ``model``'s ``when`` fits a job of this image, type and region."""
    when = model.get("when", {})
    return (
        when.get("base_image_contains", "") in base_image
        and when.get("type", job_type) == job_type
        and when.get("region", region) == region
    )


def choose(models: list[dict[str, Any]], base_image: str, job_type: str, region: str) -> int:
    """Index of the model that decides for such a job: the first that matches, else the first."""
    found = (k for k, m in enumerate(models) if matches(m, base_image, job_type, region))
    return next(found, 0)


def dispatcher(name: str, models: list[dict[str, Any]]) -> RuntimeModel:
    """One registry entry for every model of a script file name (each model's nominal time and
    log built once per GPU model, then shared by its jobs)."""
    built: dict[tuple[int, str | None], tuple[float, ScriptLog | None]] = {}

    def model_fn(job: Job, rng: random.Random) -> RunPlan:
        spec = job.spec
        i = choose(models, spec.base_image, spec.type, spec.region)
        key = (i, job.itype.gpu_model)
        if key not in built:
            built[key] = (runtime_s(models[i], key[1]), script_log(models[i], key[1]))
        nominal, log = built[key]
        jitter = float(models[i].get("jitter", 0.0))
        seconds = nominal * rng.uniform(1 - jitter, 1 + jitter)
        return RunPlan(seconds, True, "", f"scenario:{name}", log)

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
