"""Custom image builds over HTTP: the multipart form in, Kubernetes-style views out.

The builds themselves are engine processes (:mod:`simulator.builds`) reached through the World;
this module only checks the form and shows a build as the platform's build service does.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from mock_server.errors import ApiError, json_response, platform_error, validation_errors
from mock_server.state import state, workspace
from simulator.builds import (
    ACTIVE,
    CANCELLED,
    FAILED,
    PENDING,
    REGISTRY,
    RUNNING,
    SUCCEEDED,
    Build,
)
from simulator.logs import format_ts

BASE_IMAGES = f"{REGISTRY}/aicloud-base-images/"
TEXT = "text/plain; charset=utf-8"
FINAL_CONDITIONS = {
    SUCCEEDED: ("Complete", ""),
    FAILED: ("Failed", "BackoffLimitExceeded"),
    CANCELLED: ("Failed", "Cancelled"),
}
POD_PHASES = {PENDING: "Pending", RUNNING: "Running", SUCCEEDED: "Succeeded", FAILED: "Failed"}


def image_allowed(image: str, ws_id: str) -> bool:
    """Whether a build may start from ``image``: a platform base image or the workspace's own."""
    return image.startswith((BASE_IMAGES, f"{REGISTRY}/{ws_id}/")) and not image.endswith("/")


def _go_duration(seconds: float) -> str:
    """Kubernetes-style age/duration, as Go prints a duration of whole seconds (``2h2m49s``)."""
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m}m{s}s"
    return f"{m}m{s}s" if m else f"{s}s"


def _find(name: str) -> Build | None:
    return state().world.get_build(workspace().id, name)


def _not_found(name: str) -> ApiError:
    return platform_error(500, 500, f"Job={name} not found")


def _pods(build: Build, now: float) -> list[dict[str, Any]]:
    """The build's pod as ``kubectl get pods`` sees it; a cancelled build's pod is gone."""
    status = build.status
    if status == CANCELLED:
        return []
    return [
        {
            "name": build.pod,
            "ready": "1/1" if status == RUNNING else "0/1",
            "status": POD_PHASES[status],
            "restarts": 0,
            "age": _go_duration(now - build.created_at),
        }
    ]


def _conditions(build: Build, now: float) -> list[dict[str, Any]]:
    """The Job's terminal condition, once it has one."""
    condition = FINAL_CONDITIONS.get(build.status)
    if condition is None:
        return []
    kind, reason = condition
    when = build.finished_at or now
    return [
        {
            "type": kind,
            "status": "True",
            "reason": reason,
            "last_transition_time": format_ts(int(when)),
        }
    ]


def _missing(name: str) -> dict[str, Any]:
    return {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": None}


def _form_errors(ws_id: str) -> list[dict[str, Any]]:
    """FastAPI-style problems of the multipart body (``requirements`` file, ``from_image``)."""
    errors: list[dict[str, Any]] = []
    if "requirements" in request.form:
        errors.append(
            {
                "type": "value_error",
                "loc": ["body", "requirements"],
                "msg": "Value error, Expected UploadFile, received: <class 'str'>",
                "input": request.form["requirements"],
                "ctx": {"error": {}},
            }
        )
    elif "requirements" not in request.files:
        errors.append(_missing("requirements"))
    image = request.form.get("from_image")
    if image is None:
        errors.append(_missing("from_image"))
    elif not image_allowed(image, ws_id):
        errors.append(
            {
                "type": "value_error",
                "loc": ["body", "from_image"],
                "msg": f"Value error, The image='{image}' does not exist. The image must come "
                f"from {BASE_IMAGES.rstrip('/')} or from {REGISTRY}/{ws_id}.",
                "input": image,
            }
        )
    return errors


def submit() -> Any:
    ws = workspace()
    errors = _form_errors(ws.id)
    if errors:
        raise validation_errors(errors)
    requirements = request.files["requirements"].read().decode("utf-8", errors="replace")
    build = state().world.start_build(ws.id, request.form["from_image"], requirements)
    return json_response(
        {
            "job_name": build.name,
            "status": PENDING,
            "created_at": format_ts(int(build.created_at)),
            "destination": build.destination,
        }
    )


def list_builds() -> Any:
    world = state().world
    now = world.now_epoch()
    builds = world.list_builds(workspace().id)
    return json_response(
        {
            "jobs": [
                {
                    "name": b.name,
                    "completions": "1/1" if b.status == SUCCEEDED else "0/1",
                    "duration": _go_duration((b.finished_at or now) - b.created_at),
                    "age": _go_duration(now - b.created_at),
                }
                for b in builds
            ]
        }
    )


def status(job_name: str) -> Any:
    """Kubernetes Job status, plus the build's ``status`` (the enum POST answers with)."""
    build = _find(job_name)
    if build is None:
        raise _not_found(job_name)
    now = state().world.now_epoch()
    current = build.status
    return json_response(
        {
            "job_name": build.name,
            "status": current,
            "active": int(current in ACTIVE),
            "succeeded": int(current == SUCCEEDED),
            "failed": int(current == FAILED),
            "conditions": _conditions(build, now),
            "pod_info": _pods(build, now),
            "scheduling_issue": "",
        }
    )


def cancel(job_name: str) -> Any:
    """Cancel a build that has not finished; a finished one keeps its outcome."""
    build = state().world.cancel_build(workspace().id, job_name)
    return json_response({"success": build is not None})


def pods(job_name: str) -> Any:
    build = _find(job_name)
    now = state().world.now_epoch()
    return json_response({"pods": [] if build is None else _pods(build, now)})


def logs(job_name: str) -> Any:
    """Kaniko output so far; before the pod starts, the platform's "not ready yet" text."""
    build = _find(job_name)
    if build is None:
        raise _not_found(job_name)
    if build.status == PENDING:
        return Response(
            f'"Job={build.name} is not ready yet, try again in 10 seconds"', content_type=TEXT
        )
    return Response("".join(line + "\n" for line in build.lines), content_type=TEXT)
