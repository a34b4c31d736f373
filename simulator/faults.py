"""Fault settings of the engine: node failures, preemption and slow image pulls (off by default).

They live in the config's ``faults:`` section next to ``faults.rules`` (the mock server's API
fault rules, not read here) and can be changed at run time (``World.configure_faults``). A change
is a partial mapping merged over the settings in force, validated as a whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

API_RULES_KEY = "rules"  # faults.rules: the mock server's API fault rules
MAX_RATE_PER_NODE_HOUR = 3600.0  # one failure per node-second: beyond that nothing could run
MAX_REPAIR_S = 30 * 86400.0
MAX_SLOW_FACTOR = 1000.0

# section -> key -> (field of FaultSettings, kind, lower bound, upper bound)
_FIELDS: dict[str, dict[str, tuple[str, str, float, float]]] = {
    "node_failures": {
        "rate_per_node_hour": ("node_failure_rate", "number", 0.0, MAX_RATE_PER_NODE_HOUR),
        "repair_s": ("repair_s", "number", 0.0, MAX_REPAIR_S),
    },
    "preemption": {
        "enabled": ("preemption", "bool", 0, 0),
        "notebooks": ("notebooks_preempt", "bool", 0, 0),
    },
    "slow_pulls": {
        "probability": ("slow_pull_p", "number", 0.0, 1.0),
        "factor": ("slow_pull_factor", "number", 1.0, MAX_SLOW_FACTOR),
    },
}


class FaultConfigError(ValueError):
    """A fault setting that cannot be used; ``loc`` is the path to the offending key."""

    def __init__(self, loc: list[str], msg: str) -> None:
        super().__init__(f"{'.'.join(loc)}: {msg}")
        self.loc = loc
        self.msg = msg


@dataclass(frozen=True)
class FaultSettings:
    """What faults are on. Defaults match ``data/defaults.yaml``: all off."""

    node_failure_rate: float = 0.0  # failures per node-hour while the node holds work
    repair_s: float = 600.0  # a failed node is down this long
    preemption: bool = False  # a blocked job may evict strictly lower-priority jobs of its pool
    notebooks_preempt: bool = False  # ... and so may a Jupyter Server, in a pool it shares
    slow_pull_p: float = 0.0  # probability that one placement's image pull is slow
    slow_pull_factor: float = 10.0  # how many times longer a slow pull takes

    @property
    def tracking(self) -> bool:
        """Whether the engine must know who holds which node (failures or preemption on)."""
        return self.node_failure_rate > 0 or self.preemption

    def to_dict(self) -> dict[str, Any]:
        """The settings in the config's shape."""
        return {
            section: {key: getattr(self, spec[0]) for key, spec in keys.items()}
            for section, keys in _FIELDS.items()
        }


def _value(loc: list[str], kind: str, lo: float, hi: float, value: Any) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            raise FaultConfigError(loc, "Input should be a valid boolean")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultConfigError(loc, "Input should be a valid number")
    if not (math.isfinite(value) and lo <= value <= hi):
        raise FaultConfigError(loc, f"Input should be between {lo:g} and {hi:g}")
    return float(value)


def parse_faults(section: Any, base: FaultSettings | None = None) -> FaultSettings:
    """``section`` (the ``faults:`` mapping, or a partial change of it) merged over ``base``."""
    settings = base or FaultSettings()
    if section is None:
        return settings
    if not isinstance(section, dict):
        raise FaultConfigError(["faults"], "Input should be a valid mapping")
    changes: dict[str, Any] = {}
    for name, keys in section.items():
        if name == API_RULES_KEY:
            continue
        fields = _FIELDS.get(name)
        if fields is None:
            known = ", ".join([*_FIELDS, API_RULES_KEY])
            raise FaultConfigError(["faults", str(name)], f"Unknown section; known: {known}")
        if not isinstance(keys, dict):
            raise FaultConfigError(["faults", name], "Input should be a valid mapping")
        for key, value in keys.items():
            spec = fields.get(key)
            if spec is None:
                raise FaultConfigError(
                    ["faults", name, str(key)], f"Unknown key; known: {', '.join(fields)}"
                )
            field, kind, lo, hi = spec
            changes[field] = _value(["faults", name, key], kind, lo, hi, value)
    return replace(settings, **changes)
