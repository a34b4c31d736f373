"""Request models (pydantic v2) of the operations, named as in the official spec.

They validate as FastAPI does on the platform (its 422 body is pydantic's own errors), in
strict mode so a value is never coerced into what the engine then stores (``"5"`` is not an
integer here). Enumerations that depend on the engine configuration (regions) are built per
configuration by a function of it; :func:`mock_server.routing.body_model` resolves either.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

T = TypeVar("T")


class Body(BaseModel):
    """A request body that forbids unknown keys (``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class OpenBody(BaseModel):
    """A request body that ignores unknown keys, as the platform's does."""

    model_config = ConfigDict(extra="ignore", strict=True)


def _int_or_default(value: Any) -> Any:
    if value == "default" or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise PydanticCustomError("int_type", "Input should be a valid integer")


IntOrDefault = Annotated[
    int | str,
    PlainValidator(_int_or_default),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"const": "default"}]}),
]


def _uuid(value: str) -> str:
    try:
        uuid.UUID(value)
    except ValueError:
        raise PydanticCustomError(
            "uuid_parsing", "Input should be a valid UUID, unable to parse string as a UUID"
        ) from None
    return value


Uuid = Annotated[str, AfterValidator(_uuid), WithJsonSchema({"type": "string", "format": "uuid"})]
"""A UUID kept as the text it came as (a path or body id), refused as pydantic refuses one."""


def per_config(build: Callable[[Any], T]) -> Callable[[Any], T]:
    """``build(config)`` once per configuration object (the last few are kept): a model
    depending on the configuration is built once, not on every request."""
    cache: dict[int, tuple[Any, T]] = {}

    def cached(config: Any) -> T:
        hit = cache.get(id(config))
        if hit is None or hit[0] is not config:
            if len(cache) >= 16:
                cache.pop(next(iter(cache)))
            hit = cache[id(config)] = (config, build(config))
        return hit[1]

    return cached


@lru_cache(maxsize=32)
def choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """An enumeration of configured values (regions): pydantic answers ``enum`` errors."""
    return Enum(name, {value: value for value in values}, type=str)  # type: ignore[return-value]
