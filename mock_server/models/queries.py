"""Query-string models of the operations (``Op.query``): parsed from text as FastAPI parses a
query (``"5"`` is the integer 5), unknown keys ignored, enumerations answering pydantic's
``enum`` errors; a list field reads a repeated key (``?ids=a&ids=b``)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, create_model
from pydantic_core import PydanticCustomError

from mock_server.models import choices
from mock_server.params import parse_datetime
from simulator.config import SimConfig


class Query(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _datetime(value: Any) -> datetime:
    try:
        return parse_datetime(value)
    except (TypeError, ValueError, AttributeError):
        raise PydanticCustomError("datetime_parsing", "Input should be a valid datetime") from None


QueryDateTime = Annotated[
    datetime,
    PlainValidator(_datetime),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339, or 'YYYY-MM-DD HH:MM:SS' (UTC when no offset)",
        }
    ),
]


class ClusterType(str, Enum):
    MT = "MT"
    INF = "INF"


class ConfigsQuery(Query):
    cluster_type: ClusterType


class QueuePriority(str, Enum):
    shared_low = "shared-low"
    shared_medium = "shared-medium"
    shared_cluster = "shared-cluster"
    low = "low"
    medium = "medium"
    high = "high"


class PodType(str, Enum):
    Job = "Job"
    Notebook = "Notebook"


class OrderBy(str, Enum):
    """How ``awaiting-launch-resources`` sorts; the empty default keeps launch order."""

    launch = ""
    created_asc = "created_at asc"
    created_desc = "created_at desc"
    gpus_asc_created_asc = "gpus asc, created_at asc"
    gpus_desc_created_asc = "gpus desc, created_at asc"
    gpus_asc_created_desc = "gpus asc, created_at desc"
    gpus_desc_created_desc = "gpus desc, created_at desc"


class AwaitingLaunchQuery(Query):
    priority: QueuePriority
    limit: Annotated[int, Field(ge=1, le=200)]
    offset: Annotated[int, Field(ge=0)]
    type: PodType | None = None
    order_by: OrderBy = OrderBy.launch
    created_at_from: QueryDateTime | None = None
    created_at_to: QueryDateTime | None = None
    gpu_count_min: Annotated[int, Field(ge=0)] = 0
    gpu_count_max: Annotated[int | None, Field(ge=0)] = None
    workspace_ids: list[str] = Field(default_factory=list)
    authors: list[str] = Field(default_factory=list)
    search_by_name: str = ""


class JobListStatus(str, Enum):
    """The statuses ``GET jobs`` filters on (the spec's JobStatus)."""

    Completed = "Completed"
    Completing = "Completing"
    Deleted = "Deleted"
    Failed = "Failed"
    Pending = "Pending"
    Running = "Running"
    Stopped = "Stopped"
    Succeeded = "Succeeded"
    Terminated = "Terminated"
    Terminating = "Terminating"
    Restarting = "Restarting"


class JobsQuery(Query):
    region: Annotated[str, Field(description="the jobs of this region; none when empty")] = ""
    status: list[JobListStatus] = Field(default_factory=list)
    limit: Annotated[int, Field(ge=1)] = 6000
    offset: Annotated[int, Field(ge=0)] = 0
    start_date: QueryDateTime | None = None
    end_date: QueryDateTime | None = None


class JobLogsQuery(Query):
    tail: Annotated[int, Field(ge=0)] = 0
    verbose: bool = True


@lru_cache(maxsize=8)
def _inference_region(regions: tuple[str, ...]) -> type[Query]:
    return create_model(
        "InferenceRegionQuery", __base__=Query, region=(choices("InferenceRegion", regions), ...)
    )


def inference_region(config: SimConfig) -> type[Query]:
    """``region`` of a deployment's get and delete: one of the configured inference regions."""
    return _inference_region(tuple(config.catalog.inference_regions))


class AsyncInferenceQuery(Query):
    """The deployment an async request was made to (status, result, list)."""

    inference_name: str
