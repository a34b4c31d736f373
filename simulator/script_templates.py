"""The framework log templates (``data/script_logs.yaml``): loaded once, ``extends`` resolved,
expressions compiled and checked, and the rule that picks a template for a job from its type and
image name."""

from __future__ import annotations

import copy
import re
from functools import cache, lru_cache
from importlib import resources
from string import Formatter
from typing import Any

import yaml

from simulator.expressions import compile_expr, names_in

DATA = "data/script_logs.yaml"


class TemplateError(ValueError):
    """The template file, or a scenario's reference to it, is inconsistent."""


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("simulator").joinpath(DATA).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _line(raw: Any) -> dict[str, Any]:
    """A line entry in its long form."""
    if isinstance(raw, dict):
        return {"at": 0.0, **raw}
    if isinstance(raw, str):
        return {"at": 1.0, "text": raw}
    at, text = raw
    return {"at": at, "text": text}


def _merged(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Template ``name`` with its ``extends`` chain applied: mappings merge key by key, phases
    replace the parent's phase of the same name."""
    own = raw[name]
    if "extends" not in own:
        return copy.deepcopy(own)
    base = _merged(own["extends"], raw)
    for key in ("params", "derive", "values", "fields", "blocks"):
        base[key] = {**base.get(key, {}), **own.get(key, {})}
    by_name = {p["name"]: p for p in own.get("phases", [])}
    base["phases"] = [by_name.get(p["name"], p) for p in base["phases"]]
    for key in ("framework", "traceback", "progress"):
        if key in own:
            base[key] = own[key]
    return base


def _checked(name: str, tpl: dict[str, Any]) -> dict[str, Any]:
    """Normalise lines and compile every expression, so a typo fails at load, not at read."""
    tpl.setdefault("params", {})
    tpl.setdefault("values", {})
    tpl.setdefault("fields", {})
    tpl.setdefault("derive", {})
    tpl["blocks"] = {b: [_line(x) for x in lines] for b, lines in tpl.get("blocks", {}).items()}
    tpl["traceback"] = [_line(x) for x in _flat(tpl.get("traceback", []))]
    for phase in tpl["phases"]:
        phase["lines"] = [_line(x) for x in phase.get("lines", [])]
        if "loop" in phase:
            if phase["loop"] not in tpl["blocks"]:
                raise TemplateError(f"{name}: phase {phase['name']} loops an unknown block")
            compile_expr(str(phase["count"]))
            compile_expr(str(phase.get("start", 1)))
    lines = [ln for p in tpl["phases"] for ln in p["lines"]]
    lines += [ln for b in tpl["blocks"].values() for ln in b] + tpl["traceback"]
    for ln in lines:
        _needs(ln, tpl)
    return tpl


def _needs(line: dict[str, Any], tpl: dict[str, Any]) -> None:
    """Record which curves and fields ``line`` uses (directly or through other fields), so a
    read computes only those: ``_values`` and ``_fields`` (in the template's field order)."""
    used = {root for _, name, _, _ in Formatter().parse(line["text"]) if name for root in [
        re.split(r"[.\[]", name)[0]]}  # fmt: skip
    for key in ("if", "repeat"):
        if key in line:
            used |= names_in(str(line[key]))
    fields = tpl["fields"]
    pending = [n for n in used if n in fields]
    while pending:
        name = pending.pop()
        more = names_in(str(fields[name])) - used
        used |= more
        pending += [n for n in more if n in fields]
    line["_clock"] = bool(used & {"msk", "msk_ms", "utc"})
    line["_values"] = tuple(n for n in tpl["values"] if n in used)
    line["_fields"] = tuple((n, e) for n, e in fields.items() if n in used)


def _flat(items: list[Any]) -> list[Any]:
    """Traceback lists may embed shared lists (YAML aliases)."""
    out: list[Any] = []
    for item in items:
        out += _flat(item) if isinstance(item, list) and not _is_pair(item) else [item]
    return out


def _is_pair(item: list[Any]) -> bool:
    return len(item) == 2 and isinstance(item[0], (int, float)) and isinstance(item[1], str)


@cache
def template(name: str) -> dict[str, Any]:
    """The template ``name``, ready to render (cached; callers must not change it)."""
    raw = _raw()["templates"]
    if name not in raw:
        raise TemplateError(f"no log template {name!r}; known: {', '.join(sorted(raw))}")
    return _checked(name, _merged(name, raw))


def names() -> list[str]:
    return sorted(_raw()["templates"])


def phase_names(name: str) -> list[str]:
    return [p["name"] for p in template(name)["phases"]]


def device(gpu_model: str | None) -> dict[str, Any]:
    """How frameworks name ``gpu_model``; unknown models by their own name."""
    known = _raw()["devices"]
    return known.get(gpu_model or "", {"name": gpu_model or "GPU", "cc": "8.0", "gib": 39.59})


@cache
def _rules() -> list[tuple[frozenset[str] | None, re.Pattern[str] | None, str]]:
    return [
        (
            frozenset(r["type"]) if "type" in r else None,
            re.compile(r["image"]) if "image" in r else None,
            r["template"],
        )
        for r in _raw()["pick"]
    ]


@lru_cache(maxsize=1024)
def pick(job_type: str, image: str) -> str:
    """The template of a job with no run-time model of its own: the first rule whose type and
    image pattern both match (cached: few distinct pairs per world)."""
    lowered = image.lower()
    for types, pattern, name in _rules():
        if (types is None or job_type in types) and (pattern is None or pattern.search(lowered)):
            return name
    return "generic"
