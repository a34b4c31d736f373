"""Request models of the data-transfer area (connectors, rules, runs, the deprecated copies).

Named as in the spec. The formats pydantic has no type for keep the platform's texts: a UUID or a
datetime stays the text the user sent (rules store what they were given), a cluster is one of
``CLUSTERS`` or a pair ``a->b``, a rule's source is a path or a non-empty list of them. A
connector's parameters depend on its type: checked against that type's own model, errors under
``parameters``.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    RootModel,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from mock_server.api.dts_catalog import (
    CLUSTERS,
    CONNECTOR_TYPES,
    CUSTOM_TYPES,
    NFS_CLUSTERS,
    STRATEGIES,
    TARGET_TYPES,
    param_spec,
    parameters_schema,
)
from mock_server.models import OpenBody, Uuid, choices
from mock_server.models.queries import Query
from mock_server.params import parse_datetime

TIME_PATTERN = r"^([01]?\d|2[0-3]):[0-5]\d$"
Strategy = choices("Strategy", STRATEGIES)
ConnectorType = choices("ConnectorType", CONNECTOR_TYPES)
CustomType = choices("CustomType", CUSTOM_TYPES)
TargetType = choices("TargetType", TARGET_TYPES)
NfsRegion = choices("NfsRegion", tuple(NFS_CLUSTERS))


def _when(value: str) -> str:
    try:
        parse_datetime(value)
    except ValueError:
        raise PydanticCustomError("datetime_parsing", "Input should be a valid datetime") from None
    return value


CLUSTER_MSG = (
    f"Input should be one of {', '.join(CLUSTERS)} or a pair of two of them like 'sr006->sr005'"
)


def _cluster(value: str) -> str:
    ends = value.split("->")
    if len(ends) <= 2 and len(set(ends)) == len(ends) and all(e in CLUSTERS for e in ends):
        return value
    raise PydanticCustomError("enum", CLUSTER_MSG)


def _source(value: Any) -> str | list[str]:
    if isinstance(value, str) or (
        isinstance(value, list) and value and all(isinstance(s, str) for s in value)
    ):
        return value
    raise PydanticCustomError(
        "union_type", "Input should be a valid string or a non-empty list of strings"
    )


STRING = {"type": "string"}
When = Annotated[
    str,
    AfterValidator(_when),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339, or 'YYYY-MM-DD HH:MM:SS' (UTC when no offset)",
        }
    ),
]
Cluster = Annotated[
    str,
    AfterValidator(_cluster),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": list(CLUSTERS)},
                {"type": "string", "pattern": r"^[a-z0-9.-]+->[a-z0-9.-]+$"},
            ]
        }
    ),
]
Source = Annotated[
    str | list[str],
    PlainValidator(_source),
    WithJsonSchema({"anyOf": [STRING, {"type": "array", "items": STRING, "minItems": 1}]}),
]


def _no_default(schema: dict[str, Any]) -> None:
    """A field that may be absent but not null: no ``default: null`` in its schema."""
    schema.pop("default", None)


# ---- transfer rules ---------------------------------------------------------------------------
class CronViewModel(OpenBody):
    """When a rule runs; ``start_at`` defaults to the time of the request."""

    start_at: When = Field(None, json_schema_extra=_no_default)  # absent: now; null: refused
    time: Annotated[str, Field(pattern=TIME_PATTERN)] | None = None
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] | None = None
    monthdays: list[Annotated[int, Field(ge=1, le=31)]] | None = None
    period: Annotated[int | float, Field(ge=0)] | None = None


class TransferQuery(OpenBody):
    destination: str
    source: Source


class Rule(OpenBody):
    """What every version's rule body has."""

    cluster_name: Cluster
    connector_id: Uuid
    destination_connector_id: Uuid
    name: str
    description: str | None = None
    strategy: Strategy  # type: ignore[valid-type]
    crontab: CronViewModel | None = None
    favorite: bool
    query: TransferQuery

    def rule(self) -> dict[str, Any]:
        """The rule as the store keeps it: what was sent, without the schedule."""
        return self.model_dump(mode="json", exclude_unset=True, exclude={"crontab", "legacy"})


class TransferInputViewModel(Rule):
    """v2's rule: its connectors' types are the connectors' own."""

    legacy: bool | None = None


class TransferInputViewModelV2(TransferInputViewModel):
    """v3 and v4's rule."""

    connector_type: ConnectorType  # type: ignore[valid-type]
    destination_connector_type: TargetType  # type: ignore[valid-type]


class TransferInputViewModelV5(Rule):
    """v5's rule refuses keys it does not know."""

    model_config = ConfigDict(extra="forbid", strict=True)

    connector_type: ConnectorType  # type: ignore[valid-type]
    destination_connector_type: TargetType  # type: ignore[valid-type]


