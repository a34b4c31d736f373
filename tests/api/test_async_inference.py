"""Asynchronous inference and DALL-E over HTTP: submitted now, pending, then completed with the
deterministic answer after the simulated processing time; listing; 404s and 422s."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from tests.support.openapi import validate_response, validate_schema
from tests.support.public_api import PublicApi

WS = "11111111-1111-4111-8111-111111111111"
REGION = "CCE-INF"
ROWS = {"instances": [[0.1, 0.2], [0.3, 0.4]]}
DONE_S = 30  # latency + processing (2-20 s) of a warm replica, always less than this
ASYNC = {"x-async-request": "true"}


@pytest.fixture
def api() -> PublicApi:
    return PublicApi(create_app(seed=0, start_epoch=DEFAULT_START_EPOCH), WS)


@pytest.fixture
def deployment(api: PublicApi) -> str:
    body = {
        "image": "cr.ai.cloud.ru/ws/serving:1",
        "region": REGION,
        "instance_type": "cpu.2C.8G",
        "replicas": {"min": 1, "max": 1},
    }
    name = api.call("POST", "inference/v2/", json=body)["metadata"]["name"]
    api.world.advance(75)
    return name


def _path(name: str) -> str:
    return f"async_inferences/v1/{REGION}/{name}/v1/models/{name}:predict"


def _submit(api: PublicApi, name: str, **kwargs: Any) -> Any:
    resp = api.raw("POST", _path(name), json=ROWS, **kwargs)
    body = resp.get_json()
    if resp.status_code == 200:  # the spec's template has one segment for the predict path
        validate_response("POST", f"async_inferences/v1/{REGION}/{name}/predict", 200, body)
    return resp.status_code, body


def test_async_request_pending_then_completed_with_the_predict_answer(
    api: PublicApi, deployment: str
) -> None:
    code, submitted = _submit(api, deployment, headers=ASYNC)
    assert code == 200
    rid = submitted["info"]["id"]
    assert submitted["info"]["status"] == "pending"
    assert submitted["info"]["clusters"] == [REGION]
    assert submitted["result"] is None
    query = {"inference_name": deployment}

    not_done = api.call("GET", f"async_inferences/v1/{rid}/result", query_string=query, status=404)
    assert not_done == {"status": "error", "details": "Request is not done yet"}
    listed = api.call("GET", "async_inferences/v1/", query_string=query)["data"]
    assert [(r["id"], r["status"]) for r in listed] == [(rid, "pending")]

    api.world.advance(DONE_S)
    status = api.call("GET", f"async_inferences/v1/{rid}/status", query_string=query)
    assert status["info"]["status"] == "completed"
    result = api.call("GET", f"async_inferences/v1/{rid}/result", query_string=query)
    assert status["result"]["body"] == result
    assert len(result["predictions"]) == 2
    code, sync = _submit(api, deployment)  # without the header: the answer itself
    assert code == 200 and sync == result
    item = api.call("GET", "async_inferences/v1/", query_string=query)["data"][0]
    assert item["status"] == "completed"
    assert item["response_inference_duration"]["duration"].startswith("PT")


def test_async_requests_answer_404_and_422_as_documented(api: PublicApi, deployment: str) -> None:
    rid = _submit(api, deployment, headers=ASYNC)[1]["info"]["id"]
    other = "00000000-0000-4000-8000-000000000000"
    unknown = {"status": {"detail": "Request Not Found"}}
    for op in ("status", "result"):
        path = f"async_inferences/v1/{other}/{op}"
        body = api.call("GET", path, query_string={"inference_name": deployment}, status=404)
        assert body == unknown.get(op, {"status": "error", "details": "Request Not Found"})
        resp = api.raw(
            "GET", f"async_inferences/v1/{rid}/{op}", query_string={"inference_name": "x"}
        )
        assert resp.status_code == 404
        api.call("GET", f"async_inferences/v1/{rid}/{op}", status=422)  # inference_name required
        api.call(
            "GET",
            f"async_inferences/v1/not-a-uuid/{op}",
            query_string={"inference_name": "x"},
            status=422,
        )
    api.call("GET", "async_inferences/v1/", status=422)
    code, body = _submit(api, "nope", headers=ASYNC)
    assert code == 404
    validate_schema("InferenceServiceNotFoundResponse", body)
    resp = api.raw("POST", f"async_inferences/v1/MARS/{deployment}/x", json=ROWS, headers=ASYNC)
    assert resp.status_code == 422
    listed = api.call("GET", "async_inferences/v1/", query_string={"inference_name": deployment})
    assert len(listed["data"]) == 1  # the refused ones left nothing


def test_dalle_predict_then_result_in_the_async_shape(api: PublicApi) -> None:
    submitted = api.call("POST", "dalle/v1/predict/kandinsky", json={"query": "a cat"})
    validate_schema("AsyncRequestStatusResponse", submitted)
    assert submitted["info"]["status"] == "pending"
    rid = submitted["info"]["id"]
    pending = api.call("GET", f"dalle/v1/result/{rid}")
    assert pending["result"] is None
    api.world.advance(DONE_S)
    done = api.call("GET", f"dalle/v1/result/{rid}")
    validate_schema("AsyncRequestStatusResponse", done)
    assert done["info"]["status"] == "completed"
    assert done["result"]["body"]["model_name"] == "kandinsky"
    again = api.call("POST", "dalle/v1/predict/kandinsky", json={"query": "a cat"})
    api.world.advance(DONE_S)
    same = api.call("GET", f"dalle/v1/result/{again['info']['id']}")
    assert same["result"]["body"] == done["result"]["body"]  # deterministic
    unknown = api.raw("GET", "dalle/v1/result/unknown")  # the spec documents no 404 here
    assert (unknown.status_code, unknown.get_json()) == (404, {"detail": "Request Not Found"})
