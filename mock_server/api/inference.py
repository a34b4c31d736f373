"""Inference deployments over HTTP (``inference/v2``): KServe InferenceService manifests out.

The deployments themselves (replicas, autoscaling, billing) are the engine's
(:mod:`simulator.deployments`); this module checks requests and shows a deployment as the
platform's inference service does: a ``serving.kserve.io/v1beta1`` manifest whose ``status``
also carries the platform's summary status, the replica counts and the running cost so far.

Errors: the spec documents 404 ``{"detail"}`` for an unknown service and 422 for bad input
(engine refusals of a create or patch, such as an instance type the region lacks, are 422 too:
nothing else is documented for them). ``predict`` of a deployment that exists but cannot serve
(never ready yet, or every replica waiting for capacity) answers 409 with the same ``{"detail"}``
shape: the service is found, its state forbids the call, and the inference gateway is the
FastAPI service whose errors are ``HTTPException(detail=...)``.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from mock_server import routing
from mock_server.errors import ApiError, json_response, refusal, validation_errors
from mock_server.inputs import absent, parsed_body
from mock_server.state import state, workspace
from simulator.billing import kopecks
from simulator.deployments import Deployment, DeploymentSpec
from simulator.deployments.model import QUEUED, READY, RUNNING, STARTING
from simulator.errors import NotFound, Refused, Rejected
from simulator.logs import format_ts

API_VERSION = "serving.kserve.io/v1beta1"
URL_DOMAIN = "inference.mlspace-sim.local"
LATENCY_HEADER = "x-mlspace-sim-latency-s"  # the virtual time the answer took
COLD_HEADER = "x-mlspace-sim-cold-start"


def _refused(exc: Refused) -> ApiError:
    """An engine refusal of a create or patch, as FastAPI's 422 of a value error."""
    msg = f"Value error, {exc.message}"
    return validation_errors([{"type": "value_error", "loc": ["body"], "msg": msg, "input": None}])


def _find(name: str, region: str | None = None) -> Deployment:
    try:
        dep = state().world.get_deployment(name, workspace().id)
        if region is not None and dep.region != region:
            raise NotFound(f"Inference service {name} not found in region {region}")
    except NotFound as exc:
        raise refusal(exc, "detail") from None
    return dep


def _spec(dep: Deployment) -> dict[str, Any]:
    itype, spec = dep.itype, dep.spec
    resources = {"cpu": str(itype.cpu), "memory": f"{itype.memory_mi}Mi"}
    if itype.gpus:
        resources["nvidia.com/gpu"] = str(itype.gpus)
    return {
        "predictor": {
            "minReplicas": spec.min_replicas,
            "maxReplicas": spec.max_replicas,
            "containers": [
                {
                    "name": "kserve-container",
                    "image": spec.image,
                    "resources": {"limits": resources, "requests": resources},
                }
            ],
            "nodeSelector": {"region": spec.region, "instance_type": itype.key},
        }
    }


def _metadata(dep: Deployment) -> dict[str, Any]:
    return {
        "name": dep.name,
        "namespace": workspace().namespace,
        "creationTimestamp": format_ts(int(dep.created_at)),
        "annotations": {
            "alias": dep.spec.alias or "",
            "description": dep.spec.description or "",
        },
        "labels": {"region": dep.spec.region},
    }


def _status(dep: Deployment) -> dict[str, Any]:
    """KServe's status, plus the platform's summary, the replicas and the bill so far."""
    world = state().world
    ready = dep.status == RUNNING
    ledger = world.engine.ledger
    price = world.engine.prices.worker_hour(dep.itype)
    return {
        "phase": dep.status,
        "url": f"https://{dep.name}.{workspace().namespace}.{URL_DOMAIN}",
        "conditions": [
            {
                "type": "Ready",
                "status": "True" if ready else "False",
                "lastTransitionTime": format_ts(int(dep.updated_at)),
            }
        ],
        "modelStatus": {
            "states": {"activeModelState": dep.model_state, "targetModelState": "Loaded"},
            "transitionStatus": "UpToDate" if ready else "InProgress",
        },
        "replicas": {
            "min": dep.spec.min_replicas,
            "max": dep.spec.max_replicas,
            "desired": dep.target,
            "ready": dep.count(READY),
            "starting": dep.count(STARTING),
            "queued": dep.count(QUEUED),
        },
        "served": dep.served,
        "cold_starts": dep.cold_starts,
        "cost": {
            "total": str(kopecks(world.deployment_cost(dep))),
            "currency": ledger.currency,
            "replica_seconds": world.engine.deployments.replica_seconds(dep),
            "price_per_replica_hour": str(price),
            "billing": "per second while replicas exist, nothing at zero replicas",
        },
    }


def manifest(dep: Deployment) -> dict[str, Any]:
    """The deployment as the platform shows it: a KServe InferenceService manifest."""
    return {
        "apiVersion": API_VERSION,
        "kind": "InferenceService",
        "metadata": _metadata(dep),
        "spec": _spec(dep),
        "status": _status(dep),
    }


def list_inferences() -> Any:
    deps = state().world.list_deployments(workspace().id)
    deps.sort(key=lambda d: (d.created_at, d.seq))
    return json_response({"inferences": [manifest(d) for d in deps]})


def create() -> Any:
    st = state()
    body = routing.body()
    spec = DeploymentSpec(
        region=body.region.value,
        instance_type=body.instance_type,
        image=body.image,
        min_replicas=body.replicas.min,
        max_replicas=body.replicas.max,
        alias=body.alias,
        description=body.description,
    )
    try:
        dep = st.world.create_deployment(spec, workspace=workspace().id)
    except Refused as exc:
        raise _refused(exc) from None
    return json_response(manifest(dep))


def get(inference_name: str) -> Any:
    region = routing.query().region.value
    return json_response(manifest(_find(inference_name, region)))


def update(inference_name: str) -> Any:
    st = state()
    body = routing.body()
    dep = _find(inference_name, body.region.value)
    if body.instance_type not in (None, dep.itype.key):
        raise _refused(Refused("instance_type of a deployment cannot be changed"))
    replicas = body.replicas
    try:
        dep = st.world.update_deployment(
            dep.name,
            workspace().id,
            min_replicas=None if replicas is None else replicas.min,
            max_replicas=None if replicas is None else replicas.max,
            image=body.image,
            alias=body.alias,
            description=body.description,
        )
    except Refused as exc:
        raise _refused(exc) from None
    return json_response(manifest(dep))


def delete(inference_name: str) -> Any:
    region = routing.query().region.value
    dep = _find(inference_name, region)
    return json_response(manifest(state().world.delete_deployment(dep.name, workspace().id)))


def request_json() -> Any:
    """The request's JSON (None without a body); malformed JSON is FastAPI's 422."""
    body = parsed_body()
    return None if absent(body) else body


def predict(inference_name: str, model_name: str) -> Any:
    """The model's answer; headers say the virtual latency and whether a replica cold-started."""
    body = request_json()
    try:
        answer = state().world.predict(inference_name, model_name, body, workspace().id)
    except Rejected as exc:  # NotFound 404, Conflict 409
        raise refusal(exc, "detail") from None
    response: Response = json_response(answer.body)
    response.headers[LATENCY_HEADER] = f"{answer.latency_s:.3f}"
    response.headers[COLD_HEADER] = str(answer.cold).lower()
    return response
