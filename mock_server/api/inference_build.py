"""Serving-image builds (``inference/build/v1`` and ``v2``): an image built from a model directory,
a serving script and a requirements file in S3, as a kaniko build job.

The build is the same engine process as ``build-image`` (:mod:`simulator.builds`): its status and
logs move with virtual time, and ``build-image/jobs/{job_name}`` and ``…/logs`` show it too (the
walk-through's ``service/jobs`` views, absent from the spec). This module keeps the image names
a workspace gave its builds (an area store: names are the API's, the build is the engine's).

The mock has no object storage, so the requirements file's text is unknown: a build given a
``requirements_path`` installs the serving stack the platform documents for serving scripts
(KServe 0.9) in its place [G]; without one, pip has nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mock_server import routing
from mock_server.api.build_image import image_allowed
from mock_server.errors import ApiError, detail_error, json_response, validation_errors
from mock_server.models.inference import CreateImage
from mock_server.state import state, workspace
from simulator.builds import ACTIVE, CANCELLED, FAILED, REGISTRY, SUCCEEDED, Build
from simulator.logs import format_ts

DEFAULT_BASE_IMAGE = f"{REGISTRY}/aicloud-base-images/py3.10-torch2.1.2:0.0.40"
SERVING_REQUIREMENTS = "kserve==0.9.0\n"  # stands in for the file in S3 [G]
KANIKO = "gcr.io/kaniko-project/executor:v1.9.1"
AREA = "inference_images"


@dataclass(frozen=True)
class Image:
    """A named serving image and the build job that makes it."""

    name: str
    job_name: str
    base_image: str
    artifacts_directory: str
    run_script: str


def _images() -> dict[str, Image]:
    """The current workspace's images by name."""
    return state().area(AREA, dict).setdefault(workspace().id, {})


def _build(image: Image) -> Build:
    build = state().world.get_build(workspace().id, image.job_name)
    assert build is not None  # an image's build lives as long as the world does
    return build


def _value_error(field: str, msg: str, value: Any) -> ApiError:
    return validation_errors(
        [
            {
                "type": "value_error",
                "loc": ["body", field],
                "msg": f"Value error, {msg}",
                "input": value,
            }
        ]
    )


def _start() -> tuple[Image, Build]:
    """Check the body and start the build (the one create of v1 and v2)."""
    body: CreateImage = routing.body()
    ws, images = workspace(), _images()
    base = body.base_image or DEFAULT_BASE_IMAGE
    if not image_allowed(base, ws.id):
        msg = f"The image='{base}' does not exist."
        raise _value_error("base_image", msg, base)
    name = body.name or f"inference-image-{len(images) + 1:010d}"
    if name in images:
        raise _value_error("name", f"An image named {name!r} already exists", name)
    requirements = SERVING_REQUIREMENTS if body.requirements_path else ""
    build = state().world.start_build(ws.id, base, requirements, image=name)
    image = Image(name, build.name, base, body.artifacts_directory, body.run_script)
    images[name] = image
    return image, build


def _lookup(name: str) -> Image:
    image = _images().get(name)
    if image is None:
        raise detail_error(404, f"Image {name} not found")
    return image


def _forget(name: str) -> tuple[Image, Build]:
    """Delete an image: its build stops if it has not finished, its name is free again."""
    image = _lookup(name)
    build = state().world.cancel_build(workspace().id, image.job_name)
    assert build is not None
    del _images()[name]
    return image, build


def _job_status(build: Build) -> dict[str, Any]:
    """The Kubernetes Job's status (camelCase, as ``kubectl get job -o json``)."""
    out: dict[str, Any] = {"phase": build.status}
    if build.status in ACTIVE:
        out["active"] = 1
    if build.started_at is not None:
        out["startTime"] = format_ts(int(build.started_at))
    if build.status == SUCCEEDED:
        out["succeeded"] = 1
        out["completionTime"] = format_ts(int(build.finished_at or build.created_at))
    if build.status in (FAILED, CANCELLED):
        out["failed"] = 1
    if build.status not in ACTIVE:
        kind = "Complete" if build.status == SUCCEEDED else "Failed"
        out["conditions"] = [
            {
                "type": kind,
                "status": "True",
                "reason": {FAILED: "BackoffLimitExceeded", CANCELLED: "Cancelled"}.get(
                    build.status, ""
                ),
                "lastTransitionTime": format_ts(int(build.finished_at or build.created_at)),
            }
        ]
    return out


def job_manifest(image: Image, build: Build) -> dict[str, Any]:
    """The build job as a Kubernetes Job manifest (``K8SJobManifestShortPreview``)."""
    return {
        "metadata": {
            "name": build.name,
            "namespace": workspace().namespace,
            "creationTimestamp": format_ts(int(build.created_at)),
            "labels": {"image-name": image.name},
        },
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "kaniko",
                            "image": KANIKO,
                            "args": [
                                f"--context=s3://{image.artifacts_directory}",
                                f"--destination={build.destination}",
                                f"--build-arg=RUN_SCRIPT={image.run_script}",
                                f"--build-arg=BASE_IMAGE={image.base_image}",
                            ],
                        }
                    ],
                }
            },
        },
        "status": _job_status(build),
    }


def _summary(image: Image, build: Build) -> dict[str, Any]:
    """An image as v1 shows it: name, pushed image, build job and its status."""
    return {
        "name": image.name,
        "image": build.destination,
        "job_name": build.name,
        "status": build.status,
        "created_at": format_ts(int(build.created_at)),
    }


def _all() -> list[tuple[Image, Build]]:
    pairs = [(image, _build(image)) for image in _images().values()]
    return sorted(pairs, key=lambda p: (p[1].created_at, p[1].name))


# ---- v1 ---------------------------------------------------------------------------------------
def create_v1() -> Any:
    image, build = _start()
    return json_response({"name": image.name, "image": build.destination, "job_name": build.name})


def list_v1() -> Any:
    return json_response({"images": [_summary(i, b) for i, b in _all()]})


def get_v1(image_name: str) -> Any:
    image = _lookup(image_name)
    return json_response(_summary(image, _build(image)))


def delete_v1(name: str) -> Any:
    image, build = _forget(name)
    return json_response({**_summary(image, build), "deleted": True})


# ---- v2 ---------------------------------------------------------------------------------------
def create_v2() -> Any:
    image, build = _start()
    return json_response({"name": image.name, "image": build.destination})


def list_v2() -> Any:
    return json_response([job_manifest(i, b) for i, b in _all()])


def get_v2(image_name: str) -> Any:
    image = _lookup(image_name)
    return json_response(job_manifest(image, _build(image)))


def delete_v2(image_name: str) -> Any:
    return json_response(job_manifest(*_forget(image_name)))
