"""Fault processes of the engine, in virtual time: node failures, preemption, slow image pulls.

Node failures. Each node fails as a Poisson process of ``rate_per_node_hour`` while it holds
work; the gap to its n-th failure comes from (seed, pool, node, n) alone. A failure is scheduled
only when it falls before the planned end of some work on the node (jobs know theirs; a Jupyter
Server has none), so the faults add no event past the end of the workload and
``run_until_idle`` still ends. A failure that comes due while the node is idle goes unnoticed,
and a fresh gap is drawn when the node next gets work (the same law: the process is memoryless).
A failed node is down for ``repair_s``: jobs on it restart or fail, servers on it go to error.

Preemption. A request that does not fit evicts the fewest strictly lower-priority jobs of its
pool it needs (lowest class first, newest first, then keeping any it can spare); they end
Terminated and list it as their preemptor.

The engine calls :meth:`FaultInjector.placed` / :meth:`FaultInjector.released` only while
failures or preemption are on, so with faults off the hot path pays one ``is None`` test.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from simulator.errors import Conflict, NotFound
from simulator.faults import FaultSettings
from simulator.jobs import Job
from simulator.notebooks import Notebook, Ticket
from simulator.pools import Demand, Placement, Pool
from simulator.randomness import derive_bits, unit_interval
from simulator.scheduler import PRIORITY_CLASSES, PoolScheduler, Request

if TYPE_CHECKING:
    from simulator.engine import Engine

NOTEBOOK_PRIORITY = "medium"  # what a Jupyter Server preempts with (the platform's default)


class NodeWatch:
    """What the failure process knows of one node."""

    __slots__ = ("armed", "draws", "holders", "next_fail", "token")

    def __init__(self) -> None:
        self.holders: dict[Job | Notebook, None] = {}  # in placement order
        self.next_fail = -math.inf  # env time of the next failure; in the past = draw anew
        self.draws = 0  # failure gaps drawn so far: the index of the next draw
        self.armed = False  # an event is scheduled at next_fail
        self.token = 0  # bumped to void a scheduled failure


class FaultInjector:
    """The fault state of one engine; ``apply`` changes the settings at any time."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.settings = FaultSettings()
        self._nodes: dict[tuple[str, int], NodeWatch] = {}
        self._by_rank: dict[str, list[dict[Job, None]]] = {}  # pool -> placed jobs per class

    # ---- settings ---------------------------------------------------------------------------
    def apply(self, settings: FaultSettings) -> None:
        """Switch to ``settings``: rebuild what is tracked from the placements of now."""
        old, self.settings = self.settings, settings
        engine = self.engine
        engine._slow_pulls = settings.slow_pull_p > 0
        hook = self.preempt if settings.preemption else None
        for sched in engine.schedulers.values():
            sched.preempt = hook
        engine._watch = self if settings.tracking else None
        if old.node_failure_rate != settings.node_failure_rate:
            for watch in self._nodes.values():
                watch.token += 1  # a failure drawn at the old rate is void
                watch.armed, watch.next_fail = False, -math.inf
        if (old.node_failure_rate, old.preemption) != (
            settings.node_failure_rate,
            settings.preemption,
        ):
            self._rebuild()
        if settings.preemption:
            for sched in engine.schedulers.values():
                sched.dispatch()  # a request blocked until now may make room

    def _rebuild(self) -> None:
        """Who holds what, from the placements of now (and failures armed for it)."""
        for watch in self._nodes.values():
            watch.holders.clear()
        self._by_rank.clear()
        if not self.settings.tracking:
            return
        engine = self.engine
        holders: list[Job | Notebook] = [
            j for j in engine.jobs.values() if j.placement is not None and not j.terminal
        ]
        holders += [b for b in engine.notebooks.values() if b.placement is not None]
        for holder in sorted(holders, key=lambda h: h.seq):
            self.placed(holder)

    # ---- holders ----------------------------------------------------------------------------
    def placed(self, holder: Job | Notebook) -> None:
        """``holder`` got its placement (a job's start-up timestamps are set)."""
        sched: PoolScheduler = holder.pool
        pool = sched.pool
        if self.settings.preemption and isinstance(holder, Job):
            ranks = self._by_rank.setdefault(pool.name, [{} for _ in PRIORITY_CLASSES])
            ranks[holder.priority_rank][holder] = None
        if self.settings.node_failure_rate <= 0:
            return
        engine = self.engine
        if isinstance(holder, Job):
            horizon = engine.planned_end(holder) - engine.start_epoch
        else:
            horizon = math.inf
        for i, _ in holder.placement or ():
            watch = self._nodes.get((pool.name, i))
            if watch is None:
                watch = self._nodes[pool.name, i] = NodeWatch()
            watch.holders[holder] = None
            self._arm(sched, i, watch, horizon)

    def released(self, holder: Job | Notebook) -> None:
        """``holder`` is about to give back its placement."""
        pool = holder.pool.pool
        if isinstance(holder, Job):
            ranks = self._by_rank.get(pool.name)
            if ranks is not None:
                ranks[holder.priority_rank].pop(holder, None)
        for i, _ in holder.placement or ():
            watch = self._nodes.get((pool.name, i))
            if watch is not None:
                watch.holders.pop(holder, None)

    # ---- node failures ----------------------------------------------------------------------
    def _arm(self, sched: PoolScheduler, i: int, watch: NodeWatch, horizon: float) -> None:
        """Schedule the node's next failure if it comes before ``horizon`` (env time)."""
        if watch.armed:
            return
        env = self.engine.env
        if watch.next_fail < env.now:
            watch.next_fail = env.now + self._gap_s(sched.pool, i, watch)
        if watch.next_fail > horizon:
            return
        watch.armed = True
        watch.token += 1
        token = watch.token
        env.timeout(watch.next_fail - env.now).callbacks.append(
            lambda _ev: self._fail(sched, i, watch, token)
        )

    def _gap_s(self, pool: Pool, i: int, watch: NodeWatch) -> float:
        """An exponential gap from the seed, the node and the failure index alone."""
        u = unit_interval(derive_bits(self.engine.seed, "node-failure", pool.name, i, watch.draws))
        watch.draws += 1
        return -math.log1p(-u) * 3600.0 / self.settings.node_failure_rate

    def _fail(self, sched: PoolScheduler, i: int, watch: NodeWatch, token: int) -> None:
        if watch.token != token:
            return
        watch.armed = False
        if watch.holders:  # else idle now: nobody notices
            self._take_down(sched, i, list(watch.holders))

    def fail_node(self, name: str) -> None:
        """Fail the node called ``name`` now, whatever the rate (a test or an operator's fault)."""
        engine = self.engine
        for sched in engine.schedulers.values():
            for i, node in enumerate(sched.pool.nodes):
                if node.name != name:
                    continue
                if node.down:
                    raise Conflict(f"Node {name} is already down")
                holders: list[Job | Notebook] = [
                    j for j in engine.jobs.values() if j.pool is sched and _on(j.placement, i)
                ]
                holders += [
                    b for b in engine.notebooks.values() if b.pool is sched and _on(b.placement, i)
                ]
                self._take_down(sched, i, sorted(holders, key=lambda h: h.seq))
                return
        raise NotFound(f"No node named {name!r}")

    def _take_down(self, sched: PoolScheduler, i: int, holders: list[Job | Notebook]) -> None:
        """Node ``i`` fails now: its holders lose it, and it is down for ``repair_s``."""
        engine = self.engine
        pool = sched.pool
        node = pool.nodes[i].name
        again = []
        for holder in holders:
            if isinstance(holder, Job):
                if engine.node_lost(holder, node):
                    again.append(holder)
            else:
                engine.server_lost(holder)
        engine.deployments.node_lost(pool, i)
        pool.take_down(i)
        engine._after(self.settings.repair_s, self._repaired, (sched, i))
        for job in again:
            sched.submit(job)
        sched.dispatch()
        engine.deployments.dispatch(pool)

    def _repaired(self, arg: tuple[PoolScheduler, int]) -> None:
        sched, i = arg
        sched.pool.bring_up(i)
        sched.dispatch()
        self.engine.deployments.dispatch(sched.pool)

    # ---- preemption -------------------------------------------------------------------------
    def preempt(self, sched: PoolScheduler, req: Request) -> Placement | None:
        """Evict a minimal set of lower-priority jobs that lets ``req`` fit, and place it; None
        (and nothing evicted) if no such set exists or ``req`` may not preempt."""
        ranks = self._by_rank.get(sched.pool.name)
        if ranks is None or (isinstance(req, Ticket) and not self.settings.notebooks_preempt):
            return None
        victims = [
            job
            for rank in range(len(ranks) - 1, req.priority_rank, -1)
            for job in reversed(ranks[rank])
        ]
        pool, n, d = sched.pool, req.n_workers, req.demand
        if not victims or (
            d.gpus and d.gpus * n > pool.free_gpus + sum(j.gpu_count for j in victims)
        ):
            return None
        chosen = self._choose(pool, n, d, victims)
        if not chosen:
            return None
        preemptor = _preemptor(req)
        for job in chosen:
            self.engine.preempted(job, preemptor)
        return pool.place(n, d)

    @staticmethod
    def _choose(pool: Pool, n: int, d: Demand, victims: list[Job]) -> list[Job]:
        """The victims to evict (in eviction order; none if no set of them makes room). The
        pool is left as it was."""
        freed: list[Job] = []
        for job in victims:
            pool.release(job.placement, job.demand)  # type: ignore[arg-type]
            freed.append(job)
            if _fits(pool, n, d):
                break
        else:
            for job in freed:
                pool.hold(job.placement, job.demand)  # type: ignore[arg-type]
            return []
        spared = set()
        for job in reversed(freed):  # the most valuable first: keep it if it is not needed
            pool.hold(job.placement, job.demand)  # type: ignore[arg-type]
            if _fits(pool, n, d):
                spared.add(job)
            else:
                pool.release(job.placement, job.demand)  # type: ignore[arg-type]
        chosen = [job for job in freed if job not in spared]
        for job in chosen:
            pool.hold(job.placement, job.demand)  # type: ignore[arg-type]
        return chosen

    # ---- slow pulls -------------------------------------------------------------------------
    def pull_factor(self, job: Job) -> float:
        """How many times longer this placement's image pull takes (seeded per job and try)."""
        u = unit_interval(derive_bits(self.engine.seed, "slow-pull", job.name, len(job.history)))
        return self.settings.slow_pull_factor if u < self.settings.slow_pull_p else 1.0


def _preemptor(req: Request) -> dict[str, Any]:
    """How a victim lists ``req``: the spec's Preemptor."""
    if isinstance(req, Job):
        return {"id": req.uid, "name": req.name, "priority": req.priority_class, "type": "job"}
    book = req.book  # type: ignore[attr-defined]  # a server waits through its ticket
    return {"id": book.uid, "name": book.name, "priority": NOTEBOOK_PRIORITY, "type": "notebook"}


def _on(placement: Placement | None, i: int) -> bool:
    return placement is not None and any(node == i for node, _ in placement)


def _fits(pool: Pool, n: int, d: Demand) -> bool:
    """Whether ``n`` workers of ``d`` fit now (the pool is left as it was)."""
    plan = pool.place(n, d)
    if plan is None:
        return False
    pool.release(plan, d)
    return True
