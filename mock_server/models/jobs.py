"""Bodies of the training-job operations (``RunJobRequest`` and friends of spec v2.8.1)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema, create_model

from mock_server.models import Body, IntOrDefault, choices, per_config
from simulator.config import SimConfig
from simulator.jobs import JOB_TYPES
from simulator.scheduler import PRIORITY_CLASSES

JobType = choices("JobType", tuple(t for t in JOB_TYPES if t not in ("cce", "spark")))
PriorityClass = choices("PriorityClass", tuple(PRIORITY_CLASSES[::-1]))


ShmSizeClass = choices("ShmSizeClass", ("small", "medium", "large"))
HealthAction = choices("HealthAction", ("delete", "restart"))


class HealthParams(Body):
    log_period: Annotated[int, Field(ge=20, le=720)]
    action: HealthAction | None = None
    sub_actions: list[str] = Field(default_factory=list)


class RunJobFields(Body):
    """``RunJobRequest`` without ``region`` and ``instance_type``, whose choices are the
    configuration's (see :func:`run_job`)."""

    script: str
    base_image: str
    tmp_storage: str | None = None
    type: JobType = None  # type: ignore[assignment]
    n_workers: Annotated[int, Field(gt=0)] = 1
    processes_per_worker: IntOrDefault = "default"
    job_desc: str | None = None
    internet: bool | None = None
    conda_env: str | None = None
    max_retry: int | None = None
    priority_class: PriorityClass | None = None
    queue_name: str | None = None
    allocation_name: str | None = None
    checkpoint_dir: str | None = None
    logs_dir: str | None = None
    health_params: HealthParams | None = None
    shm_size_class: ShmSizeClass = None  # type: ignore[assignment]
    flags: dict[str, Any] = Field(default_factory=dict)
    env_variables: dict[str, Any] = Field(default_factory=dict)
    pytorch_use_env: bool = False
    elastic_min_workers: IntOrDefault = "default"
    elastic_max_workers: IntOrDefault = "default"
    elastic_max_restarts: int = 0
    cuda11: bool = False
    forbid_s3: bool = False
    forbid_internet: bool = False
    preflight_check: bool | None = None
    stop_timer: Annotated[int, Field(ge=0)] = 0
    in_communal_cluster: bool = False
    include_nodes: list[str] = Field(default_factory=list)
    exclude_nodes: list[str] = Field(default_factory=list)


@lru_cache(maxsize=8)
def _run_job(regions: tuple[str, ...], instance_types: tuple[str, ...]) -> type[Body]:
    instance_type = Annotated[str, WithJsonSchema({"type": "string", "enum": list(instance_types)})]
    return create_model(
        "RunJobRequest",
        __base__=RunJobFields,
        instance_type=(instance_type, ...),
        region=(choices("Region", regions), None),
    )


@per_config
def run_job(config: SimConfig) -> type[Body]:
    """``RunJobRequest`` for this configuration: its regions; any catalogued instance type
    (whether the region has it is the engine's check, a 400)."""
    regions = config.catalog.regions
    types = sorted({k for r in regions.values() for k in r.instance_types})
    return _run_job(tuple(regions), tuple(types))


class RestartJob(Body):
    job_name: str
