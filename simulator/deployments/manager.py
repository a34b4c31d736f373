"""Deployments on the engine's SimPy environment: replicas placed in an inference pool, an
autoscaler moved by request load, per-second billing of every replica span.

A replica asks its pool for one instance type's worth of capacity; if the pool is full it waits
in the pool's FIFO queue. Once placed it is billed (the instance exists), pulls the image and
loads the model, then serves. Scaling decisions are SimPy timeouts scheduled only when the load
calls for a change (after a predict, at a synthetic profile's hour boundaries, at the idle
deadline), so a steady deployment schedules nothing and ``run_until_idle`` still ends; profile
boundaries are a calendar the engine consults as it moves time, like transfer rules.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from simulator.deployments import load, predict
from simulator.deployments.load import Autoscaler
from simulator.deployments.model import (
    QUEUED,
    READY,
    SCALED_TO_ZERO,
    STARTING,
    Deployment,
    DeploymentSpec,
    Replica,
)
from simulator.errors import Conflict, NotFound, Refused
from simulator.pools import Demand, Pool
from simulator.randomness import derive_bits, unit_interval, uuid4_str

if TYPE_CHECKING:
    from simulator.engine import Engine

MAX_REPLICAS = 100  # the spec's InferenceReplicas bound


@dataclass(frozen=True)
class Prediction:
    """A predict answer, the virtual latency it took, and whether a replica had to start."""

    body: dict[str, Any]
    latency_s: float
    cold: bool


class Deployments:
    """Every deployment of one engine, and the queues of the inference pools."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.env = engine.env
        settings = engine.config.inference
        self.autoscaler = Autoscaler(settings)
        self._pull = tuple(settings["image_pull_s"])
        self._start = tuple(settings["model_start_s"])
        self._latency = tuple(settings["warm_latency_s"])
        self.async_s = tuple(settings["async_processing_s"])
        self._default_profile = tuple(settings["default_daily_rps"])
        self.items: dict[str, Deployment] = {}
        self.queues: dict[str, deque[Replica]] = {
            p.name: deque() for p in engine.pools if "inference" in p.serves
        }

    # ---- lifecycle ----------------------------------------------------------------------------
    def _pool_for(self, region: str, itype: Any) -> Pool:
        for pool in self.engine.pools:
            if pool.matches("inference", region, itype):
                return pool
        raise Refused(f"No capacity serves inference of {itype.key!r} in region={region}")

    def create(self, spec: DeploymentSpec, workspace: str) -> Deployment:
        """Accept a deployment (or refuse it) and start its first replicas."""
        itype = self.engine.catalog.inference_type(spec.region, spec.instance_type)
        if not 0 <= spec.min_replicas <= spec.max_replicas <= MAX_REPLICAS:
            raise Refused(
                f"replicas must satisfy 0 <= min <= max <= {MAX_REPLICAS}, "
                f"got min={spec.min_replicas} max={spec.max_replicas}"
            )
        if spec.max_replicas < 1:
            raise Refused("replicas.max must be at least 1")
        if spec.daily_rps and (len(spec.daily_rps) != 24 or min(spec.daily_rps) < 0):
            raise Refused("a daily load profile has 24 non-negative hourly rps values")
        pool = self._pool_for(spec.region, itype)
        demand = Demand.of(itype)
        if not pool.can_ever_fit(1, demand):
            raise Refused(f"{itype.key} can never fit in pool {pool.name!r}")
        if not spec.daily_rps and self._default_profile:
            spec = replace(spec, daily_rps=self._default_profile)
        bits = self.engine._entity_bits(
            f"deployment\x1f{workspace}\x1f{spec.region}\x1f{spec.instance_type}\x1f{spec.image}"
        )
        name = f"inf-{uuid4_str(bits)[:13]}"
        now = self.engine.now_epoch()
        seq = self.engine._next_seq()
        dep = Deployment(name, workspace, spec, itype, pool, demand, bits, seq, now, now)
        self.items[name] = dep
        if spec.daily_rps:
            self.engine.wake()
        self._set_target(dep, max(spec.min_replicas, 1))
        self.evaluate(dep)
        return dep

    def get(self, name: str, workspace: str | None = None) -> Deployment:
        dep = self.items.get(name)
        if (
            dep is None
            or dep.deleted_at is not None
            or (workspace is not None and dep.workspace != workspace)
        ):
            raise NotFound(f"Inference service {name} not found")
        return dep

    def listing(self, workspace: str | None = None) -> list[Deployment]:
        return [
            d
            for d in self.items.values()
            if d.deleted_at is None and (workspace is None or d.workspace == workspace)
        ]

    def update(
        self,
        dep: Deployment,
        *,
        min_replicas: int | None,
        max_replicas: int | None,
        image: str | None = None,
        alias: str | None = None,
        description: str | None = None,
    ) -> Deployment:
        """Change the replica bounds, the labels (or the image: every replica restarts with
        it)."""
        lo = dep.spec.min_replicas if min_replicas is None else min_replicas
        hi = dep.spec.max_replicas if max_replicas is None else max_replicas
        if not 0 <= lo <= hi <= MAX_REPLICAS or hi < 1:
            raise Refused(f"replicas must satisfy 0 <= min <= max <= {MAX_REPLICAS}, max >= 1")
        dep.spec = replace(
            dep.spec,
            min_replicas=lo,
            max_replicas=hi,
            image=image or dep.spec.image,
            alias=dep.spec.alias if alias is None else alias,
            description=dep.spec.description if description is None else description,
        )
        dep.updated_at = self.engine.now_epoch()
        if image:
            keep = dep.target
            self._set_target(dep, 0)
            self._set_target(dep, keep)
        self._set_target(dep, min(max(dep.target, lo), hi))
        self.evaluate(dep)
        return dep

    def delete(self, dep: Deployment) -> Deployment:
        """Stop every replica now (their bills close) and forget the deployment."""
        self._set_target(dep, 0)
        dep.deleted_at = dep.updated_at = self.engine.now_epoch()
        return dep

    # ---- replicas -----------------------------------------------------------------------------
    def _set_target(self, dep: Deployment, n: int) -> None:
        dep.target = n
        while len(dep.replicas) < n:
            replica = Replica(dep, self.engine._next_seq())
            dep.replicas.append(replica)
            self.queues[dep.pool.name].append(replica)
        surplus = len(dep.replicas) - n
        if surplus > 0:
            # queued ones go first, then the newest starting or ready ones
            order = sorted(dep.replicas, key=lambda r: (r.state != QUEUED, -r.seq))
            for replica in order[:surplus]:
                self._remove(replica)
        self.dispatch(dep.pool)

    def _remove(self, replica: Replica) -> None:
        dep = replica.deployment
        dep.replicas.remove(replica)
        replica.token += 1
        if replica.state == QUEUED:
            self.queues[dep.pool.name].remove(replica)
            return
        self._release(replica)

    def _release(self, replica: Replica) -> None:
        dep = replica.deployment
        if replica.placement is not None:
            dep.pool.release(replica.placement, dep.demand)
            replica.placement = None
        if replica.line is not None:
            self.engine.ledger.close(replica.line, self.engine.now_epoch())
            replica.line = None
        dep.updated_at = self.engine.now_epoch()

    def queued(self, pool: Pool) -> int:
        """Replicas waiting for capacity in ``pool``."""
        return len(self.queues.get(pool.name, ()))

    def dispatch(self, pool: Pool) -> None:
        """Place queued replicas of ``pool`` in arrival order while the first one fits."""
        queue = self.queues.get(pool.name)
        if queue is None:  # not an inference pool
            return
        while queue:
            replica = queue[0]
            plan = pool.place(1, replica.deployment.demand)
            if plan is None:
                return
            queue.popleft()
            replica.placement = plan
            self._placed(replica)

    def _placed(self, replica: Replica) -> None:
        engine = self.engine
        dep = replica.deployment
        now = engine.now_epoch()
        replica.state = STARTING
        replica.line = engine.ledger.open(
            workspace=dep.workspace,
            kind="deployment",
            item=dep.name,
            region=dep.spec.region,
            instance_type=dep.itype.key,
            workers=1,
            price_per_hour=engine.prices.worker_hour(dep.itype),
            start=now,
        )
        dep.lines.append(replica.line)
        u = unit_interval(derive_bits(engine.seed, "replica", dep.name, replica.seq))
        v = unit_interval(derive_bits(engine.seed, "model", dep.name, replica.seq))
        startup = _within(self._pull, u) + _within(self._start, v)
        replica.ready_at = now + startup
        dep.updated_at = now
        self._after(startup, self._ready, replica, replica.token)

    def _ready(self, replica: Replica, token: int) -> None:
        if replica.token != token:  # removed or lost since it was placed
            return
        replica.state = READY
        dep = replica.deployment
        dep.ever_ready = True
        dep.updated_at = self.engine.now_epoch()

    def node_lost(self, pool: Pool, index: int) -> None:
        """Node ``index`` of ``pool`` fails: its replicas are lost and queue for capacity again
        (their bills close now), as a Kubernetes Deployment recreates its pods."""
        for dep in self.items.values():
            if dep.pool is not pool:
                continue
            for replica in dep.replicas:
                if replica.placement and any(i == index for i, _ in replica.placement):
                    replica.token += 1
                    self._release(replica)
                    replica.state = QUEUED
                    self.queues[pool.name].append(replica)

    # ---- autoscaling --------------------------------------------------------------------------
    def _after(self, delay: float, step: Callable[..., None], *args: Any) -> None:
        self.env.timeout(max(0.0, delay)).callbacks.append(lambda _ev: step(*args))

    def evaluate(self, dep: Deployment) -> None:
        """Compare the replicas the load calls for with the target; schedule a decision."""
        if dep.deleted_at is not None:
            return
        scaler, now, start = self.autoscaler, self.env.now, self.engine.start_epoch
        wanted = scaler.desired(dep, now, start)
        if wanted > dep.target and not dep.pending_up:
            dep.pending_up = True
            self._after(scaler.up_delay, self._decide, dep, True)
        elif wanted < dep.target and not dep.pending_down:
            dep.pending_down = True
            self._after(scaler.down_delay, self._decide, dep, False)
        if dep.spec.min_replicas == 0 and dep.target > 0:
            deadline = scaler.idle_deadline(dep, now, start)
            self._check_at(dep, deadline)

    def _check(self, dep: Deployment, at: float) -> None:
        """A scheduled look at the load (the idle deadline, a predict leaving the window)."""
        dep.checks.discard(at)
        self.evaluate(dep)
        if dep.predicts:  # the next predict to leave the window
            self._check_at(dep, dep.predicts[0] + self.autoscaler.window)

    def _check_at(self, dep: Deployment, at: float) -> None:
        if at > self.env.now and at not in dep.checks:
            dep.checks.add(at)
            self._after(at - self.env.now, self._check, dep, at)

    def _decide(self, dep: Deployment, up: bool) -> None:
        if up:
            dep.pending_up = False
        else:
            dep.pending_down = False
        if dep.deleted_at is not None:
            return
        wanted = self.autoscaler.desired(dep, self.env.now, self.engine.start_epoch)
        if (wanted > dep.target) if up else (wanted < dep.target):
            self._set_target(dep, wanted)
        self.evaluate(dep)

    # ---- the synthetic-load calendar ------------------------------------------------------------
    def next_due(self) -> float:
        """Epoch of the next hour boundary where some deployment's profile changes."""
        now = self.engine.now_epoch()
        return min(
            (
                load.next_change(d.spec.daily_rps, now)
                for d in self.items.values()
                if d.deleted_at is None and d.spec.daily_rps
            ),
            default=math.inf,
        )

    def start_due(self, due: float) -> None:
        """The profiles changed at ``due`` (the engine's now): re-evaluate their deployments."""
        for dep in list(self.items.values()):
            if dep.deleted_at is None and dep.spec.daily_rps:
                self.evaluate(dep)

    # ---- serving ------------------------------------------------------------------------------
    def predict(self, dep: Deployment, model: str, body: Any) -> Prediction:
        """Answer ``body`` after a warm replica's latency, or start one from zero (cold start).
        A deployment that has never been ready, or whose replicas all wait for capacity,
        refuses with :class:`Conflict`."""
        engine, now = self.engine, self.engine.now_epoch()
        cold = dep.status == SCALED_TO_ZERO
        if cold:
            dep.cold_starts += 1
            self._set_target(dep, max(dep.spec.min_replicas, 1))
        placed = [r for r in dep.replicas if r.state in (STARTING, READY)]
        if not placed or not (dep.ever_ready or cold):
            raise Conflict(f"Inference service {dep.name} is not ready (status {dep.status})")
        u = unit_interval(derive_bits(engine.seed, "latency", dep.name, dep.served))
        wait = max(0.0, min(r.ready_at for r in placed) - now)
        latency = wait + _within(self._latency, u)
        dep.served += 1
        dep.predicts.append(self.env.now)
        dep.last_predict = self.env.now
        self.evaluate(dep)
        if len(dep.predicts) == 1:  # else a check is already due when the oldest leaves
            self._check_at(dep, self.env.now + self.autoscaler.window)
        return Prediction(predict.answer(engine.seed, dep.name, model, body), latency, cold)

    # ---- money --------------------------------------------------------------------------------
    def cost(self, dep: Deployment) -> Decimal:
        """What the deployment cost so far: the sum of its replica lines."""
        now, tariff = self.engine.now_epoch(), self.engine.ledger.tariff
        return sum((line.cost(now, tariff) for line in dep.lines), Decimal(0))

    def replica_seconds(self, dep: Deployment) -> int:
        now, tariff = self.engine.now_epoch(), self.engine.ledger.tariff
        return sum(line.seconds(now, tariff) for line in dep.lines)


def _within(bounds: tuple[float, ...], u: float) -> float:
    lo, hi = bounds
    return lo + (hi - lo) * u
