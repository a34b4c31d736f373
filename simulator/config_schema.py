"""The shape of the engine configuration (``data/defaults.yaml`` plus ``--config``), as pydantic
models: a misspelt or unknown key, a wrong type or a negative size is refused when the config is
loaded, with the key's path, instead of being ignored until a request trips over it.

Models are strict (YAML gives real types, so ``"8"`` for a count is refused, not coerced) and
forbid unknown keys. The engine keeps reading the validated mappings; these models only judge.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

NonNegInt = Annotated[int, Field(ge=0)]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Range = Annotated[list[NonNeg], Field(min_length=2, max_length=2)]  # [low, high] seconds


def _daily(values: list[float]) -> list[float]:
    if len(values) not in (0, 24):
        raise ValueError(f"a daily profile has 24 hourly values (or none), not {len(values)}")
    return values


DailyRps = Annotated[list[NonNeg], AfterValidator(_daily)]  # [] or 24 hourly values (UTC hours)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class NodeGroup(Strict):
    prefix: str | None = None  # default: the pool name
    count: NonNegInt = 1
    gpus: NonNegInt = 0
    cpus: NonNeg = 0
    memory_gi: NonNeg = 0


class PoolSpec(Strict):
    name: str
    serves: list[Literal["job", "notebook", "inference"]] = ["job"]
    resource: Literal["gpu", "cpu"] = "gpu"
    regions: list[str] | None = None
    gpu_models: list[str] | None = None
    nodes: list[NodeGroup]


class Limits(Strict):
    max_job_gpus: NonNegInt
    max_notebook_gpus: NonNegInt


class Scheduler(Strict):
    backfill: bool = False
    placement: Literal["best_fit", "count"] = "best_fit"


class Timings(Strict):
    image_pull_s: Range
    banner_s: NonNeg
    worker_wait_s: NonNeg
    elastic_rendezvous_s: NonNeg
    bad_script_fail_after_placement_s: NonNeg
    bad_script_fail_s: NonNeg
    notebook_start_s: Range
    notebook_pause_s: NonNeg


class Inference(Strict):
    image_pull_s: Range
    model_start_s: Range
    warm_latency_s: Range
    target_rps_per_replica: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    rps_window_s: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    scale_up_delay_s: NonNeg
    scale_down_delay_s: NonNeg
    scale_to_zero_after_s: NonNeg
    async_processing_s: Range
    default_daily_rps: DailyRps = []
    pools: list[PoolSpec] = []


TARIFFS = ("per_second", "per_minute_ceil")


class Billing(Strict):
    tariff: Literal["per_second", "per_minute_ceil"]


class RuntimeFamily(Strict):
    median_s: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    sigma: NonNeg
    failure_p: Probability


class Runtime(Strict):
    gpu: RuntimeFamily
    cpu: RuntimeFamily
    elastic: RuntimeFamily


class NodeFailures(Strict):
    rate_per_node_hour: Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)] = 0.0
    repair_s: Annotated[float, Field(ge=0, le=30 * 86400, allow_inf_nan=False)] = 600.0


class Preemption(Strict):
    enabled: bool = False
    notebooks: bool = False


class SlowPulls(Strict):
    probability: Probability = 0.0
    factor: Annotated[float, Field(ge=1, le=1000, allow_inf_nan=False)] = 10.0


class Faults(Strict):
    """Engine faults; ``rules`` are the mock server's API fault rules (it validates them)."""

    node_failures: NodeFailures = NodeFailures()
    preemption: Preemption = Preemption()
    slow_pulls: SlowPulls = SlowPulls()
    rules: list[dict[str, Any]] = []


class EngineConfig(Strict):
    """The whole file. ``server``, ``auth`` and ``rate_limits`` belong to the mock server, which
    reads them; ``catalog`` and ``prices`` are inline mappings or paths to YAML files."""

    pools: list[PoolSpec]
    limits: Limits
    scheduler: Scheduler
    timings: Timings
    billing: Billing
    inference: Inference
    runtime: Runtime
    quotas: dict[str, Any] | None = None  # checked by simulator.quotas, as set_quotas is
    faults: Faults | None = None
    catalog: str | dict[str, Any] | None = None
    prices: str | dict[str, Any] | None = None
    server: dict[str, Any] | None = None
    auth: dict[str, Any] | None = None
    rate_limits: dict[str, Any] | None = None


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names every offending key's path."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("invalid configuration: " + "; ".join(f"{p}: {m}" for p, m in problems))


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the key at ``loc`` (list indexes skipped), if one does."""
    model: type[BaseModel] = EngineConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        inner = _strict_model(field.annotation)
        if inner is None:
            return None
        model = inner
    return model


def _strict_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, Strict):
        return annotation
    for arg in get_args(annotation):  # list[X], X | None
        found = _strict_model(arg)
        if found is not None:
            return found
    return None


def _unknown(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc)
    known = list(model.model_fields) if model is not None else []
    near = difflib.get_close_matches(str(loc[-1]), known, n=1)
    if near:
        return f"unknown key (did you mean {near[0]!r}?)"
    return f"unknown key; known: {', '.join(known)}" if known else "unknown key"


def describe(exc: ValidationError, prefix: tuple[Any, ...] = ()) -> list[tuple[str, str]]:
    """(dotted key path, message) per problem pydantic found."""
    out = []
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        path = ".".join(str(p) for p in loc) or "(top level)"
        msg = _unknown(tuple(err["loc"])) if err["type"] == "extra_forbidden" else err["msg"]
        out.append((path, msg))
    return out


def check(raw: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` unless ``raw`` has the configuration's shape."""
    try:
        EngineConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe(exc)) from None
