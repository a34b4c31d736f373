"""Job logs rendered on demand from the job's timeline and seed, in the platform's format.

Nothing is stored: each call rebuilds the lines from (seed, job name, timestamps, plan), so a
world of 100k jobs holds no log text, and the same job always renders the same bytes. Only lines
whose virtual time has passed are returned; a killed job's log stops where it was killed. A job
restarted after a node failure shows each lost run, cut where its node failed, then the next; a
job that a fault ended says so last. The platform's own lines (banner, worker wait, rank tags,
launcher verdicts) are built here; the script's lines come from its framework's template
(:mod:`simulator.script_logs`).
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from simulator import script_logs
from simulator.jobs import NODE_FAILURE, TERMINATED
from simulator.randomness import stream
from simulator.runtime import BAD_SCRIPT

if TYPE_CHECKING:
    from simulator.jobs import Job

Line = tuple[float, str]

UNTAGGED_TYPES = frozenset({"horovod", "cce", "pytorch_elastic"})
SAME_INSTANT = 1e-6  # seconds: well above an epoch's ulp, far below any gap between two lines


def format_ts(epoch: float) -> str:
    """RFC 3339 UTC with nanoseconds, trailing zeros trimmed as Go's RFC3339Nano does."""
    secs = math.floor(epoch)
    frac = round((epoch - secs) * 1e9)  # separately: epoch * 1e9 overflows a double's precision
    if frac == 1_000_000_000:
        secs, frac = secs + 1, 0
    stamp = datetime.fromtimestamp(secs, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        stamp += "." + f"{frac:09d}".rstrip("0")
    return stamp + "Z"


def select(lines: list[Line], *, tail: int = 0, timestamps: bool = False) -> list[str]:
    """The API's view: ``tail=N`` gives the newest N lines newest first; optional timestamps."""
    chosen = lines[::-1][:tail] if tail > 0 else lines
    if timestamps:
        return [f"{format_ts(t)} {text}" for t, text in chosen]
    return [text for _, text in chosen]


def render(job: Job, now: float, seed: int, banner_s: float) -> list[Line]:
    """All lines of ``job`` visible at epoch ``now``, oldest first (``banner_s``: the MPI
    launcher's "is starting..." -> "Waiting for workers" delay)."""
    lines: list[Line] = []
    for n, lost in enumerate(job.history, 1):
        run = _run(job, lost.start_at, lost.running_at or lost.ready_at, seed, banner_s)
        lines += _until(run, lost.ended_at)
        lines += _node_failure(job, lost.ended_at, lost.node, retry=n)
    end = job.completed_at or now
    if job.ready_at and job.start_at <= end:  # placed now (never at 0: start-up takes seconds)
        run = _run(job, job.start_at, job.running_at or job.ready_at, seed, banner_s)
        lines += _until(run, end)
    if job.fail_reason == NODE_FAILURE:
        lines += _node_failure(job, job.completed_at, job.fault_node, retry=0)
    elif job.status == TERMINATED and job.preemptors:
        lines += _preempted(job, job.completed_at, job.preemptors[0])
    return [ln for ln in lines if ln[0] <= now]


def _until(run: list[Line], end: float) -> list[Line]:
    """The lines of ``run`` up to its ``end``. The script's last lines are stamped at
    running_at + runtime while the engine ends the run at start + (t + runtime): the same instant
    summed in another order, which near epoch 1.7e9 can differ by an ulp (2.4e-7 s). Lines within
    :data:`SAME_INSTANT` of the end belong to it and take its stamp."""
    return [(min(t, end), text) for t, text in run if t <= end + SAME_INSTANT]


def _run(job: Job, start_at: float, running_at: float, seed: int, banner_s: float) -> list[Line]:
    """Every line of one run of the script, from its container start, oldest first."""
    rng = stream(seed, "logs", job.name)
    if job.spec.type == "pytorch_elastic":
        lines = _elastic_banner(job, start_at, running_at)
    else:
        lines = _mpi_banner(job, start_at, running_at, banner_s)
    end = running_at + job.plan.runtime_s
    lines += [
        (min(max(t, running_at), end), text) for t, text in _script_output(job, running_at, rng)
    ]
    lines.sort(key=lambda line: line[0])  # stable: lines of one instant keep their order
    return lines


def _node_failure(job: Job, at: float, node: str, retry: int) -> list[Line]:
    """How a run that lost its node ends: restarted (``retry``-th time) or failed."""
    lost = f"Node {node} failed (NodeNotReady): the job's pods on it were lost"
    if retry:
        limit = job.spec.params.get("max_retry")
        return [(at, lost), (at, f"Restarting job {job.name} (retry {retry} of {limit})...")]
    return [(at, lost), (at, f"Job {job.name} failed: node failure")]


def _preempted(job: Job, at: float, preemptor: dict[str, str]) -> list[Line]:
    return [
        (
            at,
            f"Job {job.name} was preempted by {preemptor['type']} {preemptor['name']} "
            f"(priority {preemptor['priority']}) and terminated",
        )
    ]


def _mpi_banner(job: Job, t0: float, running_at: float, banner_s: float) -> list[Line]:
    name = job.name
    typed = f" ({job.spec.type})" if job.spec.type != "horovod" and not job.cpu_only else ""
    lines: list[Line] = [(t0, f"Job {name}{typed} is starting...")]
    if job.spec.type == "horovod":
        slots = max(1, job.itype.gpus)
        hosts = [f"{name}-mpimaster-0"] + [
            f"{name}-mpiworker-{i}" for i in range(job.n_workers - 1)
        ]
        lines += [(t0 + 0.012 + i * 1e-5, f"{h}.{name}:{slots},") for i, h in enumerate(hosts)]
    lines.append((t0 + banner_s, "🕒 Waiting for workers to be ready... 🕒"))
    lines.append((running_at - 6.5e-5, "Connecting to mpimaster-0 ..... Ready ✓"))
    lines += [
        (running_at - 6e-5 + i * 1e-6, f"Connecting to mpiworker-{i} ..... Ready ✓")
        for i in range(job.n_workers - 1)
    ]
    lines.append((running_at, "🚀 All workers are READY 🚀"))
    return lines


def _elastic_banner(job: Job, t0: float, running_at: float) -> list[Line]:
    n = job.n_workers
    lo = job.spec.params.get("elastic_min_workers") or n
    lo = n if lo == "default" else lo
    restarts = job.spec.params.get("elastic_max_restarts", 5)
    msk = datetime.fromtimestamp(t0 + 3 * 3600, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    api = f"[{msk},266] torch.distributed.launcher.api: [INFO]"
    agent = f"[{msk},314] torch.distributed.elastic.agent.server.api: [INFO]"
    namespace = f"ai{int(job.uid[:7], 16) % 10**7:07d}-{int(job.uid[9:13], 16) % 10**5:05d}"
    return [
        (
            t0,
            "master_addr is only used for static rdzv_backend and when rdzv_endpoint is not "
            "specified.",
        ),
        (t0, f"{api} Starting elastic_operator with launch configs:"),
        (t0, f"{api}   min_nodes        : {lo}"),
        (t0, f"{api}   max_nodes        : {n}"),
        (t0, f"{api}   nproc_per_node   : {max(1, job.itype.gpus)}"),
        (t0, f"{api}   run_id           : elastic"),
        (t0, f"{api}   rdzv_backend     : c10d"),
        (t0, f"{api}   max_restarts     : {restarts}"),
        (running_at, f"{agent} [] Rendezvous complete for workers. Result:"),
        (
            running_at,
            f"{agent}   master_addr={job.name}-mpimaster-0.{job.name}.{namespace}"
            ".svc.cluster.local",
        ),
        (running_at, f"{agent}   group_world_size={n}"),
    ]


def _script_output(job: Job, running_at: float, rng: random.Random) -> list[Line]:
    plan = job.plan
    tagged = job.spec.type not in UNTAGGED_TYPES

    def tag(rank: int, err: bool) -> str:
        return f"[1,{rank}]<{'stderr' if err else 'stdout'}>:" if tagged else ""

    end = running_at + plan.runtime_s
    if plan.reason == BAD_SCRIPT:
        t = running_at + min(1.2, plan.runtime_s / 4)
        return [
            (t, f"{tag(0, True)}python: can't open file '{job.spec.script}': [Errno 2] No such "
                "file or directory"),
            *_mpirun_failure(end, job),
        ]  # fmt: skip
    lines = script_logs.render(job, running_at, plan.runtime_s, plan.success, plan.log, rng, tag)
    return lines if plan.success else lines + _mpirun_failure(end, job)


def _mpirun_failure(end: float, job: Job) -> list[Line]:
    if job.spec.type == "pytorch_elastic":
        return [(end, "torch.distributed.elastic.multiprocessing.errors.ChildFailedError")]
    return [
        (end, "--------------------------------------------------------------------------"),
        (end, "Primary job  terminated normally, but 1 process returned"),
        (end, "a non-zero exit code. Per user-direction, the job has been aborted."),
        (end, "--------------------------------------------------------------------------"),
    ]
