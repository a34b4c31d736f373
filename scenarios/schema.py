"""The shape of a scenario file, checked with JSON Schema plus the cross-references it cannot
express, so a mistake is reported as ``<file>: <where>: <what>`` before anything runs."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator

from simulator import script_templates

RANGE = {
    "type": "array",
    "items": {"type": "number", "minimum": 0},
    "minItems": 2,
    "maxItems": 2,
}
STRINGS = {"type": "array", "items": {"type": "string"}}
NOTE = {"type": "string"}

CALL_EXPECT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "returns": {"type": "string"},
        "returns_contains": STRINGS,
        "prints": {"type": "string"},
        "prints_contains": STRINGS,
        "raises": {"type": "string"},
    },
}
HTTP_EXPECT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "status": {"type": "integer"},
        "json": {"type": "object"},
        "has_keys": STRINGS,
        "text_contains": STRINGS,
    },
}
VAR = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}
PHASES = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {"type": "number", "minimum": 0},
}
LOG_PARAMS = {  # numbers the template prints or counts by, and overrides of its value curves
    "type": "object",
    "properties": {
        "values": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    k: {"type": "number"} for k in ("start", "end", "rate", "spread", "noise")
                },
            },
        }
    },
    "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1_000_000},
}

STEP_KINDS: dict[str, dict[str, Any]] = {
    "call": {
        "required": ["call"],
        "properties": {
            "call": {"type": "string", "pattern": r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)?$"},
            "args": {"type": "array"},
            "kwargs": {"type": "object"},
            "save": VAR,
            "expect": CALL_EXPECT,
            "note": NOTE,
        },
    },
    "http": {
        "required": ["http"],
        "properties": {
            "http": {
                "type": "object",
                "additionalProperties": False,
                "required": ["method", "path"],
                "properties": {
                    "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                    "path": {"type": "string"},
                    "query": {"type": "object"},
                    "json": {},
                    "auth": {"type": "boolean"},
                },
            },
            "save": {"type": "object", "additionalProperties": {"type": "string"}},
            "track": {
                "type": "object",
                "additionalProperties": False,
                "required": ["var", "kind"],
                "properties": {
                    "var": VAR,
                    "kind": {"enum": ["job", "notebook", "build", "deployment"]},
                },
            },
            "expect": HTTP_EXPECT,
            "note": NOTE,
        },
    },
    "advance": {
        "required": ["advance"],
        "properties": {"advance": {"type": "number", "minimum": 0}, "note": NOTE},
    },
    "wait": {
        "required": ["wait"],
        "properties": {
            "wait": {
                "type": "object",
                "additionalProperties": False,
                "required": ["subject", "until", "max_s"],
                "properties": {
                    "subject": VAR,
                    "until": {**STRINGS, "minItems": 1},
                    "max_s": {"type": "number", "exclusiveMinimum": 0},
                    "step_s": {"type": "number", "exclusiveMinimum": 0},
                },
            },
            "note": NOTE,
        },
    },
    "sweep": {
        "required": ["sweep"],
        "properties": {
            "sweep": {
                "type": "object",
                "additionalProperties": False,
                "required": ["count", "save", "job", "retry"],
                "properties": {
                    "count": {"type": "integer", "minimum": 1},
                    "save": VAR,
                    "job": {"type": "object"},
                    "retry": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["error_contains", "every_s", "max_s"],
                        "properties": {
                            "error_contains": {"type": "string"},
                            "every_s": {"type": "number", "exclusiveMinimum": 0},
                            "max_s": {"type": "number", "exclusiveMinimum": 0},
                        },
                    },
                },
            },
            "note": NOTE,
        },
    },
    "fill_pool": {
        "required": ["fill_pool"],
        "properties": {
            "fill_pool": {
                "type": "object",
                "additionalProperties": False,
                "required": ["region", "instance_type", "runtime_s"],
                "properties": {
                    "region": {"type": "string"},
                    "instance_type": {"type": "string"},
                    "runtime_s": {"type": "number", "exclusiveMinimum": 0},
                },
            },
            "note": NOTE,
        },
    },
}

SUBJECT_EXPECT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "statuses": {**STRINGS, "minItems": 1},
        "log_markers": STRINGS,
        "log_span_s": RANGE,
        "run_s": RANGE,
        "bill": RANGE,
    },
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "title", "source", "summary", "steps", "expect"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "title": {"type": "string"},
        "source": {"type": "string"},
        "summary": {"type": "string"},
        "start": {"type": "string", "format": "date-time"},
        "config": {"type": "object"},
        "files": {"type": "object", "additionalProperties": {"type": "string"}},
        "runtime_models": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["script", "phases", "calibration"],
                "properties": {
                    "script": {"type": "string", "pattern": r"^[^/]+$"},
                    "when": {
                        "type": "object",
                        "additionalProperties": False,
                        "minProperties": 1,
                        "properties": {
                            "base_image_contains": {"type": "string"},
                            "type": {"type": "string"},
                            "region": {"type": "string"},
                        },
                    },
                    "phases": PHASES,
                    "log": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["template"],
                        "properties": {
                            "template": {"type": "string"},
                            "params": LOG_PARAMS,
                        },
                    },
                    "by_gpu_model": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["phases"],
                            "properties": {"phases": PHASES, "params": LOG_PARAMS},
                        },
                    },
                    "jitter": {"type": "number", "minimum": 0, "maximum": 0.5},
                    "calibration": {"type": "string"},
                },
            },
        },
        "steps": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "oneOf": [
                    {
                        "required": list(kind["required"]),
                        "properties": kind["properties"],
                        "additionalProperties": False,
                    }
                    for kind in STEP_KINDS.values()
                ],
            },
        },
        "contrast": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["subject", "label"],
                "properties": {"subject": VAR, "label": {"type": "string"}},
            },
        },
        "expect": {
            "type": "object",
            "additionalProperties": False,
            "required": ["subjects"],
            "properties": {
                "subjects": {"type": "object", "additionalProperties": SUBJECT_EXPECT},
                "total_bill": RANGE,
            },
        },
    },
}

_VALIDATOR = Draft202012Validator(SCHEMA)
REFERENCE = re.compile(r"\$\{([a-z][a-z0-9_]*)")
BUILTIN_VARS = frozenset({"namespace", "workspace_id", "client_id", "client_secret", "api_key"})


class ScenarioError(ValueError):
    """A scenario file that does not fit the schema; ``problems`` lists every finding."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__("\n".join(f"{source}: {p}" for p in problems))
        self.source = source
        self.problems = problems


