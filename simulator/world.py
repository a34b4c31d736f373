"""The one facade over the engine: a lock, a clock, and lazy catch-up on every call.

Every public method takes the lock, runs the SimPy environment up to the clock's target time
(events due exactly at the target included), then reads or acts. Nothing runs in the background.
Workspace arguments scope what a caller may see: a job or server of another workspace is treated
as not existing.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from simulator import logs, overview
from simulator.ai_services import Marketplace
from simulator.builds import Build
from simulator.changes import Changes
from simulator.clock import LAST_EPOCH, Clock
from simulator.collector import fewer_collections
from simulator.config import SimConfig, load_config
from simulator.deployments import AsyncRequest, Deployment, DeploymentSpec, Prediction
from simulator.engine import Engine
from simulator.errors import NotFound
from simulator.faults import FaultSettings
from simulator.jobs import Job, JobSpec
from simulator.notebooks import Notebook
from simulator.quotas import Quotas
from simulator.registry import Registry
from simulator.runtime import RuntimeModel
from simulator.tenancy import Allocation, Queue
from simulator.transfers import Transfers
from simulator.workspaces import Ending, WorkspaceRecord

P = ParamSpec("P")
R = TypeVar("R")


def synced(method: Callable[P, R]) -> Callable[P, R]:
    """Run ``method`` under the world's lock after catching the engine up to the clock."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        self = args[0]
        with self._lock:  # type: ignore[attr-defined]
            self._sync()  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return wrapper


def command(method: Callable[P, R]) -> Callable[P, R]:
    """A :func:`synced` method that may change the world: waiters on ``changes`` wake after it."""
    inner = synced(method)

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return inner(*args, **kwargs)
        finally:
            args[0].changes.bump()  # type: ignore[attr-defined]

    return wrapper


