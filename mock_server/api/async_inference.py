"""Asynchronous inference (``async_inferences/v1``) and DALL-E (``dalle/v1``) over HTTP.

A request is the engine's (:mod:`simulator.deployments.asynchronous`): submitted now, its answer
ready after the replica's latency and a simulated processing time. Both areas answer in the
spec's ``AsyncRequestStatusResponse`` shape; DALL-E (whose operations the spec leaves untyped)
uses the same shape for its predict and result.

Errors as the spec documents them: a request that is not done yet is 404
``AsyncRequestNotDoneYetResponse`` (an unknown id's result too, with ``Request Not Found``); an
unknown id's status is 404 ``{"detail": "Request Not Found"}`` (the spec gives that text as
``text/plain``, but every error of the mock is JSON); an
unknown or not-ready deployment answers as ``inference/v2`` does (404 / 409 ``{"detail"}``).
"""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import TypeAdapter

from mock_server import routing
from mock_server.api.inference import request_json
from mock_server.errors import (
    ApiError,
    detail_error,
    json_response,
    refusal,
)
from mock_server.models import choices
from mock_server.params import path_value, uuid_text
from mock_server.state import state, workspace
from simulator.deployments import AsyncRequest
from simulator.deployments.asynchronous import COMPLETED, HOSTED
from simulator.errors import Rejected
from simulator.logs import format_ts


def _not_found() -> ApiError:
    return detail_error(404, "Request Not Found")


def _find(request_id: str, deployment: str) -> AsyncRequest | None:
    """The workspace's request ``request_id`` made to ``deployment``, or None."""
    try:
        found = state().world.async_request(request_id, workspace().id)
    except Rejected:
        return None
    return found if found.deployment == deployment else None


def status_body(req: AsyncRequest) -> dict[str, Any]:
    """``AsyncRequestStatusResponse``: the request and, once completed, its result."""
    now = state().world.now_epoch()
    done = req.status(now) == COMPLETED
    return {
        "info": {
            "id": req.id,
            "created_at": format_ts(req.created_at),
            "updated_at": format_ts(req.done_at if done else req.created_at),
            "request_timeout": None,
            "repeat_limit": 0,
            "repeat_count": 0,
            "status": req.status(now),
            "clusters": [req.region] if req.region else [],
        },
        "result": (
            {
                "timestamp": format_ts(req.done_at),
                "body": req.result,
                "error": None,
                "headers": ["content-type: application/json"],
                "http_status": 200,
            }
            if done
            else None
        ),
    }


def _no_result(details: str) -> ApiError:
    """A result that cannot be given, in the spec's 404 shape for ``result``."""
    return ApiError(404, {"status": "error", "details": details})


def _item(req: AsyncRequest, now: float) -> dict[str, Any]:
    """``AsyncRequestItem``, with the inference's duration once completed."""
    item: dict[str, Any] = {
        "id": req.id,
        "path": req.path,
        "method": "POST",
        "created_at": format_ts(req.created_at),
        "status": req.status(now),
        "inference_name": req.deployment,
        "namespace": workspace().namespace,
        "clusters": [req.region] if req.region else [],
        "inference_key": None,
        "repeat_limit": 0,
        "response_inference_duration": None,
    }
    if req.status(now) == COMPLETED:
        item["response_inference_duration"] = {
            "started_at": format_ts(req.created_at),
            "finished_at": format_ts(req.done_at),
            "duration": f"PT{req.done_at - req.created_at:.3f}S",
        }
    return item


# ---- async_inferences/v1 -----------------------------------------------------------------------
def submit(region: str, inference_name: str, predict_path: str) -> Any:
    """With ``x-async-request: true`` the request's status; otherwise the answer itself. The
    gateway records the request either way (it is listed, with its duration), so the header
    changes only the answer: a replay from the state file, which keeps no headers, rebuilds
    the same requests."""
    regions = tuple(state().world.config.catalog.inference_regions)
    path_value(TypeAdapter(choices("InferenceRegion", regions)), ["path", "region"], region)
    world, body = state().world, request_json()
    try:
        req = world.submit_async(workspace().id, region, inference_name, predict_path, body)
    except Rejected as exc:
        raise refusal(exc, "detail") from None
    if request.headers.get("x-async-request", "").lower() == "true":
        return json_response(status_body(req))
    return json_response(req.result)


def status(request_id: str) -> Any:
    req = _find(uuid_text(["path", "request_id"], request_id), routing.query().inference_name)
    if req is None:
        raise _not_found()
    return json_response(status_body(req))


def result(request_id: str) -> Any:
    req = _find(uuid_text(["path", "request_id"], request_id), routing.query().inference_name)
    if req is None:
        raise _no_result("Request Not Found")
    if req.status(state().world.now_epoch()) != COMPLETED:
        raise _no_result("Request is not done yet")
    return json_response(req.result)


def list_requests() -> Any:
    name = routing.query().inference_name
    world = state().world
    now = world.now_epoch()
    reqs = [r for r in world.list_async(workspace().id) if r.deployment == name]
    reqs.sort(key=lambda r: (r.created_at, r.id))
    return json_response({"data": [_item(r, now) for r in reqs]})


# ---- dalle/v1 ---------------------------------------------------------------------------------
def dalle_predict(model_name: str) -> Any:
    req = state().world.submit_hosted(workspace().id, model_name, request_json())
    return json_response(status_body(req))


def dalle_result(request_id: str) -> Any:
    """The request's status, with its result once completed (404 for an unknown id)."""
    req = _find(request_id, HOSTED)
    if req is None:
        raise _not_found()
    return json_response(status_body(req))
