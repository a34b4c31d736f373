"""Fault settings of the engine: node failures, preemption and slow image pulls (off by default).

They live in the config's ``faults:`` section next to ``faults.rules`` (the mock server's API
fault rules, not read here) and can be changed at run time (``World.configure_faults``). A change
is a partial mapping merged over the settings in force, validated as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from simulator.config_schema import Faults

API_RULES_KEY = "rules"  # faults.rules: the mock server's API fault rules

# section -> key -> field of FaultSettings
_FIELDS: dict[str, dict[str, str]] = {
    "node_failures": {"rate_per_node_hour": "node_failure_rate", "repair_s": "repair_s"},
    "preemption": {"enabled": "preemption", "notebooks": "notebooks_preempt"},
    "slow_pulls": {"probability": "slow_pull_p", "factor": "slow_pull_factor"},
}


class FaultConfigError(ValueError):
    """Fault settings that cannot be used: pydantic's own error records (``errors``, each
    with its ``loc`` from the ``faults`` section down); ``loc``/``msg`` are the first one's."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        first = errors[0]
        self.errors = errors
        self.loc = ["faults", *map(str, first["loc"])]
        self.msg = first["msg"]
        super().__init__(f"{'.'.join(self.loc)}: {self.msg}")


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
            section: {key: getattr(self, field) for key, field in keys.items()}
            for section, keys in _FIELDS.items()
        }


def parse_faults(section: Any, base: FaultSettings | None = None) -> FaultSettings:
    """``section`` (the ``faults:`` mapping, or a partial change of it) merged over ``base``,
    validated by the config's own model (:class:`simulator.config_schema.Faults`)."""
    settings = base or FaultSettings()
    if section is None:
        return settings
    merged: Any = section
    if isinstance(section, dict):
        current = settings.to_dict()
        merged = {
            name: {**current[name], **keys} if name in current and isinstance(keys, dict) else keys
            for name, keys in section.items()
        }
    try:
        valid = Faults.model_validate(merged)
    except ValidationError as exc:
        raise FaultConfigError(exc.errors(include_url=False)) from None
    changes = {
        field: getattr(getattr(valid, name), key)
        for name, keys in _FIELDS.items()
        if name in merged
        for key, field in keys.items()
    }
    return replace(settings, **changes)
