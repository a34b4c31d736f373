"""Replayable scenarios of the official ML Space examples (one YAML file per example).

``load(name)`` reads and checks one, ``names()`` lists them, ``register_all(world)`` gives a world
the runtime models of every example script (what a server needs to replay them), and
``scenarios.runner.run`` plays one against a server.
"""

from __future__ import annotations

import copy
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from scenarios import models
from scenarios.schema import ScenarioError, check


def names() -> list[str]:
    """Every packaged scenario, by name."""
    files = resources.files("scenarios").iterdir()
    return sorted(f.name[: -len(".yaml")] for f in files if f.name.endswith(".yaml"))


def parse(text: str, source: str) -> dict[str, Any]:
    """A checked scenario from YAML text (``source`` names it in error messages)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(source, [f"not valid YAML: {exc}"]) from None
    data = check(data, source)
    if "start" in data:
        try:
            datetime.fromisoformat(data["start"].replace("Z", "+00:00"))
        except ValueError:
            raise ScenarioError(
                source, [f"start: not an ISO date-time: {data['start']!r}"]
            ) from None
    return data


@cache
def _load(name: str) -> dict[str, Any]:
    if name not in names():
        raise KeyError(f"no scenario named {name!r}; known: {', '.join(names())}")
    path = resources.files("scenarios").joinpath(f"{name}.yaml")
    data = parse(path.read_text(encoding="utf-8"), f"{name}.yaml")
    if data["name"] != name:
        raise ScenarioError(f"{name}.yaml", [f"name: {data['name']!r} differs from the file name"])
    return data


def load(name: str) -> dict[str, Any]:
    """The scenario ``name`` (a fresh copy: callers may change it)."""
    return copy.deepcopy(_load(name))


def register_all(world: Any, first: dict[str, Any] | None = None) -> list[str]:
    """Runtime models of every example script on ``world`` (those of ``first``, a scenario not
    necessarily packaged, take precedence); returns the script names covered."""
    packaged = [_load(n) for n in names()]
    return models.register(world, [first, *packaged] if first else packaged)


def read(name_or_path: str) -> dict[str, Any]:
    """A packaged scenario by name, or a scenario file by path (``*.yaml``)."""
    if name_or_path.endswith((".yaml", ".yml")) and Path(name_or_path).is_file():
        return parse(Path(name_or_path).read_text(encoding="utf-8"), name_or_path)
    return load(name_or_path)


__all__ = ["ScenarioError", "load", "names", "parse", "read", "register_all"]
