"""What-if configurations: engine overrides (pools, tariff, prices, policy) plus replay options.

A configuration is data (name, engine overrides, whether Jupyter training moves to region jobs),
so it pickles to any executor and prints into the report. Engine configs are built from a cached
base config, so a sweep of many small variants does not re-read the catalog each time.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulator.config import TARIFFS, SimConfig, deep_merge, load_config
from simulator.whatif.replay import QUOTA_RETRY_S

POLICIES = {"fifo": False, "backfill": True}  # scheduling policy -> scheduler.backfill
NO_QUOTA = "none"  # a --quota value: no per-workspace GPU limit
PLACEMENTS = ("best_fit", "count")
REGION_POOL = "region"


class ConfigError(ValueError):
    """A what-if configuration that cannot be built."""


@dataclass(frozen=True)
class Configuration:
    """One column of the what-if table."""

    name: str
    engine: dict[str, Any] = field(default_factory=dict, hash=False)
    jupyter_to_region: bool = False
    quota_retry_s: float = QUOTA_RETRY_S  # how often a job refused by a quota is resubmitted

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "engine": self.engine,
            "jupyter_to_region": self.jupyter_to_region,
            "quota_retry_s": self.quota_retry_s,
        }


@functools.lru_cache(maxsize=8)
def base_config(path: str | None = None) -> SimConfig:
    """The engine config every configuration starts from (packaged defaults + ``path``)."""
    return load_config(path)


def engine_config(base: SimConfig, overrides: dict[str, Any]) -> SimConfig:
    """``base`` with ``overrides`` deep-merged; ``prices`` merges into the base price book."""
    if "catalog" in overrides:
        raise ConfigError("change the catalog in the base engine config, not per configuration")
    try:
        return base.with_overrides(overrides)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def sized_pools(pools: list[dict[str, Any]], gpus: int, node_gpus: int) -> list[dict[str, Any]]:
    """``pools`` with the region pool rebuilt as ``gpus`` GPUs on nodes of ``node_gpus``."""
    if gpus < 1 or node_gpus < 1:
        raise ConfigError("GPU counts must be positive")
    names = [p["name"] for p in pools]
    if REGION_POOL not in names:
        raise ConfigError(f"the base config has no pool named {REGION_POOL!r} to resize")
    region = pools[names.index(REGION_POOL)]
    full, rest = divmod(gpus, node_gpus)
    shape = region["nodes"][0]
    per_gpu_cpu = float(shape.get("cpus", 0)) / max(1, int(shape.get("gpus", 1)))
    per_gpu_mem = float(shape.get("memory_gi", 0)) / max(1, int(shape.get("gpus", 1)))

    def group(count: int, g: int) -> dict[str, Any]:
        return {
            "prefix": shape.get("prefix", REGION_POOL),
            "count": count,
            "gpus": g,
            "cpus": per_gpu_cpu * g,
            "memory_gi": per_gpu_mem * g,
        }

    nodes = [group(full, node_gpus)] if full else []
    if rest:
        nodes.append(group(1, rest))
    resized = {**region, "nodes": nodes}
    return [resized if p is region else p for p in pools]


@dataclass(frozen=True)
class Axes:
    """Values to sweep; every combination is one configuration."""

    gpus: Sequence[int | None] = (None,)
    tariffs: Sequence[str | None] = (None,)
    policies: Sequence[str | None] = (None,)
    placements: Sequence[str | None] = (None,)
    moves: Sequence[bool] = (False,)
    quotas: Sequence[int | str | None] = (None,)  # GPUs per workspace, NO_QUOTA; None: as base
    preemptions: Sequence[bool | None] = (None,)  # high-priority jobs may evict low; None: as base
    node_gpus: int = 8
    quota_retry_s: float = QUOTA_RETRY_S


def _label(axis: str, value: Any) -> str:
    return {
        "gpus": lambda v: f"{v} GPUs",
        "tariff": lambda v: "per-minute" if v == "per_minute_ceil" else "per-second",
        "policy": str,
        "placement": lambda v: v.replace("_", "-"),
        "move": lambda v: "jupyter->jobs" if v else "jupyter",
        "quota": lambda v: "no quota" if v == NO_QUOTA else f"quota {v}",
        "preemption": lambda v: "preemption" if v else "no preemption",
    }[axis](value)


def configurations(axes: Axes, base: SimConfig) -> list[Configuration]:
    """The cartesian product of ``axes``, named by the axes that vary."""
    grid = {
        "gpus": list(axes.gpus),
        "tariff": list(axes.tariffs),
        "policy": list(axes.policies),
        "placement": list(axes.placements),
        "move": list(axes.moves),
        "quota": list(axes.quotas),
        "preemption": list(axes.preemptions),
    }
    shown = [
        a
        for a, values in grid.items()
        if len(values) > 1 or (a in ("gpus", "quota", "preemption") and values[0] is not None)
    ]
    out = []
    for combo in itertools.product(*grid.values()):
        chosen = dict(zip(grid, combo, strict=True))
        out.append(
            Configuration(
                name=", ".join(_label(a, chosen[a]) for a in shown) or "default",
                engine=_overrides(chosen, axes.node_gpus, base),
                jupyter_to_region=bool(chosen["move"]),
                quota_retry_s=axes.quota_retry_s,
            )
        )
    return out


def _overrides(chosen: dict[str, Any], node_gpus: int, base: SimConfig) -> dict[str, Any]:
    over: dict[str, Any] = {}
    if chosen["gpus"]:
        over["pools"] = sized_pools(base.pools, int(chosen["gpus"]), node_gpus)
    if chosen["tariff"]:
        if chosen["tariff"] not in TARIFFS:
            raise ConfigError(f"tariff must be one of {TARIFFS}, not {chosen['tariff']!r}")
        over["billing"] = {"tariff": chosen["tariff"]}
    sched: dict[str, Any] = {}
    if chosen["policy"]:
        if chosen["policy"] not in POLICIES:
            raise ConfigError(f"policy must be one of {tuple(POLICIES)}, not {chosen['policy']!r}")
        sched["backfill"] = POLICIES[chosen["policy"]]
    if chosen["placement"]:
        if chosen["placement"] not in PLACEMENTS:
            raise ConfigError(f"placement must be one of {PLACEMENTS}")
        sched["placement"] = chosen["placement"]
    if sched:
        over["scheduler"] = sched
    quota = chosen.get("quota")
    if quota is not None:
        if quota != NO_QUOTA and (isinstance(quota, bool) or not isinstance(quota, int)):
            raise ConfigError(f"a quota is a whole number of GPUs or {NO_QUOTA!r}, not {quota!r}")
        over["quotas"] = {"workspace_gpus": None if quota == NO_QUOTA else quota}
    if chosen.get("preemption") is not None:
        over["faults"] = {"preemption": {"enabled": bool(chosen["preemption"])}}
    return over


def from_entry(entry: dict[str, Any], base: SimConfig, n: int) -> Configuration:
    """One configuration of a what-if YAML file (shortcut keys plus raw ``engine`` overrides)."""
    known = {"name", "region_gpus", "node_gpus", "tariff", "policy", "placement"}
    known |= {"jupyter_to_region", "prices", "engine", "quotas", "quota_retry_s"}
    unknown = set(entry) - known
    if unknown:
        raise ConfigError(f"configuration {n}: unknown keys {sorted(unknown)}")
    chosen = {
        "gpus": entry.get("region_gpus"),
        "tariff": entry.get("tariff"),
        "policy": entry.get("policy"),
        "placement": entry.get("placement"),
    }
    over = deep_merge(
        _overrides(chosen, int(entry.get("node_gpus", 8)), base), entry.get("engine") or {}
    )
    if "prices" in entry:
        over["prices"] = entry["prices"]
    if "quotas" in entry:
        over["quotas"] = entry["quotas"]
    return Configuration(
        name=str(entry.get("name") or f"config {n + 1}"),
        engine=over,
        jupyter_to_region=bool(entry.get("jupyter_to_region", False)),
        quota_retry_s=_retry(entry.get("quota_retry_s", QUOTA_RETRY_S), n),
    )


def _retry(value: Any, n: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"configuration {n}: quota_retry_s must be seconds > 0, not {value!r}")
    return float(value)


def read_configurations(path: str | Path, base: SimConfig) -> list[Configuration]:
    """Configurations from a YAML file: ``configurations: [{name, region_gpus, ...}, ...]``."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = data.get("configurations") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expected a non-empty list under 'configurations'")
    confs = [from_entry(e, base, n) for n, e in enumerate(entries)]
    for conf in confs:
        engine_config(base, conf.engine)  # fail now, not inside a worker
    if len({c.name for c in confs}) != len(confs):
        raise ConfigError(f"{path}: configuration names must be unique")
    return confs