class World:
    """A simulated ML Space with a clock; safe to share between threads."""

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        seed: int = 0,
        start_epoch: float | None = None,
        clock: str = "manual",
        speed: float = 1.0,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or load_config()
        self.seed = seed
        self.start_epoch = float(int(time.time()) if start_epoch is None else start_epoch)
        self.clock = Clock(clock, speed, wall, limit=LAST_EPOCH - self.start_epoch)
        self._lock = threading.RLock()
        self.changes = Changes()  # bumped when virtual time moves or a command acts
        self.engine = Engine(self.config, seed=seed, start_epoch=self.start_epoch)
        self._models: dict[str, RuntimeModel] = {}
        self._faults: FaultSettings | None = None  # set at run time, kept across resets
        self._quotas: Quotas | None = None  # likewise
        self._pinned: float | None = None  # the instant held by :meth:`instant`

    # ---- time -------------------------------------------------------------------------------
    def _sync(self) -> None:
        self._run_to(self.clock.target() if self._pinned is None else self._pinned)

    @contextmanager
    def instant(self) -> Iterator[float]:
        """Hold the lock and one virtual instant (yielded, as epoch) for a whole request, so
        every read in it sees the same world even on the real-time clock. Moves made inside
        (``advance``, ``run_until_idle``, ``reset``) move the held instant with them."""
        outer = self.hold()
        try:
            yield self.engine.now_epoch()
        finally:
            self.let_go(outer)

    def hold(self) -> float | None:
        """:meth:`instant` without a generator (a server takes one per request): take the lock
        and the instant; give back the returned token to :meth:`let_go`."""
        self._lock.acquire()
        outer = self._pinned
        try:
            self._pinned = None
            self._sync()
        except BaseException:
            self.let_go(outer)
            raise
        self._pinned = self.engine.env.now
        return outer

    def let_go(self, outer: float | None) -> None:
        """End what :meth:`hold` began: the instant held before it, and the lock."""
        self._pinned = outer
        self._lock.release()

    def _run_to(self, t: float) -> None:
        self.engine.run_until(t)

    @synced
    def now_epoch(self) -> float:
        return self.engine.now_epoch()

    @synced
    def clock_info(self) -> dict[str, Any]:
        return self._clock_info()

    def _clock_info(self) -> dict[str, Any]:
        info = {
            "mode": self.clock.mode,
            "speed": self.clock.speed,
            "start_epoch": self.start_epoch,
            "now_epoch": self.engine.now_epoch(),
            "elapsed_s": self.engine.env.now,
            "idle": self.engine.idle(),
            "seed": self.seed,
        }
        if self.clock.stopped:
            info["error"] = (
                "the clock stopped at 9999-12-31T23:59:59Z, the last instant dates can show; "
                "nothing due later will happen (reset to start over)"
            )
        return info

    def advance(self, seconds: float) -> float:
        """Move virtual time forward by ``seconds`` and run everything due; returns now (epoch)."""
        with self._lock:
            self.clock.advance(seconds)
            if self._pinned is not None:
                self._pinned += seconds
            self._sync()
            self.changes.bump()
            return self.engine.now_epoch()

    def run_until_idle(self, max_seconds: float | None = None) -> float:
        """Run until nothing is scheduled (or ``max_seconds`` more have passed); returns now."""
        with self._lock:
            self._sync()
            env = self.engine.env
            limit = env.now + max_seconds if max_seconds is not None else float("inf")
            while not self.engine.idle() and env.peek() <= limit:
                self.engine.step()
            if max_seconds is not None and not self.engine.idle():
                self._run_to(limit)
            self.clock.catch_up_to(env.now)
            if self._pinned is not None:
                self._pinned = env.now
            self.changes.bump()
            return self.engine.now_epoch()

    def reset(self, seed: int | None = None, start_epoch: float | None = None) -> None:
        """A fresh engine (same config, clock mode and speed), optionally with a new seed or
        virtual start."""
        with self._lock:
            if seed is not None:
                self.seed = seed
            if start_epoch is not None:
                self.start_epoch = float(start_epoch)
            self.clock.restart(limit=LAST_EPOCH - self.start_epoch)
            self.engine = Engine(self.config, seed=self.seed, start_epoch=self.start_epoch)
            for name, model in self._models.items():
                self.engine.register_runtime_model(name, model)
            if self._faults is not None:
                self.engine.faults.apply(self._faults)
            if self._quotas is not None:
                self.engine.quotas = self._quotas
            if self._pinned is not None:
                self._pinned = 0.0
            self.changes.bump()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the world's lock across several calls: nobody else sees the steps between."""
        with self._lock:
            yield

    @synced
    def census(self) -> dict[str, int]:
        """How many of each thing a command can make exist (jobs, Jupyter Servers with
        TensorBoards, image builds, user connectors, transfer rules, deployments, registry tags,
        bootstrapped workspaces, marketplace artifacts, bill lines):
        cheap, for checking that a replayed command did what it did the first time. System
        connectors are left out: they appear when first read, not by a command."""
        engine = self.engine
        return {
            "jobs": len(engine.jobs),
            "servers": len(engine.notebooks),
            "builds": sum(map(len, engine.builds.by_workspace.values())),
            "connectors": sum(
                not c.system for mine in engine.transfers.connectors.values() for c in mine.values()
            ),
            "transfers": sum(map(len, engine.transfers.transfers.values())),
            "deployments": len(engine.deployments.items),
            "registry_tags": engine.registry.tag_count(),
            "workspaces": len(engine.workspaces.records),
            "artifacts": len(engine.marketplace.artifacts),
            "bill_lines": len(engine.ledger.lines),
        }

    def register_runtime_model(self, script_name: str, model: RuntimeModel) -> None:
        """Runtime/outcome model for scripts with this file name (kept across resets)."""
        with self._lock:
            self._models[script_name] = model
            self.engine.register_runtime_model(script_name, model)

    # ---- allocations and queues -------------------------------------------------------------
    @synced
    def allocations(self, workspace: str) -> list[Allocation]:
        """The workspace's allocations: one pay-as-you-go allocation per region."""
        return self.engine.tenancy.allocations(workspace)

    @synced
    def queues(self, workspace: str, allocation_id: str | None = None) -> list[Queue]:
        """The workspace's queues (of one allocation); :class:`NotFound` for an unknown id."""
        tenancy = self.engine.tenancy
        alloc = None if allocation_id is None else tenancy.find_allocation(workspace, allocation_id)
        return tenancy.queues(workspace, alloc)

    @synced
    def queue(self, workspace: str, queue_id: str) -> Queue:
        return self.engine.tenancy.queue(workspace, queue_id)

    @synced
    def create_queue(
        self,
        workspace: str,
        allocation_id: str,
        name: str,
        description: str = "",
        gpu_limit: int | None = None,
    ) -> Queue:
        """A custom queue in one of the workspace's allocations; ``gpu_limit`` caps the GPUs its
        placed work may hold at once."""
        queue = self.engine.tenancy.create_queue(
            workspace, allocation_id, name, description, gpu_limit
        )
        self.engine.queue_changed()
        return queue

    @synced
    def update_queue(self, workspace: str, queue_id: str, **changes: Any) -> Queue:
        """Rename, describe or relimit a custom queue (see :meth:`Tenancy.update_queue`)."""
        tenancy = self.engine.tenancy
        queue = tenancy.update_queue(tenancy.queue(workspace, queue_id), **changes)
        self.engine.queue_changed()
        return queue

    @synced
    def delete_queue(self, workspace: str, queue_id: str) -> None:
        tenancy = self.engine.tenancy
        tenancy.delete_queue(tenancy.queue(workspace, queue_id))

    @synced
    def choose_default_queue(
        self, workspace: str, queue_id: str, kind: str, chosen: bool = True
    ) -> Queue:
        """Make a custom queue its allocation's default for ``kind`` ("job" or "notebook")
        work that names no queue; ``chosen=False`` undoes it."""
        queue = self.engine.tenancy.queue(workspace, queue_id)
        self.engine.tenancy.choose_default(queue, kind, chosen)
        return queue

    @synced
    def default_queue(self, workspace: str, allocation_id: str, kind: str) -> Queue:
        """The queue ``kind`` work naming no queue goes to in the allocation."""
        tenancy = self.engine.tenancy
        return tenancy.default_for(tenancy.find_allocation(workspace, allocation_id), kind)

    @synced
    def add_queue_nodes(self, workspace: str, queue_id: str, nodes: list[str]) -> Queue:
        """Dedicate nodes (names as in ``pools_report()``) to a queue of the workspace."""
        queue = self.engine.tenancy.queue(workspace, queue_id)
        return self.engine.add_queue_nodes(queue, nodes)

    # ---- workspaces -------------------------------------------------------------------------
    @command
    def bootstrap_workspace(self, project_id: str, name: str, **fields: Any) -> WorkspaceRecord:
        """A new workspace (see :meth:`Workspaces.bootstrap`), with its pay-as-you-go
        allocations and default queues from now on."""
        rec = self.engine.workspaces.bootstrap(project_id, name, **fields)
        self.engine.tenancy.allocations(rec.id)
        return rec

    @command
    def debootstrap_workspace(self, workspace_id: str, delay_hours: int) -> Ending:
        return self.engine.workspaces.debootstrap(workspace_id, delay_hours)

    @synced
    def workspace_record(self, workspace_id: str) -> WorkspaceRecord | None:
        """How the workspace was bootstrapped (None: it came into being on first use)."""
        return self.engine.workspaces.records.get(workspace_id)

    @synced
    def workspace_ending(self, workspace_id: str) -> Ending | None:
        return self.engine.workspaces.endings.get(workspace_id)

    @synced
    def workspace_status(self, workspace_id: str) -> str:
        return self.engine.workspaces.status(workspace_id)

    # ---- quotas -----------------------------------------------------------------------------
    @synced
    def set_quotas(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change workspace GPU quotas from now on (kept across resets): ``changes`` has the
        config's ``quotas:`` shape, e.g. ``{"workspaces": {"<id>": 4}}`` (null lifts a limit).
        Raises :class:`simulator.quotas.QuotaConfigError` (a ValueError with ``loc`` and
        ``msg``) and changes nothing if a value is refused. Returns the quotas in force."""
        self._quotas = self.engine.set_quotas(changes)
        return self._quotas.to_dict()

    @synced
    def quotas(self) -> dict[str, Any]:
        """The quotas in force, in the config's ``quotas:`` shape."""
        return self.engine.quotas.to_dict()

    @synced
    def workspace_gpus(self, workspace: str) -> dict[str, int | None]:
        """GPUs counted against ``workspace``'s limit now, the limit, and what is free."""
        used = self.engine.holdings.gpus(workspace)
        limit = self.engine.quotas.limit(workspace)
        free = None if limit is None else max(0, limit - used)
        return {"used": used, "limit": limit, "free": free}

    # ---- faults -----------------------------------------------------------------------------
    @command
    def configure_faults(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change node failures, preemption or slow pulls from now on (kept across resets):
        ``changes`` has the config's ``faults:`` shape, e.g. ``{"preemption": {"enabled":
        True}}``. Raises :class:`simulator.faults.FaultConfigError` (a ValueError with ``loc``
        and ``msg``) and changes nothing if a value is refused. Returns the settings in force."""
        self._faults = self.engine.configure_faults(changes)
        return self._faults.to_dict()

    @synced
    def faults(self) -> dict[str, Any]:
        """The fault settings in force, in the config's ``faults:`` shape."""
        return self.engine.faults.settings.to_dict()

    @command
    def fail_node(self, name: str) -> None:
        """Fail the node called ``name`` (as in ``pools_report()``) now, whatever the failure
        rate: its jobs restart or fail, its servers go to error, and it is down for
        ``repair_s``. Raises :class:`NotFound` for an unknown node, :class:`Conflict` if it is
        down."""
        self.engine.faults.fail_node(name)

    # ---- jobs -------------------------------------------------------------------------------
    @command
    def submit_job(
        self, spec: JobSpec | dict[str, Any], *, workspace: str, author: str = ""
    ) -> Job:
        if isinstance(spec, dict):
            spec = JobSpec.from_params(spec)
        return self.engine.submit_job(spec, workspace=workspace, author=author)

    @synced
    def get_job(self, name: str, workspace: str | None = None) -> Job | None:
        job = self.engine.jobs.get(name)
        if job is None or (workspace is not None and job.workspace != workspace):
            return None
        return job

    @synced
    def list_jobs(
        self,
        workspace: str | None = None,
        *,
        region: str | None = None,
        statuses: Iterable[str] | None = None,
    ) -> list[Job]:
        wanted = set(statuses) if statuses else None
        return [
            j
            for j in self.engine.jobs.values()
            if (workspace is None or j.workspace == workspace)
            and (region is None or j.region == region)
            and (wanted is None or j.status in wanted)
        ]

    @command
    def kill_job(self, name: str, workspace: str | None = None) -> Job | None:
        if self.get_job(name, workspace) is None:
            return None
        return self.engine.kill_job(name)

    @command
    def restart_job(self, name: str, workspace: str | None = None) -> Job:
        if self.get_job(name, workspace) is None:
            raise NotFound("not found", error_code=1)
        return self.engine.restart_job(name)

    @synced
    def job_logs(self, job: Job, *, tail: int = 0, timestamps: bool = False) -> list[str]:
        return logs.select(self.engine.job_log_lines(job), tail=tail, timestamps=timestamps)

    @synced
    def job_cost(self, job: Job) -> Decimal:
        return self.engine.job_cost(job)

    # ---- Jupyter Servers and TensorBoards ---------------------------------------------------
    @command
    def create_notebook(self, **kwargs: Any) -> Notebook:
        return self.engine.create_notebook(**kwargs)

    @synced
    def get_notebook(self, uid: str, workspace: str | None = None) -> Notebook | None:
        book = self.engine.notebooks.get(uid)
        if book is None or book.deleted or (workspace is not None and book.workspace != workspace):
            return None
        return book

    @synced
    def list_notebooks(
        self, workspace: str | None = None, kind: str = "notebook"
    ) -> list[Notebook]:
        return [
            b
            for b in self.engine.notebooks.values()
            if not b.deleted and b.kind == kind and (workspace is None or b.workspace == workspace)
        ]

    @command
    def pause_notebook(self, uid: str, final_status: str = "paused") -> Notebook:
        return self.engine.pause_notebook(uid, final_status)

    @command
    def resume_notebook(self, uid: str, region: str, instance_type: str) -> Notebook:
        return self.engine.resume_notebook(uid, region, instance_type)

    @command
    def set_notebook_timer(
        self, uid: str, seconds: float | None, final_status: str = "paused_by_timer"
    ) -> None:
        """Autoshutdown by timer: pause ``seconds`` after each start; None withdraws it."""
        self.engine.set_notebook_timer(uid, seconds, final_status)

    @command
    def delete_notebook(self, uid: str) -> Notebook:
        return self.engine.delete_notebook(uid)

    @synced
    def notebook_cost(self, book: Notebook) -> Decimal:
        return self.engine.notebook_cost(book)

    # ---- image builds -------------------------------------------------------------------------
    @synced
    def start_build(
        self, workspace: str, from_image: str, requirements: str, image: str | None = None
    ) -> Build:
        """Build ``from_image`` plus ``pip install -r`` of ``requirements`` (the file's text),
        pushed as ``image`` in the workspace's registry when given."""
        return self.engine.builds.start(workspace, from_image, requirements, image)

    @synced
    def get_build(self, workspace: str, name: str) -> Build | None:
        return self.engine.builds.get(workspace, name)

    @synced
    def list_builds(self, workspace: str) -> list[Build]:
        return self.engine.builds.listing(workspace)

    @synced
    def cancel_build(self, workspace: str, name: str) -> Build | None:
        """Cancel a build that has not finished (a finished one keeps its outcome); None if the
        workspace has no such build."""
        build = self.engine.builds.get(workspace, name)
        if build is not None:
            self.engine.builds.cancel(build)
        return build

    @synced
    def built_images(self, workspace: str) -> list[str]:
        """The workspace's custom images: destinations of its successful builds."""
        return self.engine.builds.images(workspace)

    @synced
    def docker_registry(self) -> Registry:
        """Every workspace's Docker registry, caught up to now: builds that succeeded by now
        have pushed their images."""
        return self.engine.registry

    @synced
    def marketplace(self) -> Marketplace:
        """AI Services: every workspace's artifacts and their moderation."""
        return self.engine.marketplace

    # ---- inference deployments ---------------------------------------------------------------
    @synced
    def create_deployment(
        self, spec: DeploymentSpec | dict[str, Any], *, workspace: str
    ) -> Deployment:
        """Deploy (raises :class:`Refused` for an unknown region/type or bad replica bounds)."""
        if isinstance(spec, dict):
            spec = DeploymentSpec(**spec)
        return self.engine.deployments.create(spec, workspace)

    @synced
    def get_deployment(self, name: str, workspace: str | None = None) -> Deployment:
        """The live deployment ``name``; :class:`NotFound` if deleted or another workspace's."""
        return self.engine.deployments.get(name, workspace)

    @synced
    def list_deployments(self, workspace: str | None = None) -> list[Deployment]:
        return self.engine.deployments.listing(workspace)

    @synced
    def update_deployment(
        self,
        name: str,
        workspace: str | None = None,
        *,
        min_replicas: int | None = None,
        max_replicas: int | None = None,
        image: str | None = None,
        alias: str | None = None,
        description: str | None = None,
    ) -> Deployment:
        deps = self.engine.deployments
        return deps.update(
            deps.get(name, workspace),
            min_replicas=min_replicas,
            max_replicas=max_replicas,
            image=image,
            alias=alias,
            description=description,
        )

    @synced
    def delete_deployment(self, name: str, workspace: str | None = None) -> Deployment:
        deps = self.engine.deployments
        return deps.delete(deps.get(name, workspace))

    @synced
    def predict(self, name: str, model: str, body: Any, workspace: str | None = None) -> Prediction:
        """A deterministic answer and its virtual latency; counts as load on the deployment."""
        deps = self.engine.deployments
        return deps.predict(deps.get(name, workspace), model, body)

    @synced
    def deployment_cost(self, dep: Deployment) -> Decimal:
        return self.engine.deployments.cost(dep)

    @synced
    def submit_async(
        self, workspace: str, region: str, name: str, path: str, body: Any
    ) -> AsyncRequest:
        return self.engine.async_requests.submit(workspace, region, name, path, body)

    @synced
    def submit_hosted(self, workspace: str, model: str, body: Any) -> AsyncRequest:
        """An asynchronous request to a platform-hosted model (DALL-E)."""
        return self.engine.async_requests.submit_hosted(workspace, model, body)

    @synced
    def async_request(self, request_id: str, workspace: str | None = None) -> AsyncRequest:
        return self.engine.async_requests.get(request_id, workspace)

    @synced
    def async_result(self, request_id: str, workspace: str | None = None) -> dict[str, Any]:
        """The answer once processed; :class:`Conflict` while still pending."""
        return self.engine.async_requests.result(request_id, self.engine.now_epoch(), workspace)

    @synced
    def list_async(self, workspace: str | None = None) -> list[AsyncRequest]:
        return self.engine.async_requests.listing(workspace)

    # ---- data transfers -----------------------------------------------------------------------
    @synced
    def data_transfers(self) -> Transfers:
        """Connectors and transfer rules of every workspace, caught up to now: runs due by now
        have started (each at its own instant) and the ones in flight are engine processes."""
        return self.engine.transfers

    # ---- reports ----------------------------------------------------------------------------
    @synced
    def pools_report(self) -> list[dict[str, Any]]:
        return self.engine.pools_report()

    @synced
    def pending(self) -> list[Any]:
        """Jobs and servers waiting for capacity, in launch order per pool."""
        return self.engine.pending()

    @synced
    def overview(
        self, *, workspace: str | None = None, region: str | None = None
    ) -> dict[str, Any]:
        """What the web console shows, all read at one instant (see :mod:`simulator.overview`);
        ``workspace`` and ``region`` narrow its list of work."""
        picture = overview.snapshot(self.engine, workspace=workspace, region=region)
        return {"clock": self._clock_info(), **picture}

    @synced
    def billing_report(self, workspace: str | None = None) -> dict[str, Any]:
        return self.engine.billing_report(workspace)

    # ---- batch ------------------------------------------------------------------------------
    def run_batch(self, arrivals: Iterable[tuple[float, Callable[[Engine], Any]]]) -> Engine:
        """Batch mode: feed timed actions and run the engine to the end, ignoring the clock
        (deployments' load profiles change on the way, as in :meth:`run_until_idle`)."""
        with self._lock, fewer_collections():
            engine = self.engine
            engine.feed(arrivals)
            engine.run_to_end()
            self.clock.catch_up_to(self.engine.env.now)
            return self.engine
