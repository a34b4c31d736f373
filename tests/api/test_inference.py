"""Inference deployments over HTTP (Flask test client, manual virtual clock): create, run,
predict, per-second billing, scale to zero, list, patch, delete; every answer spec-valid."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.support.openapi import validate_request, validate_response, validate_schema
from tests.support.public_api import PublicApi

WS_A = "11111111-1111-4111-8111-111111111111"
WS_B = "22222222-2222-4222-8222-222222222222"
REGION = "DGX2-INF-001"
BODY = {
    "image": "cr.ai.cloud.ru/docker-registry-id/inference-image-0000000001",
    "alias": "cats-vs-dogs",
    "region": REGION,
    "instance_type": "v100.1gpu",
    "replicas": {"min": 0, "max": 2},
}
STARTUP_S = 75  # image pull (10-40 s) + model start (5-30 s), always less than this
IDLE_S = 900 + 60  # scale_to_zero_after_s past the last request's rps window


class Api(PublicApi):
    """The deployment calls these tests repeat."""

    def create(self, **changes: Any) -> dict[str, Any]:
        body = {**BODY, **changes}
        validate_request("POST", "inference/v2/", body)
        return self.call("POST", "inference/v2/", json=body)

    def get(self, name: str, region: str = REGION) -> dict[str, Any]:
        return self.call("GET", f"inference/v2/{name}", query_string={"region": region})

    def cost(self, name: str) -> Decimal:
        return Decimal(self.get(name)["status"]["cost"]["total"])


@pytest.fixture
def api(app: Any) -> Api:
    return Api(app, WS_A)


def _billing(api: Api) -> list[dict[str, Any]]:
    resp = api.client.get("/_mock/billing")
    assert resp.status_code == 200
    return [ln for ln in resp.get_json()["lines"] if ln["kind"] == "deployment"]


def test_configs_list_inference_regions_with_instance_types(api: Api) -> None:
    body = api.call("GET", "configs", query_string={"cluster_type": "INF"})
    regions = {r["key"]: r for r in body["regions"]}
    assert set(regions) == {"DGX2-INF-001", "CCE-INF", "INF-002"}
    keys = {t["key"] for t in regions[REGION]["instances_types"]}
    assert "v100.1gpu" in keys


def test_min0_deployment_runs_predicts_bills_scales_to_zero_and_deletes(api: Api) -> None:
    created = api.create()
    name = created["metadata"]["name"]
    assert created["kind"] == "InferenceService"
    assert created["spec"]["predictor"]["minReplicas"] == 0
    assert created["status"]["phase"] in ("Pending", "Loading")

    api.world.advance(STARTUP_S)
    running = api.get(name)
    assert running["status"]["phase"] == "Running"
    assert running["status"]["replicas"]["ready"] == 1

    rows = {"instances": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]}
    resp = api.raw("POST", f"inference/v2/predict/{name}/{name}/", json=rows)
    assert resp.status_code == 200
    answer = resp.get_json()
    validate_response("POST", f"inference/v2/predict/{name}/{name}/", 200, answer)
    assert len(answer["predictions"]) == 3
    assert all(0 <= p < 1 for p in answer["predictions"])
    assert resp.headers["x-mlspace-sim-cold-start"] == "false"
    again = api.raw("POST", f"inference/v2/predict/{name}/{name}/", json=rows)
    assert again.get_json() == answer  # deterministic

    billed = api.cost(name)
    assert billed > 0
    api.world.advance(600)
    assert api.cost(name) > billed  # billed while it has a replica

    api.world.advance(IDLE_S)
    idle = api.get(name)
    assert idle["status"]["phase"] == "ScaledToZero"
    assert idle["status"]["replicas"]["ready"] == 0
    total = Decimal(idle["status"]["cost"]["total"])
    api.world.advance(2 * 3600)
    assert api.cost(name) == total  # nothing billed at zero replicas
    lines = [ln for ln in _billing(api) if ln["item"] == name]
    assert lines and not any(ln["running"] for ln in lines)
    assert sum(Decimal(ln["cost"]) for ln in lines) == total

    listed = api.call("GET", "inference/v2/")
    assert [d["metadata"]["name"] for d in listed["inferences"]] == [name]

    # a predict after scale to zero starts a replica again (cold start)
    cold = api.raw("POST", f"inference/v2/predict/{name}/{name}/", json=rows)
    assert cold.status_code == 200
    assert cold.headers["x-mlspace-sim-cold-start"] == "true"
    assert float(cold.headers["x-mlspace-sim-latency-s"]) > 1
    assert cold.get_json() == answer

    deleted = api.call("DELETE", f"inference/v2/{name}", query_string={"region": REGION})
    assert deleted["status"]["phase"] == "Deleted"
    assert api.call("GET", "inference/v2/")["inferences"] == []
    gone = api.call("GET", f"inference/v2/{name}", query_string={"region": REGION}, status=404)
    assert name in gone["detail"]
    assert not any(ln["running"] for ln in _billing(api))


def test_min1_deployment_never_scales_to_zero(api: Api) -> None:
    name = api.create(replicas={"min": 1, "max": 2})["metadata"]["name"]
    api.world.advance(STARTUP_S + IDLE_S + 3600)
    status = api.get(name)["status"]
    assert status["phase"] == "Running"
    assert status["cost"]["replica_seconds"] == pytest.approx(STARTUP_S + IDLE_S + 3600, abs=60)


def test_patch_changes_replicas_and_labels(api: Api) -> None:
    name = api.create()["metadata"]["name"]
    body = {"region": REGION, "replicas": {"min": 1, "max": 3}, "description": "v2"}
    validate_request("PATCH", f"inference/v2/{name}", body)
    patched = api.call("PATCH", f"inference/v2/{name}", json=body)
    assert patched["spec"]["predictor"]["minReplicas"] == 1
    assert patched["spec"]["predictor"]["maxReplicas"] == 3
    assert patched["metadata"]["annotations"] == {"alias": "cats-vs-dogs", "description": "v2"}


def test_predict_of_a_deployment_not_running_yet_is_409(api: Api) -> None:
    name = api.create()["metadata"]["name"]
    resp = api.raw("POST", f"inference/v2/predict/{name}/{name}/", json={"instances": [1]})
    assert resp.status_code == 409
    validate_schema("InferenceServiceNotFoundResponse", resp.get_json())
    assert api.get(name)["status"]["served"] == 0


def test_predict_of_an_unknown_deployment_is_404(api: Api) -> None:
    resp = api.raw("POST", "inference/v2/predict/nope/nope/", json={"instances": [1]})
    assert resp.status_code == 404
    validate_schema("InferenceServiceNotFoundResponse", resp.get_json())


def test_wrong_region_and_other_workspace_are_404(app: Any, api: Api) -> None:
    name = api.create()["metadata"]["name"]
    api.call("GET", f"inference/v2/{name}", query_string={"region": "CCE-INF"}, status=404)
    other = Api(app, WS_B)
    other.call("GET", f"inference/v2/{name}", query_string={"region": REGION}, status=404)
    assert other.call("GET", "inference/v2/")["inferences"] == []


@pytest.mark.parametrize(
    "changes",
    [
        {"replicas": {"min": 3, "max": 1}},
        {"replicas": {"min": 0, "max": 0}},
        {"replicas": {"min": -1, "max": 2}},
        {"replicas": {"min": 0, "max": 101}},
        {"region": "MARS"},
        {"instance_type": "a100.1gpu"},  # not a type of DGX2-INF-001
        {"image": 5},
        {"image": None},
    ],
)
def test_bad_create_is_422_and_creates_nothing(api: Api, changes: dict[str, Any]) -> None:
    body = api.call("POST", "inference/v2/", json={**BODY, **changes}, status=422)
    assert body["detail"]
    assert api.call("GET", "inference/v2/")["inferences"] == []
    assert not _billing(api)


def test_bad_patch_and_queries_are_422_without_change(api: Api) -> None:
    name = api.create()["metadata"]["name"]
    before = api.get(name)
    for body in (
        {"replicas": {"min": 1, "max": 2}},  # no region
        {"region": REGION, "replicas": {"min": 2, "max": 1}},
        {"region": REGION, "instance_type": "v100.2gpu"},
    ):
        api.call("PATCH", f"inference/v2/{name}", json=body, status=422)
    api.call("GET", f"inference/v2/{name}", status=422)  # region is required
    api.call("DELETE", f"inference/v2/{name}", status=422)
    api.call("DELETE", f"inference/v2/{name}", query_string={"region": "X"}, status=422)
    assert api.get(name)["spec"] == before["spec"]


def test_every_inference_async_and_dalle_operation_is_built() -> None:
    from mock_server.operations import OPERATIONS

    areas = {"inference", "inference_build", "async_inference", "dalle"}
    ops = [op for op in OPERATIONS if op.area in areas]
    assert len(ops) == 20
    assert all(op.handler for op in ops), [op.path for op in ops if not op.handler]
