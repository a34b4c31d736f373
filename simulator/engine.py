"""The SimPy engine: capacity, queues, job and Jupyter Server lifecycles, billing.

Everything happens at the environment's current time; the :class:`~simulator.world.World`
decides what "now" is (manual or real-time clock) and guards the engine with a lock. Lifecycle
steps are SimPy timeouts with callbacks (a job's are :class:`Step`, the same queue entry
without an Event); a step that finds the job's token moved on (it ended, or restarted after a
node failure) does nothing, which is how a kill cancels whatever was scheduled for the job.
Faults (node failures, preemption, slow pulls) live in :mod:`simulator.fault_injection` and
cost one ``is None`` test per step while they are off.
"""

from __future__ import annotations

import contextlib
import math
import random
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from hashlib import blake2b
from heapq import heappush
from typing import Any, Protocol

import simpy
from simpy.events import NORMAL

from simulator import logs
from simulator.ai_services import Marketplace
from simulator.billing import ZERO, Ledger
from simulator.builds import Builds
from simulator.catalog import InstanceType
from simulator.config import SimConfig
from simulator.deployments import AsyncRequests, Deployments
from simulator.errors import Conflict, NotFound, Refused, Rejected
from simulator.fault_injection import FaultInjector
from simulator.faults import FaultSettings, parse_faults
from simulator.jobs import (
    COMPLETED,
    DELETED,
    FAILED,
    JOB_TYPES,
    NODE_FAILURE,
    RESTARTING,
    RUNNING,
    SUCCEEDED,
    TERMINATED,
    Attempt,
    Job,
    JobShape,
    JobSpec,
)
from simulator.notebooks import Notebook, Ticket
from simulator.pools import Demand, Placement, Pool, build_pools
from simulator.quotas import Holdings, Quotas, parse_quotas
from simulator.randomness import instant_text, stream, unit_interval, uuid4_str
from simulator.registry import Registry
from simulator.runtime import BAD_SCRIPT, RuntimeModel, RuntimeModels, check_overrides
from simulator.scheduler import PRIORITY_RANK, PoolScheduler
from simulator.server_lifecycle import ServerLifecycle
from simulator.tenancy import Queue, Tenancy
from simulator.transfers import Transfers
from simulator.workspaces import Workspaces

DEFAULT_PRIORITY = "medium"
RETRY_TYPES = frozenset({"horovod", "torchrun", "pytorch2", "pytorch", "binary"})  # max_retry
MAX_RETRY = 100  # the spec's upper bound for max_retry


class Step:
    """What ``env.timeout(delay, value)`` with one callback puts in SimPy's queue, without the
    Event machinery: made, it is queued where that timeout would go (the same time, priority
    and next event id, so events keep their order; a delay under 0 counts as 0).
    ``Environment.step`` reads only ``callbacks`` and ``_ok`` of what it pops, and the callback
    reads ``value``. Relies on simpy 4.1's private ``_queue``, ``_eid`` and ``_now`` (pinned in
    pyproject.toml; tests/unit/test_determinism.py guards them); the per-job paths read
    ``env._now`` too, instead of the ``now`` property."""

    __slots__ = ("callbacks", "value")
    _ok = True

    def __init__(
        self, env: simpy.Environment, delay: float, value: Any, callback: Callable[[Any], None]
    ) -> None:
        self.value = value
        self.callbacks: tuple[Callable[[Any], None], ...] | None = (callback,)
        at = env._now + (delay if delay > 0.0 else 0.0)
        heappush(env._queue, (at, NORMAL, next(env._eid), self))


class PlacedBySelf(Protocol):
    """A request of a batch replay's own (``simulator.whatif.lean``): queued and placed like a
    job; ``placed(request)`` is told when it is placed."""

    n_workers: int
    demand: Demand
    queue: Any
    placement: Placement | None
    placed: Callable[[Any], None]


