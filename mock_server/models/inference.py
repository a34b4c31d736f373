"""Bodies of the inference operations (``CreateInferenceServiceRequestV2``,
``PatchInferenceServiceRequestV2``, ``CreateImageRequestV1``/``V2`` of spec v2.8.1).

The platform's models ignore unknown keys. Replica bounds the engine could never honour
(``min > max``, ``max`` 0) are refused here, so a create or patch answers FastAPI's 422 — the
only error the spec documents for them — and changes nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from pydantic import ConfigDict, Field, create_model, model_validator

from mock_server.models import OpenBody, choices
from simulator.config import SimConfig

IMAGE_NAME = r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$"  # the spec's pattern for ``name``


class Replicas(OpenBody):
    """``InferenceReplicas``: min and max pods, 0..100 each, min not above max, max at least 1."""

    min: Annotated[int, Field(ge=0, le=100)] = 0
    max: Annotated[int, Field(ge=0, le=100)] = 3

    @model_validator(mode="after")
    def _ordered(self) -> Replicas:
        if self.max < 1:
            raise ValueError("replicas.max must be at least 1")
        if self.min > self.max:
            raise ValueError(f"replicas.min={self.min} is greater than replicas.max={self.max}")
        return self


class Resources(OpenBody):
    """``InferenceResource`` (deprecated: ``instance_type`` decides)."""

    cpu: int = 3
    memory: int = 94
    gpu: int = 1


class InferenceFields(OpenBody):
    alias: str | None = None
    description: str | None = None


@lru_cache(maxsize=8)
def _create(regions: tuple[str, ...]) -> Any:
    return create_model(
        "CreateInferenceServiceRequestV2",
        __base__=InferenceFields,
        image=(str, ...),
        resources=(Resources, None),
        replicas=(Replicas, Replicas()),
        region=(choices("InferenceRegion", regions), ...),
        instance_type=(str, ...),
    )


@lru_cache(maxsize=8)
def _patch(regions: tuple[str, ...]) -> Any:
    return create_model(
        "PatchInferenceServiceRequestV2",
        __base__=InferenceFields,
        region=(choices("InferenceRegion", regions), ...),
        image=(str | None, None),
        replicas=(Replicas | None, None),
        instance_type=(str | None, None),
    )


def create_inference(config: SimConfig) -> type[OpenBody]:
    return _create(tuple(config.catalog.inference_regions))


def patch_inference(config: SimConfig) -> type[OpenBody]:
    return _patch(tuple(config.catalog.inference_regions))


class CreateImage(OpenBody):
    """``CreateImageRequestV1``/``V2`` (the same fields): a serving image built from a model
    directory, a serving script and a requirements file in S3."""

    model_config = ConfigDict(extra="ignore", strict=True, regex_engine="python-re")  # lookarounds
    name: Annotated[str, Field(pattern=IMAGE_NAME)] | None = None
    base_image: str | None = None
    artifacts_directory: str
    run_script: str = "kf_serving.py"
    requirements_path: str = ""
    s3_request: dict[str, Any] | None = None
    S3_ENDPOINT: str | None = None
    AWS_SECRET_ACCESS_KEY: str | None = None
    AWS_ACCESS_KEY_ID: str | None = None

    @model_validator(mode="after")
    def _s3_access(self) -> CreateImage:
        keys = (self.S3_ENDPOINT, self.AWS_SECRET_ACCESS_KEY, self.AWS_ACCESS_KEY_ID)
        if self.s3_request is None and not all(keys):
            raise ValueError(
                "s3_request is required unless S3_ENDPOINT, AWS_SECRET_ACCESS_KEY and "
                "AWS_ACCESS_KEY_ID are given"
            )
        return self
