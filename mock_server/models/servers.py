"""Bodies and queries of the Jupyter Server and TensorBoard operations (``CreateNotebookPayload``,
``CreateTensorboardPayloadV2``, ``ModifyNotebookV2Request``, ``ResumeNotebookPayload``,
``AutoShutdownV2Config`` of spec v2.8.1, the lists' filters and the users' region)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import Field, create_model

from mock_server.models import Body, OpenBody, choices
from mock_server.models.queries import Query
from simulator.config import SimConfig

IMAGE_SOURCES = ("datahub", "custom")
V1_IMAGE_SOURCES = (*IMAGE_SOURCES, "default")  # the 2023 public-API notebook's type


AccessRule = choices("AccessRule", ("ro", "rw"))
CredentialsSource = choices(
    "CredentialsSource", ("secret-manager", "iam-product-sa", "not-enabled")
)
AccessMode = choices("AccessMode", ("shared", "multiuser"))
Metric = choices("Metric", ("GPU", "CPU"))
Application = choices("Application", ("tensorboard",))
Aggregation = choices("MetricAggregation", ("min", "max", "avg", "sum"))


class S3Bucket(OpenBody):
    bucket_name: str
    access_rule: AccessRule


class S3Credentials(OpenBody):
    s3_credentials_source: CredentialsSource | None = None
    secret_manager_secret_id: str | None = None
    s3_tenant_id: str | None = None


class ByTimer(OpenBody):
    shutdown_in: int
    is_enabled: bool


class ByLoad(OpenBody):
    metric: Metric
    evaluation_period: int
    threshold: float
    shutdown_delay: int
    is_enabled: bool


class LoadRule(ByLoad):
    """``AutoShutdownConfig``: v1's workspace rule, the ``by_load`` of v2's."""

    metric_aggregation: Aggregation | None = None


class BySchedule(OpenBody):
    shutdown_at: str
    is_enabled: bool


class AutoShutdown(OpenBody):
    """``AutoShutdownV2Config``: each rule optional or null; set ones are merged by key."""

    by_timer: ByTimer | None = None
    by_load: ByLoad | None = None
    by_schedule: BySchedule | None = None


class ModifyServerV1(Body):
    """``ModifyNotebookPayload``: the pause schedule only."""

    pause_at: str | None = None
    postponed_pause_enabled: bool | None = False


class ModifyServer(Body):
    autoshutdown_config: AutoShutdown | None = None
    description: str | None = None
    s3_credentials: S3Credentials | None = None
    s3_buckets: list[S3Bucket] = Field(default_factory=list)


class UserIds(OpenBody):
    """``NotebookUserIdsPayload``: whom to give access to, or take it from."""

    user_ids: list[str] = Field(min_length=1)


class CreateServerFields(Body):
    """What creating a Jupyter Server or a TensorBoard takes besides the configuration's
    regions and the image sources of the operation's version."""

    name: str
    instance_type: str
    tmp_storage: str | None = None
    allocation_name: str | None = None
    queue_name: str | None = None
    description: str | None = None
    pause_at: str | None = None
    postponed_pause_enabled: bool = False
    s3_buckets: list[S3Bucket] = Field(default_factory=list)
    s3_credentials: S3Credentials = None  # type: ignore[assignment]
    access_mode: AccessMode = "shared"  # type: ignore[valid-type]
    all_workspace_users: bool | None = Field(None, alias="all-workspace-users")
    user_ids: list[str] | None = None


class TensorboardFields(CreateServerFields):
    application: Application | None = None
    logdir: list[str]
    tensorboard_params: dict[str, str] | None = None


class TensorboardFieldsV1(CreateServerFields):
    """``CreateTensorboardPayload``: one log directory, the parameters as one string."""

    application: Application | None = None
    logdir: str
    tensorboard_params: str | None = None


@lru_cache(maxsize=16)
def _create(name: str, base: type[Body], regions: tuple[str, ...], sources: tuple[str, ...]) -> Any:
    image = create_model(
        f"{name}Image",
        __base__=OpenBody,
        name=(str, ...),
        tag=(str, ...),
        type=(choices(f"{name}ImageType", sources), ...),
    )
    return create_model(
        name, __base__=base, image=(image, ...), region=(choices("Region", regions), None)
    )


def create_notebook(config: SimConfig) -> type[Body]:
    return _create(
        "CreateNotebookPayload", CreateServerFields, tuple(config.catalog.regions), IMAGE_SOURCES
    )


def create_notebook_v1(config: SimConfig) -> type[Body]:
    """The older create: image type ``default`` accepted as well."""
    regions = tuple(config.catalog.regions)
    return _create("CreateNotebookPayloadV1", CreateServerFields, regions, V1_IMAGE_SOURCES)


def create_tensorboard(config: SimConfig) -> type[Body]:
    regions = tuple(config.catalog.regions)
    return _create("CreateTensorboardPayloadV2", TensorboardFields, regions, IMAGE_SOURCES)


def create_tensorboard_v1(config: SimConfig) -> type[Body]:
    regions = tuple(config.catalog.regions)
    return _create("CreateTensorboardPayload", TensorboardFieldsV1, regions, IMAGE_SOURCES)


@lru_cache(maxsize=8)
def _region_only(regions: tuple[str, ...]) -> Any:
    return create_model(
        "RegionPayload", __base__=OpenBody, region=(choices("Region", regions), None)
    )


def region_only(config: SimConfig) -> type[OpenBody]:
    """``DeleteNotebookPayload`` and ``PauseNotebookPayload``: a region, the spec's default."""
    return _region_only(tuple(config.catalog.regions))


@lru_cache(maxsize=8)
def _resume(regions: tuple[str, ...]) -> Any:
    return create_model(
        "ResumeNotebookPayload",
        __base__=OpenBody,
        region=(choices("Region", regions), None),
        instance_type=(str, None),
    )


def resume(config: SimConfig) -> type[OpenBody]:
    """``ResumeNotebookPayload``: region and instance type, both with the spec's defaults."""
    return _resume(tuple(config.catalog.regions))


OrderByField = choices("OrderByField", ("name", "creationTimestamp"))
NotebookType = choices("NotebookType", ("Spark", "Default"))


class ServerListQuery(Query):
    """A list of servers: ``status`` and ``access_mode`` are comma-separated sets (the spec
    lists ``access_mode`` for notebooks only; TensorBoards take it too)."""

    order_by: OrderByField = OrderByField("creationTimestamp")
    desc: bool = False
    limit: Annotated[int | None, Field(ge=1)] = None
    offset: Annotated[int, Field(ge=0)] = 0
    search: Annotated[str, Field(description="part of the name, any case")] = ""
    status: Annotated[str | None, Field(description="comma-separated statuses")] = None
    access_mode: Annotated[str | None, Field(description="comma-separated access modes")] = None


class NotebookListQuery(ServerListQuery):
    """A list of Jupyter Servers (a Spark server is never among them)."""

    notebook_type: NotebookType | None = None


@lru_cache(maxsize=8)
def _users_region(regions: tuple[str, ...]) -> Any:
    return create_model(
        "NotebookUsersQuery", __base__=Query, region=(choices("Region", regions), ...)
    )


def users_region(config: SimConfig) -> type[Query]:
    """``region`` of a server's users (list, share, revoke): where the named server runs."""
    return _users_region(tuple(config.catalog.regions))