class SwitchInputViewModel(OpenBody):
    active: bool


class CancelInputViewModel(OpenBody):
    transfer_id: Uuid
    execution_date: When


# ---- connectors -------------------------------------------------------------------------------
@cache
def parameters_model(source_type: str) -> type[BaseModel]:
    """The parameters of a user connector of ``source_type`` (unknown keys ignored)."""
    fields: dict[str, Any] = {
        name: (Annotated[int, Field(gt=0, le=65535)] if name == "port" else str, ...)
        for name in param_spec(source_type)
    }
    return create_model(f"Parameters_{source_type}", __base__=OpenBody, **fields)


def connector_parameters(source_type: str, params: Any) -> dict[str, Any]:
    """``params`` checked against ``source_type``'s parameters: the known keys only."""
    return parameters_model(source_type).model_validate(params).model_dump()


def _as_raised(exc: ValidationError) -> ValidationError:
    """Errors of a nested check, raised from a validator so pydantic prefixes their locs."""
    details = []
    for e in exc.errors(include_url=False):
        detail = InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"])
        if "ctx" in e:
            detail["ctx"] = e["ctx"]
        details.append(detail)
    return ValidationError.from_exception_data(exc.title, details)


PARAMETERS = WithJsonSchema(
    {"anyOf": [parameters_schema("s3custom"), parameters_schema("postgresql")]}
)


class ConnectorInputViewModel(OpenBody):
    """v2's connector; its ``parameters`` are those of its ``source_type``."""

    name: str
    source_type: CustomType  # type: ignore[valid-type]
    favorite: bool = False
    parameters: Annotated[dict[str, Any], PARAMETERS]

    @field_validator("parameters")
    @classmethod
    def _typed(cls, params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        source_type = info.data.get("source_type")
        if source_type is None:  # refused already
            return params
        try:
            return connector_parameters(source_type.value, params)
        except ValidationError as exc:
            raise _as_raised(exc) from None


class ConnectorInputViewModelV3(ConnectorInputViewModel):
    """v3's connector, public to the workspace when it names it."""

    workspace_id: str | None = None


class ConnectorUpdateViewModelV3(OpenBody):
    """``null`` keeps the old value; new parameters are checked against the connector's type."""

    name: str | None
    favorite: bool | None = None
    parameters: Annotated[dict[str, Any], PARAMETERS] | None = None


class FavoriteInputViewModel(OpenBody):
    favorite: bool


class FavoriteHistoryInputViewModel(RootModel[bool]):
    """The body is a JSON boolean itself."""

    model_config = ConfigDict(strict=True)


class RerunInputViewModel(OpenBody):
    history_id: Uuid


# ---- the deprecated copies (client_lib) -------------------------------------------------------
class TransferS3Credentials(OpenBody):
    """The bucket a copy names (unused: the workspace's own bucket is its other end)."""

    endpoint: str
    bucket: str
    access_key_id: str
    security_key: str


class _Copy(OpenBody):
    source_path: str
    destination_path: str
    strategy: Strategy = Strategy("write_all")  # type: ignore[valid-type]


class CopyFromNFSToS3Payload(_Copy):
    from_region: NfsRegion  # type: ignore[valid-type]
    s3_credentials: TransferS3Credentials

    @property
    def region(self) -> str:
        return self.from_region.value


class CopyFromS3ToNFSPayload(_Copy):
    to_region: NfsRegion  # type: ignore[valid-type]
    s3_credentials: TransferS3Credentials

    @property
    def region(self) -> str:
        return self.to_region.value


# ---- query strings ----------------------------------------------------------------------------
class IdsQuery(Query):
    ids: list[Uuid]


class ConnectorsQuery(Query):
    """``page_size`` 0 is everything."""

    page_size: Annotated[int, Field(ge=0)] = 0
    page: Annotated[int, Field(ge=1)] = 1


class HistoryQuery(Query):
    transfer_id: Uuid | None = None
    source_name: str | None = None
    page: Annotated[int, Field(ge=1)] = 1
    page_size: Annotated[int, Field(ge=1)] = 100


class EventsQuery(Query):
    """The events of a rule's runs or of one history entry: one of the two is required."""

    transfer_id: Uuid | None = None
    history_id: Uuid | None = None
    offset: Annotated[int, Field(ge=0)] = 0
    limit: Annotated[int, Field(ge=0)] = 100
    event_type: int | None = None
    event_category: int | None = None
    as_enum_resolved: bool = False

    @model_validator(mode="after")
    def _one_of(self) -> EventsQuery:
        if self.transfer_id is None and self.history_id is None:
            raise ValueError("either transfer_id or history_id should be provided")
        return self
