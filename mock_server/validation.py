"""A small declarative body validator that answers like FastAPI/pydantic v2 (422, all errors)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_server.errors import validation_errors

TYPE_NAMES = {
    "string": ("string_type", "Input should be a valid string"),
    "integer": ("int_type", "Input should be a valid integer"),
    "number": ("float_type", "Input should be a valid number"),
    "boolean": ("bool_type", "Input should be a valid boolean"),
    "object": ("dict_type", "Input should be a valid dictionary"),
    "array": ("list_type", "Input should be a valid list"),
}


@dataclass(frozen=True)
class Field:
    """One body property: JSON type, whether required or nullable, enum, integer bounds."""

    type: str
    required: bool = False
    nullable: bool = False
    enum: tuple[Any, ...] | None = None
    gt: int | None = None
    ge: int | None = None
    le: int | None = None
    or_default: bool = False  # also accepts the literal string "default"
    items: str | None = None  # element type of an array


def _type_ok(value: Any, type_: str) -> bool:
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_ == "boolean":
        return isinstance(value, bool)
    if type_ == "object":
        return isinstance(value, dict)
    if type_ == "array":
        return isinstance(value, list)
    raise ValueError(type_)


def _check(name: str, value: Any, f: Field, loc: list[Any]) -> list[dict[str, Any]]:
    here = [*loc, name]
    if value is None:
        if f.nullable:
            return []
        kind, msg = TYPE_NAMES[f.type]
        return [{"type": kind, "loc": here, "msg": msg, "input": None}]
    if f.or_default and value == "default":
        return []
    if not _type_ok(value, f.type):
        kind, msg = TYPE_NAMES[f.type]
        return [{"type": kind, "loc": here, "msg": msg, "input": value}]
    if f.enum is not None and value not in f.enum:
        choices = ", ".join(f"'{c}'" for c in f.enum[:-1]) + f" or '{f.enum[-1]}'"
        return [
            {
                "type": "enum",
                "loc": here,
                "msg": f"Input should be {choices}",
                "input": value,
                "ctx": {"expected": choices},
            }
        ]
    for bound, op, kind, word in (
        (f.gt, lambda a, b: a > b, "greater_than", "greater than"),
        (f.ge, lambda a, b: a >= b, "greater_than_equal", "greater than or equal to"),
        (f.le, lambda a, b: a <= b, "less_than_equal", "less than or equal to"),
    ):
        if bound is not None and not op(value, bound):
            return [
                {
                    "type": kind,
                    "loc": here,
                    "msg": f"Input should be {word} {bound}",
                    "input": value,
                }
            ]
    if f.items and f.type == "array":
        errors = []
        for i, item in enumerate(value):
            if not _type_ok(item, f.items):
                kind, msg = TYPE_NAMES[f.items]
                errors.append({"type": kind, "loc": [*here, i], "msg": msg, "input": item})
        return errors
    return []


def validate(
    body: dict[str, Any],
    fields: dict[str, Field],
    *,
    forbid_extra: bool = True,
    loc: tuple[Any, ...] = ("body",),
) -> None:
    """Raise one 422 listing every problem of ``body`` against ``fields``."""
    errors: list[dict[str, Any]] = []
    for name, f in fields.items():
        if name not in body:
            if f.required:
                errors.append(
                    {"type": "missing", "loc": [*loc, name], "msg": "Field required", "input": body}
                )
            continue
        errors += _check(name, body[name], f, list(loc))
    if forbid_extra:
        errors += [
            {
                "type": "extra_forbidden",
                "loc": [*loc, name],
                "msg": "Extra inputs are not permitted",
                "input": body[name],
            }
            for name in body
            if name not in fields
        ]
    if errors:
        raise validation_errors(errors)