def _where(path: Any) -> str:
    return "/".join(str(p) for p in path) or "(top level)"


def _step_kind(step: dict[str, Any]) -> str | None:
    return next((k for k in STEP_KINDS if k in step), None)


def _step_problem(index: int, step: Any) -> str:
    """A readable reason for a step that fits no kind (``oneOf`` errors are unreadable)."""
    where = f"steps/{index}"
    if not isinstance(step, dict):
        return f"{where}: a step must be a mapping"
    kind = _step_kind(step)
    if kind is None:
        return f"{where}: a step needs one of the keys {', '.join(STEP_KINDS)}"
    spec = STEP_KINDS[kind]
    sub = Draft202012Validator(
        {"type": "object", "properties": spec["properties"], "additionalProperties": False}
    )
    found = sorted(sub.iter_errors(step), key=lambda e: list(e.absolute_path))
    if not found:
        return f"{where}: a step may have only one of the keys {', '.join(STEP_KINDS)}"
    e = found[0]
    return f"{where}/{_where(e.absolute_path)}: {e.message}".replace("/(top level)", "")


def _references(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(REFERENCE.findall(value))
    if isinstance(value, dict):
        return set().union(*(_references(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def _cross_checks(data: dict[str, Any]) -> list[str]:
    """Variables are saved before use; expectations name saved subjects."""
    problems: list[str] = []
    saved: set[str] = set(BUILTIN_VARS)
    for i, step in enumerate(data["steps"]):
        kind = _step_kind(step)
        used = _references({k: v for k, v in step.items() if k != "note"})
        if kind == "call" and "." in step["call"]:
            used.add(step["call"].split(".", 1)[0])
        if kind == "wait":
            used.add(step["wait"]["subject"])
        for name in sorted(used - saved):
            problems.append(f"steps/{i}: uses {name!r} before any step saves it")
        if kind == "call" and "save" in step:
            saved.add(step["save"])
        if kind == "http":
            saved.update(step.get("save", {}))
        if kind == "sweep":
            sweep = step["sweep"]
            saved.update(f"{sweep['save']}_{k}" for k in range(sweep["count"]))
    for name in data["expect"]["subjects"]:
        if name not in saved:
            problems.append(f"expect/subjects/{name}: no step saves {name!r}")
    for i, item in enumerate(data.get("contrast", [])):
        if item["subject"] not in saved:
            problems.append(f"contrast/{i}/subject: no step saves {item['subject']!r}")
    problems += _log_checks(data)
    for name, part in (("log_span_s", "expect"), ("run_s", "expect"), ("bill", "expect")):
        for subject, want in data["expect"]["subjects"].items():
            if name in want and want[name][0] > want[name][1]:
                problems.append(f"{part}/subjects/{subject}/{name}: low end above high end")
    return problems


def _log_checks(data: dict[str, Any]) -> list[str]:
    """A model's log template exists and its phases are the model's, in any GPU variant."""
    problems: list[str] = []
    for i, model in enumerate(data.get("runtime_models", [])):
        if "log" not in model:
            continue
        name = model["log"]["template"]
        if name not in script_templates.names():
            problems.append(
                f"runtime_models/{i}/log/template: no template {name!r}; known: "
                + ", ".join(script_templates.names())
            )
            continue
        tpl = script_templates.template(name)
        params = [model["log"].get("params", {})] + [
            v.get("params", {}) for v in model.get("by_gpu_model", {}).values()
        ]
        for given in params:
            for key in sorted(set(given) - set(tpl["params"]) - {"values"}):
                problems.append(
                    f"runtime_models/{i}/log/params/{key}: template {name} has no such parameter"
                )
            for key in sorted(set(given.get("values", {})) - set(tpl["values"])):
                problems.append(
                    f"runtime_models/{i}/log/params/values/{key}: template {name} has no such value"
                )
        want = script_templates.phase_names(name)
        variants = {"phases": model["phases"]} | {
            f"by_gpu_model/{gpu}/phases": v["phases"]
            for gpu, v in model.get("by_gpu_model", {}).items()
        }
        for where, phases in variants.items():
            if sorted(phases) != sorted(want):
                problems.append(
                    f"runtime_models/{i}/{where}: template {name} has the phases "
                    f"{', '.join(want)}, not {', '.join(phases)}"
                )
    return problems


def check(data: Any, source: str) -> dict[str, Any]:
    """``data`` if it is a valid scenario, else :class:`ScenarioError` naming every problem."""
    problems = []
    for e in sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = list(e.absolute_path)
        if len(path) == 2 and path[0] == "steps" and e.validator == "oneOf":
            problems.append(_step_problem(path[1], e.instance))
        else:
            problems.append(f"{_where(path)}: {e.message}")
    if not problems:
        problems = _cross_checks(data)
    if problems:
        raise ScenarioError(source, problems)
    return data
