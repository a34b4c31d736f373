"""Asynchronous inference requests: submitted now, answered after a simulated processing time.

A request is one predict on its deployment (it counts as load and may cold-start it), whose
answer becomes visible ``latency + processing`` seconds later; its status is read from the clock
(``pending`` until then, ``completed`` after), so it needs no event of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.deployments import predict
from simulator.deployments.manager import Deployments
from simulator.errors import Conflict, NotFound
from simulator.randomness import derive_bits, unit_interval, uuid4_str

PENDING, COMPLETED = "pending", "completed"
HOSTED = "dalle"  # the deployment name of requests to the platform-hosted model


@dataclass(frozen=True)
class AsyncRequest:
    """One submitted request (epoch seconds)."""

    id: str
    workspace: str
    deployment: str
    region: str
    path: str
    created_at: float
    done_at: float
    result: dict[str, Any]

    def status(self, now: float) -> str:
        return COMPLETED if now >= self.done_at else PENDING


class AsyncRequests:
    """Every asynchronous request of one engine."""

    def __init__(self, deployments: Deployments) -> None:
        self.deployments = deployments
        self.items: dict[str, AsyncRequest] = {}

    def submit(self, workspace: str, region: str, name: str, path: str, body: Any) -> AsyncRequest:
        deps = self.deployments
        dep = deps.get(name, workspace)
        if dep.spec.region != region:
            raise NotFound(f"Inference service {name} not found in region {region}")
        answer = deps.predict(dep, path, body)
        return self._record(workspace, name, region, path, body, answer.latency_s, answer.body)

    def submit_hosted(self, workspace: str, model: str, body: Any) -> AsyncRequest:
        """A request to a model the platform hosts itself (DALL-E): no deployment of the
        workspace serves it, so it is answered after the processing time alone."""
        answer = predict.answer(self.deployments.engine.seed, HOSTED, model, body)
        return self._record(workspace, HOSTED, "", model, body, 0.0, answer)

    def _record(
        self,
        workspace: str,
        name: str,
        region: str,
        path: str,
        body: Any,
        latency_s: float,
        result: dict[str, Any],
    ) -> AsyncRequest:
        engine = self.deployments.engine
        bits = engine._entity_bits(f"async\x1f{workspace}\x1f{name}\x1f{path}\x1f{body!r}")
        lo, hi = self.deployments.async_s
        processing = lo + (hi - lo) * unit_interval(derive_bits(engine.seed, "async", bits))
        now = engine.now_epoch()
        request = AsyncRequest(
            uuid4_str(bits),
            workspace,
            name,
            region,
            path,
            now,
            now + latency_s + processing,
            result,
        )
        self.items[request.id] = request
        return request

    def get(self, request_id: str, workspace: str | None = None) -> AsyncRequest:
        request = self.items.get(request_id)
        if request is None or (workspace is not None and request.workspace != workspace):
            raise NotFound(f"Request {request_id} not found")
        return request

    def result(self, request_id: str, now: float, workspace: str | None = None) -> dict[str, Any]:
        request = self.get(request_id, workspace)
        if request.status(now) != COMPLETED:
            raise Conflict(f"Request {request_id} is not completed yet")
        return request.result

    def listing(self, workspace: str | None = None) -> list[AsyncRequest]:
        return [r for r in self.items.values() if workspace is None or r.workspace == workspace]
