"""Replay of a workload on the engine: records become timed actions for ``World.run_batch``.

A job refused by its workspace's GPU quota is resubmitted every ``retry_s`` (default
``QUOTA_RETRY_S``) like users' retry loops (a kill it carries moves with it; ``quota_retries``
counts the refusals, ``quota_delays`` how long each accepted job spent in the loop). Between two
releases of the workspace's GPUs (a job ending, a server going) every try would be refused the
same way, so the loop is not stepped through: a refused job waits for the next release and is
resubmitted at its loop's first tick at or after it, and the refusals it skipped are counted as
if they had happened (a month of 60 s loops is millions of tries). A job larger than the limit
itself would loop forever, so it is refused like a user giving up; one still waiting when the
run ends is counted in ``quota_stuck``. A refused Jupyter Server is an interactive user told no,
counted among the engine's rejections.

A record's job is named by the record (its index in the workload and the seed,
:func:`record_bits`), not by its request's text and instant as the engine names a job submitted
through the API: the name and the pull time drawn from it stay the record's in every
configuration, even when a quota moves the submission (common random numbers, so two
configurations differ by their rules and not by their draws).

Follow-up actions (a notebook session's delete, a user's kill) are queued when their request is
accepted and merged into the arrival stream in time order, follow-ups first at equal times, so
the stream is produced lazily and a million-record workload never exists twice in memory.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

from simulator.deployments import DeploymentSpec
from simulator.engine import Engine
from simulator.errors import OverQuota
from simulator.jobs import JobSpec
from simulator.runtime import OUTCOME_ENV, RUNTIME_ENV
from simulator.workload.model import (
    DEFAULT_SCRIPT,
    DEPLOYMENT,
    FAILURE,
    KILLED,
    NOTEBOOK,
    SUCCESS,
    WorkloadItem,
)

JOB_IMAGE = "cr.ai.cloud.ru/aicloud-base-images/cuda12.1-torch2-py39:0.0.36"
NOTEBOOK_IMAGE = "cr.ai.cloud.ru/aicloud-jupyter/jupyter-server:0.0.95"
SERVING_IMAGE = "cr.ai.cloud.ru/aicloud-base-images/inference-serving:latest"
MOVED_JOB_TYPE = "pytorch2"
QUOTA_RETRY_S = 60.0
NO_EXTRAS: dict[str, Any] = {}  # a replayed spec's flags and params: shared, never written to

Action = Callable[[Engine], Any]


_MASK_128 = (1 << 128) - 1
_SEED_MIX = 0x9E3779B97F4A7C15F39CC0605CEDC835
_INDEX_MIX = 0xD1B54A32D192ED03ABA5F6C9B3E3BF1B  # odd: index -> bits is one-to-one
_MIX_1 = 0xBF58476D1CE4E5B94F7A7E3F0C2A9D1D
_MIX_2 = 0x94D049BB133111EBC4CEB9FE1A85EC53


def record_bits(seed: int, index: int) -> int:
    """The entity bits of the job the ``index``-th record becomes: its name and pull time are
    the record's whatever the configuration, even when a quota moves when it is submitted.
    A xorshift-multiply mix of 128 bits (each step one-to-one, so two records of a run never
    share a name), 0.4 us against blake2b's 0.7: it is paid once per replayed job."""
    x = (seed * _SEED_MIX + (index + 1) * _INDEX_MIX) & _MASK_128
    x = ((x ^ (x >> 67)) * _MIX_1) & _MASK_128
    x = ((x ^ (x >> 59)) * _MIX_2) & _MASK_128
    return x ^ (x >> 71)


def job_env(item: WorkloadItem) -> dict[str, Any]:
    """A job record's run time and outcome, as the env overrides its submission carries."""
    env: dict[str, Any] = {}
    if item.run_s is not None:
        env[RUNTIME_ENV] = item.run_s
    if item.outcome in (SUCCESS, FAILURE):
        env[OUTCOME_ENV] = item.outcome
    return env


def job_spec(item: WorkloadItem) -> JobSpec:
    """The submission a job record stands for (run time and outcome as env overrides)."""
    spec = JobSpec(
        script=item.script or DEFAULT_SCRIPT,
        base_image=JOB_IMAGE,
        instance_type=item.instance_type,
        region=item.region,
        n_workers=item.n_workers,
        priority_class=item.priority or None,
        job_desc=item.name or None,
        env_variables=job_env(item),
        flags=NO_EXTRAS,
        params=NO_EXTRAS,
    )
    if item.job_type:
        spec.type = item.job_type
    return spec


def moved_spec(item: WorkloadItem) -> JobSpec:
    """A notebook session's training as a region job: same GPUs, runs only the active time."""
    return JobSpec(
        script=DEFAULT_SCRIPT,
        base_image=JOB_IMAGE,
        instance_type=item.instance_type,
        region=item.region,
        type=MOVED_JOB_TYPE,
        job_desc=item.name or None,
        env_variables={RUNTIME_ENV: item.active_s, OUTCOME_ENV: SUCCESS},
        flags=NO_EXTRAS,
        params=NO_EXTRAS,
    )


