"""Small builders shared by the engine's unit and property tests: worlds, job specs, pool reads."""

from __future__ import annotations

import calendar
import json
import re
import time
from functools import cache
from typing import Any

from simulator import SimConfig, World, load_config

START = 1_716_000_000.0  # a fixed epoch, so timestamps in failures are readable and stable
SCRIPT = "/home/jovyan/train.py"
IMAGE = "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40"
PULL_2S = {"timings": {"image_pull_s": [2.0, 2.0]}}  # pins the one random start-up delay
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{0,8}[1-9]))?Z$")


@cache
def _config(overrides_json: str) -> SimConfig:
    return load_config(overrides=json.loads(overrides_json))


def world(overrides: dict[str, Any] | None = None, *, seed: int = 0, **kwargs: Any) -> World:
    """A World on the packaged config plus ``overrides``, starting at :data:`START`.

    Configs are cached per overrides (worlds only read them): parsing the packaged YAML costs
    about half a second, which would dominate the property tests.
    """
    config = _config(json.dumps(overrides or {}, sort_keys=True))
    return World(config, seed=seed, start_epoch=START, **kwargs)


def job(
    instance_type: str = "v100.1gpu",
    *,
    region: str = "DGX2-MT",
    n_workers: int = 1,
    runtime_s: float | None = None,
    outcome: str | None = None,
    **params: Any,
) -> dict[str, Any]:
    """A RunJobRequest-shaped dict; ``runtime_s``/``outcome`` become MLSPACE_SIM_* overrides."""
    env = dict(params.pop("env_variables", {}))
    if runtime_s is not None:
        env["MLSPACE_SIM_RUNTIME_S"] = runtime_s
    if outcome is not None:
        env["MLSPACE_SIM_OUTCOME"] = outcome
    return {
        "script": SCRIPT,
        "base_image": IMAGE,
        "instance_type": instance_type,
        "region": region,
        "type": "pytorch2",
        "n_workers": n_workers,
        "env_variables": env,
        **params,
    }


def gpu_pool(name: str, *node_gpus: int, serves: tuple[str, ...] = ("job",)) -> dict[str, Any]:
    """A GPU pool with one node per entry of ``node_gpus``; CPU/RAM never bind (16 CPU, 256 GiB
    per GPU covers every catalog type)."""
    return {
        "name": name,
        "serves": list(serves),
        "resource": "gpu",
        "nodes": [{"gpus": g, "cpus": 16 * g, "memory_gi": 256 * g} for g in node_gpus],
    }


def pool(world_: World, name: str) -> dict[str, Any]:
    """One pool of ``pools_report()`` by name."""
    return next(p for p in world_.pools_report() if p["name"] == name)


def used_gpus(world_: World, name: str) -> int:
    return pool(world_, name)["gpus"]["used"]


def parse_ts(stamp: str) -> float:
    """Epoch seconds of an RFC 3339 UTC stamp whose fraction has no trailing zeros."""
    match = STAMP.match(stamp)
    assert match, stamp
    whole = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    return whole + float(f"0.{match.group(2) or 0}")


def split(line: str) -> tuple[float, str]:
    """A log line with timestamps on, as (epoch, text)."""
    stamp, text = line.split(" ", 1)
    return parse_ts(stamp), text