class Engine(ServerLifecycle):
    """One simulated ML Space: build it, submit to it, and let ``env`` run."""

    def __init__(self, config: SimConfig, *, seed: int = 0, start_epoch: float = 0.0) -> None:
        self.config = config
        self.seed = seed
        self.start_epoch = float(start_epoch)
        self.env = simpy.Environment()
        self.catalog = config.catalog
        self.prices = config.prices
        self.ledger = Ledger(config.tariff, self.prices.currency, self.prices.illustrative)
        placement = config.scheduler.get("placement", "best_fit")
        backfill = bool(config.scheduler.get("backfill", False))
        self.pools: list[Pool] = build_pools(
            config.pools + config.inference.get("pools", []), placement
        )
        self.schedulers = {p.name: PoolScheduler(p, self._placed, backfill) for p in self.pools}
        t = config.timings
        self.runtime = RuntimeModels(config.runtime, float(t["bad_script_fail_s"]))
        self._bad_script_min = float(t["bad_script_fail_s"])
        self._bad_script_after = float(t["bad_script_fail_after_placement_s"])
        self._pull = tuple(float(x) for x in t["image_pull_s"])
        self._banner_s = float(t["banner_s"])
        self._mpi_startup = self._banner_s + float(t["worker_wait_s"])
        self._rendezvous = float(t["elastic_rendezvous_s"])
        self._nb_start = tuple(float(x) for x in t["notebook_start_s"])
        self._nb_pause = float(t["notebook_pause_s"])
        self.max_job_gpus = int(config.limits["max_job_gpus"])
        self.max_notebook_gpus = int(config.limits["max_notebook_gpus"])
        self.jobs: dict[str, Job] = {}
        self.ended: Callable[[Job], None] | None = None  # a batch run's meter, told of each end
        self.notebooks: dict[str, Notebook] = {}
        self._identical_at = ""
        self._identical: dict[str, int] = {}  # requests alike at this instant, by content
        self._routes: dict[tuple[str, str], tuple[InstanceType, PoolScheduler]] = {}
        self._shapes: dict[tuple[Any, ...], JobShape] = {}
        self._seq = 0
        self.rejected: list[tuple[float, str, str]] = []  # batch mode: (t, reason, value)
        self._prices: dict[tuple[InstanceType, int], Decimal] = {}
        self._watch: FaultInjector | None = None  # set while someone must know who holds what
        self._slow_pulls = False
        self.faults = FaultInjector(self)
        self.faults.apply(parse_faults(config.faults))
        self.registry = Registry(seed, self.start_epoch, self.now_epoch)
        self.builds = Builds(self.env, seed, self.now_epoch, self.registry.push_build)
        self.transfers = Transfers(self.env, seed, self.start_epoch, self.now_epoch)
        self._wake: simpy.Event | None = None  # set while a batch run goes at full speed
        self._on_running, self._on_ended = self._job_running, self._job_ended  # bound once
        self._job_rng = self._job_stream
        self.deployments = Deployments(self)
        self.async_requests = AsyncRequests(self.deployments)
        self.quotas = config.quotas
        self.holdings = Holdings()
        self.tenancy = Tenancy(self.catalog)
        self.workspaces = Workspaces(seed, self.now_epoch)
        self.marketplace = Marketplace(seed, self.now_epoch)

    # ---- time -------------------------------------------------------------------------------
    def now_epoch(self) -> float:
        return self.start_epoch + self.env.now

    def run_until(self, t: float) -> None:
        """Run everything due by ``t`` (seconds since start), events due exactly at ``t``
        included; transfer runs start, and deployments' load profiles change, at their own
        due instants on the way (calendars, not events, so they never keep the engine busy)."""
        if self.transfers.transfers:
            self.transfers.skip_missed(self.start_epoch + t)
        while True:
            runs, loads = self._calendars()
            due = min(runs, loads)
            if due - self.start_epoch > t:
                break
            self._run_through(due - self.start_epoch)
            if runs <= due:
                self.transfers.start_due(due)
            if loads <= due:
                self.deployments.start_due(due)
        self._run_through(t)

    def _calendars(self) -> tuple[float, float]:
        """Epochs of the next transfer run and of the next change of a deployment's load
        (without rules or deployments nothing is looked at: a request catches up several
        times)."""
        runs = self.transfers.next_due() if self.transfers.transfers else math.inf
        loads = self.deployments.next_due() if self.deployments.items else math.inf
        return runs, loads

    def _run_through(self, t: float) -> None:
        env = self.env
        if t > env.now:
            env.run(until=t)
        while env.peek() <= t:
            env.step()

    def run_to_end(self) -> None:
        """Batch mode: run until nothing is scheduled. Without calendar entries SimPy runs at
        full speed; a deployment given a load profile wakes it (:meth:`wake`) so the rest
        steps through the calendar."""
        env = self.env
        while not self.idle():
            if min(self._calendars()) < math.inf:
                self.step()
                continue
            self._wake = env.event()
            with contextlib.suppress(RuntimeError):  # the queue emptied without a wake-up
                env.run(until=self._wake)
            self._wake = None

    def wake(self) -> None:
        """A calendar entry appeared: stop a fast batch run so it is consulted."""
        if self._wake is not None and not self._wake.triggered:
            self._wake.succeed()

    def step(self) -> None:
        """The next thing that happens: an event, or a transfer run falling due before it."""
        due = min(self._calendars())
        if due - self.start_epoch <= self.env.peek():
            self.run_until(due - self.start_epoch)
            return
        self.env.step()

    def _after(self, delay: float, step: Callable[[Any], None], target: Any) -> None:
        self.env.timeout(delay if delay > 0.0 else 0.0).callbacks.append(lambda _ev: step(target))

    def _entity_bits(self, request: str) -> int:
        """128 random bits for a new entity, from the seed and the request alone (its kind,
        workspace and content as text), the virtual instant, and how many identical requests
        came at that instant. So no other request can change an entity's name, timings, run
        time or logs."""
        now = self.env._now
        stamp = instant_text(now)  # the text of round(now, 6)
        # the same instant however the clock got there (an int clock's 5 is 5.0)
        instant = stamp if type(now) is float else instant_text(float(now))
        if instant != self._identical_at:
            self._identical_at, self._identical = instant, {}
        self._identical[request] = nth = self._identical.get(request, 0) + 1
        text = f"{self.seed}\x1f{stamp}\x1f{nth}\x1f{request}".encode()
        return int.from_bytes(blake2b(text, digest_size=16).digest(), "big")

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # ---- capacity ---------------------------------------------------------------------------
    def _scheduler_for(self, kind: str, region: str, itype: InstanceType) -> PoolScheduler:
        for pool in self.pools:
            if pool.matches(kind, region, itype):
                return self.schedulers[pool.name]
        what = "GPU" if itype.gpus else "CPU"
        raise Refused(
            f"No {what} capacity serves {kind}s of {itype.key!r} in region={region}",
            reason=f"no {what} pool serves the region",
            value=f"{itype.key} in {region}",
        )

    def _placed(self, req: Job | Ticket | PlacedBySelf, plan: Placement) -> None:
        req.placement = plan
        req.queue.held_gpus += req.n_workers * req.demand.gpus
        if isinstance(req, Job):
            self._job_placed(req)
            if self._watch is not None:
                self._watch.placed(req)
        elif isinstance(req, Ticket):
            self._ticket_placed(req)
            if self._watch is not None:
                self._watch.placed(req.book)
        else:
            req.placed(req)

    def _free(self, holder: Job | Notebook) -> None:
        """Give back what ``holder`` holds, without letting its queue move yet."""
        if self._watch is not None:
            self._watch.released(holder)
        holder.queue.held_gpus -= holder.n_workers * holder.demand.gpus
        holder.pool.pool.release(holder.placement, holder.demand)
        holder.placement = None

    def _release(self, job: Job) -> None:
        """Give back ``job``'s capacity, or drop it from its queue, and let the queue move."""
        if job.placement is not None:
            self._free(job)
            job.pool.dispatch()
        elif not job.cancelled:
            job.pool.cancel(job)

    # ---- jobs -------------------------------------------------------------------------------
    def register_runtime_model(self, script_name: str, model: RuntimeModel) -> None:
        self.runtime.register(script_name, model)

    def _route(self, region: str, key: str) -> tuple[InstanceType, PoolScheduler]:
        """The instance type and the queue of a (region, type) pair, looked up once."""
        route = self._routes.get((region, key))
        if route is None:
            itype = self.catalog.instance_type(region, key)
            route = self._routes[region, key] = (itype, self._scheduler_for("job", region, itype))
        return route

    def _validate_job(self, spec: JobSpec) -> JobShape:
        """A shape (region, type, job type, workers, priority) that passed once passes again
        (those checks read only static limits): then only the env overrides are checked. The
        key holds the types of workers and priority too: 1 and True are equal keys but make
        different names."""
        workers, priority = spec.n_workers, spec.priority_class
        key = (
            spec.region,
            spec.instance_type,
            spec.type,
            workers,
            type(workers),
            priority,
            type(priority),
        )
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = self._check_shape(spec)
        elif spec.env_variables:
            check_overrides(spec.env_variables)
        return shape

    def _check_shape(self, spec: JobSpec) -> JobShape:
        itype, sched = self._route(spec.region, spec.instance_type)
        if spec.type not in JOB_TYPES:
            raise Refused(
                f"Unknown job type={spec.type!r}", reason="unknown job type", value=spec.type
            )
        if spec.n_workers < 1:
            raise Refused(
                "n_workers must be a positive integer",
                reason="n_workers below 1",
                value=spec.n_workers,
            )
        priority = spec.priority_class or DEFAULT_PRIORITY
        if priority not in PRIORITY_RANK:
            raise Refused(
                f"Unknown priority_class={priority!r}",
                reason="unknown priority class",
                value=priority,
            )
        if spec.env_variables:
            check_overrides(spec.env_variables)
        gpus = spec.n_workers * itype.gpus
        if gpus > self.max_job_gpus:
            raise Refused(
                f"The job asks for {gpus} GPUs; a training job may use at most "
                f"{self.max_job_gpus} GPUs",
                reason=f"over the {self.max_job_gpus}-GPU job ceiling",
                value=f"{gpus} GPUs",
            )
        if not sched.pool.can_ever_fit(spec.n_workers, Demand.of(itype)):
            raise Refused(
                f"{spec.n_workers} x {itype.key} ({gpus} GPUs) can never fit in pool "
                f"{sched.pool.name!r} of region={spec.region} ({sched.pool.total_gpus} GPUs)",
                reason=f"never fits pool {sched.pool.name} ({sched.pool.total_gpus} GPUs)",
                value=f"{spec.n_workers} x {itype.key}",
            )
        text = (
            f"\x1f{spec.instance_type}\x1f{spec.region}\x1f{spec.type}\x1f{spec.n_workers}"
            f"\x1f{spec.priority_class}"
        )
        # containers started -> Running: the MPI launcher's banner and ~15 s worker wait, or
        # the torch elastic rendezvous (no banner, no worker wait) for pytorch_elastic
        startup = self._rendezvous if spec.type == "pytorch_elastic" else self._mpi_startup
        rank = PRIORITY_RANK[priority]
        return JobShape(itype, priority, rank, sched, spec.n_workers, text, startup)

    def submit_job(
        self, spec: JobSpec, *, workspace: str, author: str = "", bits: int | None = None
    ) -> Job:
        """Accept a job (or raise :class:`Refused`) and queue it; it may be placed at once.
        ``bits`` name it (and draw its pull time) instead of the request's entity bits: a
        replay passes its record's, so the record's job is the same in every configuration."""
        shape = self._validate_job(spec)
        itype, sched = shape.itype, shape.sched
        params = spec.params
        queue = self.tenancy.resolve(
            workspace, spec.region, params.get("allocation_name"), params.get("queue_name")
        )
        if queue.gpu_limit is not None or sched.pool.dedicated:  # else the shape's check holds
            self.check_queue_fit(queue, sched, spec.n_workers, itype)
        if self.quotas.any:
            self.holdings.check(self.quotas, workspace, shape.gpu_count)
        if bits is None:
            bits = self._entity_bits(
                f"job\x1f{workspace}\x1f{spec.script}\x1f{spec.base_image}{shape.text}"
                f"\x1f{spec.env_variables}"
            )
        name = f"lm-mpi-job-{uuid4_str(bits)}"
        self._seq += 1  # _next_seq, inline on the per-job path
        job = Job(
            name,
            bits,
            self._seq,
            workspace,
            author,
            spec,
            shape,
            self.start_epoch + self.env._now,
        )
        job.start_at = self._pull_s(bits)  # the pull time, until placed
        job.plan = self.runtime.plan(job, self._job_rng)
        self.jobs[name] = job
        self.holdings.job_started(job)
        job.queue = queue
        queue.members += 1
        job.pool = sched
        sched.submit(job)
        return job

    def _job_stream(self, job: Job) -> random.Random:
        """The random stream of ``job``'s run (made only when its plan needs a draw)."""
        return stream(self.seed, "job", job.name)

    def _pull_s(self, bits: int) -> float:
        """Placement -> containers started (one draw per job, from its bits, the same for each
        attempt)."""
        lo, hi = self._pull
        return lo + (hi - lo) * unit_interval(bits >> 64)

    def _job_placed(self, job: Job) -> None:
        now = self.start_epoch + self.env._now
        job.placed_at = now
        pull = job.start_at
        if self._slow_pulls:
            pull *= self.faults.pull_factor(job)
        job.start_at = now + pull
        job.ready_at = job.start_at + job.startup_s
        Step(self.env, job.ready_at - now, (job, job.token), self._on_running)

    def _bad_script_run_s(self, job: Job, running_at: float) -> float:
        """A bad script fails a set time after placement, but only once Running."""
        return max(self._bad_script_min, job.placed_at + self._bad_script_after - running_at)

    def planned_end(self, job: Job) -> float:
        """When the placed ``job`` will end if nothing stops it (epoch seconds)."""
        if job.plan.reason == BAD_SCRIPT:
            return job.ready_at + self._bad_script_run_s(job, job.ready_at)
        return job.ready_at + job.plan.runtime_s

    def _job_running(self, event: Step) -> None:
        step = event.value
        job, token = step
        if job.token != token:  # ended or restarted since this step was scheduled
            return
        now = self.start_epoch + self.env._now
        job.status, job.running_at, job.updated_at = RUNNING, now, now
        itype, workers = job.itype, job.n_workers
        job.line = self.ledger.open(
            workspace=job.workspace,
            kind="job",
            item=job.name,
            region=job.spec.region,
            instance_type=itype.key,
            workers=workers,
            price_per_hour=self._job_price(itype, workers),
            start=now,
        )
        plan = job.plan
        if plan.reason == BAD_SCRIPT:
            plan = job.plan = plan._replace(runtime_s=self._bad_script_run_s(job, now))
        Step(self.env, plan.runtime_s, step, self._on_ended)

    def _job_price(self, itype: InstanceType, workers: int) -> Decimal:
        """Price per hour of ``workers`` x ``itype``, shared between lines (one Decimal each)."""
        price = self._prices.get((itype, workers))
        if price is None:
            price = self._prices[itype, workers] = self.prices.worker_hour(itype) * workers
        return price

    def _job_ended(self, event: Step) -> None:
        job, token = event.value
        if job.token != token:
            return
        if job.plan.success:
            status = SUCCEEDED if job.cpu_only else COMPLETED
        else:
            status, job.fail_reason = FAILED, job.plan.reason
        self._end(job, status, self.start_epoch + self.env._now)  # _finish, inline
        self._release(job)

    def _end(self, job: Job, status: str, now: float) -> None:
        """Mark ``job`` ended now and stop its meter and scheduled steps (not its capacity)."""
        job.status, job.completed_at, job.updated_at = status, now, now
        job.token += 1
        self.holdings.job_ended(job)
        job.queue.members -= 1
        if job.line is not None:
            self.ledger.close(job.line, now)
        if self.ended is not None:
            self.ended(job)

    def _finish(self, job: Job, status: str) -> None:
        self._end(job, status, self.start_epoch + self.env._now)
        self._release(job)

    # ---- allocations and queues -------------------------------------------------------------
    def check_queue_fit(
        self, queue: Queue, sched: PoolScheduler, n_workers: int, itype: InstanceType
    ) -> None:
        """Refuse work that its queue's GPU limit or nodes could never let run."""
        gpus = n_workers * itype.gpus
        if queue.gpu_limit is not None and gpus > queue.gpu_limit:
            raise Refused(
                f"{gpus} GPUs can never run in queue {queue.name} (limit {queue.gpu_limit} GPUs)"
            )
        pool = sched.pool
        if not pool.fits_ever_on(n_workers, Demand.of(itype), pool.allowed(queue)):
            raise Refused(
                f"{n_workers} x {itype.key} can never fit on the nodes queue {queue.name} may use"
            )

    def queue_changed(self) -> None:
        """A queue got a limit, nodes or a new limit: apply queue rules and let work move."""
        for sched in self.schedulers.values():
            sched.gated = sched.gated or any(q.constrained for q in self.tenancy.all_queues())
            sched.dispatch()

    def add_queue_nodes(self, queue: Queue, names: list[str]) -> Queue:
        """Dedicate the nodes called ``names`` to ``queue`` (all or none): its work runs only
        there and no other queue's new work lands there; work already there runs on."""
        found = []
        for name in names:
            hit = next(((p, p.index[name]) for p in self.pools if name in p.index), None)
            if hit is None:
                raise NotFound(f"Node {name} not found")
            pool, i = hit
            if pool.regions and queue.region not in pool.regions:
                raise Refused(f"Node {name} does not serve region {queue.region}")
            owner = pool.dedicated.get(i)
            if owner is not None and owner is not queue:
                raise Conflict(f"Node {name} already belongs to queue {owner.name}")
            found.append((pool, i, name))
        for pool, i, name in found:
            pool.dedicate(i, queue)
            if name not in queue.nodes:
                queue.nodes += (name,)
        self.queue_changed()
        return queue

    # ---- quotas -----------------------------------------------------------------------------
    def set_quotas(self, changes: dict[str, Any]) -> Quotas:
        """Merge ``changes`` (the ``quotas:`` config shape) into the quotas in force, from now
        on: work already accepted keeps running even if it is now over the limit."""
        self.quotas = parse_quotas(changes, self.quotas)
        return self.quotas

    # ---- faults -----------------------------------------------------------------------------
    def configure_faults(self, changes: dict[str, Any]) -> FaultSettings:
        """Merge ``changes`` (the ``faults:`` config shape) into the fault settings in force."""
        self.faults.apply(parse_faults(changes, self.faults.settings))
        return self.faults.settings

    def preempted(self, job: Job, preemptor: dict[str, Any]) -> None:
        """``job`` was evicted to make room for ``preemptor``: it ends Terminated, and its
        capacity is free for the preemptor (the queue does not move: the caller places it)."""
        self._end(job, TERMINATED, self.now_epoch())
        job.preemptors = (preemptor,)
        self._free(job)

    def node_lost(self, job: Job, node: str) -> bool:
        """``job`` had workers on a node that failed: its run is lost and its capacity freed
        (the queue does not move yet). True when it restarts (``max_retry`` allows it; the
        caller queues it again), else it ends Failed."""
        now = self.now_epoch()
        self._free(job)
        if not self._may_retry(job):
            self._end(job, FAILED, now)
            job.fail_reason, job.fault_node = NODE_FAILURE, node
            return False
        if job.line is not None:
            self.ledger.close(job.line, now)
        attempt = Attempt(
            job.placed_at, job.start_at, job.ready_at, job.running_at, now, node, job.line
        )
        job.history += (attempt,)
        job.token += 1
        job.status, job.updated_at, job.line = RESTARTING, now, None
        job.placed_at = job.ready_at = job.running_at = 0.0
        job.start_at = self._pull_s(job.bits)
        return True

    @staticmethod
    def _may_retry(job: Job) -> bool:
        limit = job.spec.params.get("max_retry")
        if job.spec.type not in RETRY_TYPES or not isinstance(limit, int):
            return False
        return len(job.history) < min(limit, MAX_RETRY)

    def kill_job(self, name: str) -> Job | None:
        """Delete a job at any moment: it ends Deleted, its capacity and meter stop now."""
        job = self.jobs.get(name)
        if job is not None and not job.terminal:
            self._finish(job, DELETED)
        return job

    def restart_job(self, name: str) -> Job:
        """A new job with the same parameters (the old one is left as it is)."""
        old = self.jobs.get(name)
        if old is None:
            raise NotFound("not found", error_code=1)
        job = self.submit_job(
            JobSpec.from_params(old.spec.params) if old.spec.params else old.spec,
            workspace=old.workspace,
            author=old.author,
        )
        job.restarted_from = name
        return job

    def job_cost(self, job: Job) -> Decimal:
        """What the job cost so far, over every attempt."""
        now, tariff = self.now_epoch(), self.ledger.tariff
        lines = [a.line for a in job.history if a.line is not None]
        if job.line is not None:
            lines.append(job.line)
        return sum((line.cost(now, tariff) for line in lines), ZERO)

    def job_log_lines(self, job: Job) -> list[tuple[float, str]]:
        """Every log line visible now, as (epoch, text), oldest first."""
        return logs.render(job, self.now_epoch(), self.seed, self._banner_s)

    # ---- reports ----------------------------------------------------------------------------
    def pools_report(self) -> list[dict[str, Any]]:
        out = []
        for pool in self.pools:
            rep = pool.report()
            rep["waiting"] = self.schedulers[pool.name].waiting + self.deployments.queued(pool)
            out.append(rep)
        return out

    def pending(self) -> list[Any]:
        """Every request waiting for capacity (jobs and servers), pool by pool, in launch order."""
        return [
            getattr(req, "book", req)  # a server waits through its ticket
            for sched in self.schedulers.values()
            for req in sched.pending()
        ]

    def billing_report(self, workspace: str | None = None) -> dict[str, Any]:
        return self.ledger.report(self.now_epoch(), workspace)

    def idle(self) -> bool:
        """No scheduled event is left: nothing will change until someone asks."""
        return self.env.peek() == float("inf")

    # ---- batch ------------------------------------------------------------------------------
    def feed(self, arrivals: Iterable[tuple[float, Callable[[Engine], Any]]]) -> None:
        """Run each ``action(engine)`` at its virtual time (seconds from start), in order.

        One pending timeout at a time, chained by callbacks: cheaper than a process per
        arrival or a generator resumed per arrival, and it holds no more than one event."""
        self._next_arrival(iter(arrivals))

    def _next_arrival(self, arrivals: Iterator[tuple[float, Callable[[Engine], Any]]]) -> None:
        env = self.env
        for t, action in arrivals:
            now = env._now
            if t > now:
                Step(env, t - now, (action, arrivals), self._arrive)
                return
            self._act(action)

    def _arrive(self, event: Step) -> None:
        action, arrivals = event.value
        self._act(action)
        self._next_arrival(arrivals)

    def _act(self, action: Callable[[Engine], Any]) -> None:
        try:
            action(self)
        except Rejected as exc:
            self.rejected.append((self.env.now, exc.reason, exc.value))