class Replay:
    """One replay of ``items``; remembers which server or job each record became."""

    def __init__(
        self,
        items: Iterable[WorkloadItem],
        jupyter_to_region: bool = False,
        retry_s: float = QUOTA_RETRY_S,
    ) -> None:
        if retry_s <= 0:
            raise ValueError(f"the quota retry interval must be positive, not {retry_s}")
        self.items = items
        self.jupyter_to_region = jupyter_to_region
        self.retry_s = retry_s
        self.sessions: dict[str, WorkloadItem] = {}  # notebook uid -> its session record
        self.moved: set[str] = set()  # names of jobs that were notebook sessions
        self._later: list[tuple[float, int, Action]] = []
        self._seq = 0
        self.quota_retries = 0
        self.quota_delays: dict[str, float] = {}  # job name -> seconds in the retry loop
        # workspace -> (record, its index, first try)
        self._waiting: dict[str, list[tuple[WorkloadItem, int, float]]] = {}

    @property
    def quota_stuck(self) -> int:
        """Jobs still in a retry loop when the run ended (their workspace never freed enough)."""
        return sum(len(w) for w in self._waiting.values())

    def arrivals(self) -> Iterator[tuple[float, Action]]:
        """(seconds from start, action) in time order, for ``World.run_batch``."""
        later = self._later
        for index, item in enumerate(self.items):
            while later and later[0][0] <= item.submit_s:
                t, _, action = heapq.heappop(later)
                yield t, action
            yield item.submit_s, partial(self._start, item, index)
        while later:
            t, _, action = heapq.heappop(later)
            yield t, action

    def _follow_up(self, t: float, action: Action) -> None:
        self._seq += 1
        heapq.heappush(self._later, (t, self._seq, action))

    def _start(self, item: WorkloadItem, index: int, engine: Engine, delay: float = 0.0) -> None:
        """Submit the ``index``-th record (``delay`` seconds after it first tried, if a quota
        refused it until now)."""
        if item.kind == DEPLOYMENT:
            spec = DeploymentSpec(
                region=item.region,
                instance_type=item.instance_type,
                image=SERVING_IMAGE,
                min_replicas=item.min_replicas,
                max_replicas=item.max_replicas,
                daily_rps=item.daily_profile(),
                alias=item.name or None,
            )
            dep = engine.deployments.create(spec, item.workspace)
            self._follow_up(item.submit_s + item.active_s, partial(_undeploy, dep.name))
            return
        if item.kind != NOTEBOOK:
            try:
                job = engine.submit_job(
                    job_spec(item),
                    workspace=item.workspace,
                    author=item.author,
                    bits=record_bits(engine.seed, index),
                )
            except OverQuota:
                if never_fits_quota(item, engine):
                    raise
                self._wait_for_quota(item, index, engine, delay)
                return
            if delay:
                self.quota_delays[job.name] = delay
                self.quota_retries += round(delay / self.retry_s)  # one refusal per earlier tick
            if item.outcome == KILLED and item.kill_s is not None:
                kill = (item.kill_s + delay, partial(_kill, job.name))
                if delay:  # a retry runs outside the arrival stream: the kill must too
                    engine.feed([kill])
                else:
                    self._follow_up(*kill)
            return
        gpus = engine.catalog.instance_type(item.region, item.instance_type).gpus
        if self.jupyter_to_region and gpus:
            job = engine.submit_job(
                moved_spec(item),
                workspace=item.workspace,
                author=item.author,
                bits=record_bits(engine.seed, index),
            )
            self.moved.add(job.name)
            return
        book = engine.create_notebook(
            workspace=item.workspace,
            name=item.name or "jupyter",
            region=item.region,
            instance_type=item.instance_type,
            image=NOTEBOOK_IMAGE,
            author=item.author,
        )
        self.sessions[book.uid] = item
        self._follow_up(item.end_s, partial(_delete, book.uid))

    def _wait_for_quota(
        self, item: WorkloadItem, index: int, engine: Engine, delay: float = 0.0
    ) -> None:
        """The quota refused the record's job (``delay`` seconds after it first tried): it
        tries again once its workspace releases GPUs (see :meth:`_released`)."""
        engine.holdings.released = partial(self._released, engine)
        waiting = self._waiting.setdefault(item.workspace, [])
        waiting.append((item, index, engine.env.now - delay))

    def _released(self, engine: Engine, workspace: str) -> None:
        """The workspace freed GPUs: its waiting jobs try again at their loops' next ticks (in
        the order they began waiting), after whatever is happening now has finished."""
        waiting = self._waiting.pop(workspace, None)
        now = engine.env.now
        for item, index, first in waiting or ():
            ticks = max(1, math.ceil((now - first) / self.retry_s - 1e-9))
            delay = ticks * self.retry_s
            retry = partial(self._start, item, index, delay=delay)
            engine.env.timeout(first + delay - now).callbacks.append(
                lambda _ev, at=first + delay, act=retry: engine.feed([(at, act)])
            )


def never_fits_quota(item: WorkloadItem, engine: Engine) -> bool:
    limit = engine.quotas.limit(item.workspace)
    gpus = engine.catalog.instance_type(item.region, item.instance_type).gpus * item.n_workers
    return limit is not None and gpus > limit


def _kill(name: str, engine: Engine) -> None:
    engine.kill_job(name)


def _undeploy(name: str, engine: Engine) -> None:
    deployments = engine.deployments
    deployments.delete(deployments.get(name))


def _delete(uid: str, engine: Engine) -> None:
    engine.delete_notebook(uid)
