"""How long a job's script runs and whether it succeeds. First match wins:

1. a script path that is empty or not under ``/home/jovyan`` fails about 18 s after placement
   (observed); a ``binary`` job's script is a command, bad only when empty;
2. ``env_variables`` overrides: ``MLSPACE_SIM_RUNTIME_S`` and ``MLSPACE_SIM_OUTCOME`` (a run
   time without an outcome succeeds);
3. a model registered for the script's file name (scenarios register the documented examples);
4. a seeded log-normal default by job family (GPU, CPU, elastic), longer for more GPUs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from simulator.errors import Refused
from simulator.jobs import Job

RUNTIME_ENV = "MLSPACE_SIM_RUNTIME_S"
OUTCOME_ENV = "MLSPACE_SIM_OUTCOME"
NFS_HOME = "/home/jovyan/"
MAX_RUNTIME_S = 10 * 365.25 * 86400  # ten years: virtual time must stay within year 9999
COMMAND_TYPES = frozenset({"binary", "binary_exp"})  # the script is a command line
BAD_SCRIPT = "bad_script"


class ScriptLog(NamedTuple):
    """What the script prints, as parameters, not lines: a template of ``data/script_logs.yaml``,
    its parameter overrides and the nominal seconds of its phases (shared by every job of one
    model; the log renders from them when read, scaled to the job's run time)."""

    template: str
    params: Mapping[str, Any]
    phases: tuple[tuple[str, float], ...]


class RunPlan(NamedTuple):
    """The script's fate: seconds of run time after Running, success or not, and why (a tuple:
    built once per job on the hot path). ``log`` None: the template follows from the job's type
    and image."""

    runtime_s: float
    success: bool = True
    reason: str = ""
    source: str = "default"
    log: ScriptLog | None = None


RuntimeModel = Callable[[Job, random.Random], RunPlan]


def check_overrides(env: Mapping[str, Any]) -> None:
    """Reject malformed ``MLSPACE_SIM_*`` values (of a submission's ``env_variables``) at
    submission rather than at run time."""
    if RUNTIME_ENV in env:
        try:
            value = float(env[RUNTIME_ENV])
        except (TypeError, ValueError):
            value = -1.0
        if not (0 <= value <= MAX_RUNTIME_S):  # NaN fails too
            raise Refused(
                f"{RUNTIME_ENV} must be a number of seconds from 0 to {MAX_RUNTIME_S:.0f} "
                "(ten years)"
            )
    if OUTCOME_ENV in env and str(env[OUTCOME_ENV]).lower() not in ("success", "failure"):
        raise Refused(f"{OUTCOME_ENV} must be 'success' or 'failure'")


def succeeds(env: Mapping[str, Any]) -> bool:
    """Whether a script that runs its course succeeds: ``MLSPACE_SIM_OUTCOME`` (of the
    submission's ``env_variables``) says so, success by default."""
    return OUTCOME_ENV not in env or str(env[OUTCOME_ENV]).lower() == "success"


def bad_script(script: str, job_type: str) -> bool:
    """Whether the platform cannot start ``script``: a path outside the NFS home, or nothing."""
    if job_type in COMMAND_TYPES:
        return not script
    return not script.startswith(NFS_HOME)


class RuntimeModels:
    """The registry of per-script models plus the default distribution."""

    def __init__(self, defaults: dict[str, Any], bad_script_fail_s: float) -> None:
        self.defaults = defaults
        self.bad_script_fail_s = bad_script_fail_s  # the least run time; the engine may add more
        self._models: dict[str, RuntimeModel] = {}

    def register(self, script_name: str, model: RuntimeModel) -> None:
        """Use ``model`` for every job whose script's file name is ``script_name``."""
        self._models[script_name.rsplit("/", 1)[-1]] = model

    def plan(self, job: Job, rng: Callable[[Job], random.Random]) -> RunPlan:
        """The job's fate; ``rng(job)`` makes its random stream, only when a draw is needed."""
        spec = job.spec
        if bad_script(spec.script, spec.type):
            return RunPlan(self.bad_script_fail_s, False, BAD_SCRIPT, "platform")
        env = spec.env_variables
        if env and (RUNTIME_ENV in env or OUTCOME_ENV in env):
            return self._from_env(job, env, rng)
        model = self._models.get(spec.script.rsplit("/", 1)[-1])
        return model(job, rng(job)) if model else self._default(job, rng(job))

    def _from_env(
        self, job: Job, env: dict[str, Any], rng: Callable[[Job], random.Random]
    ) -> RunPlan:
        """An explicit run time means "this script runs N seconds": it succeeds unless
        ``MLSPACE_SIM_OUTCOME=failure`` says otherwise; a missing run time comes from the model."""
        if RUNTIME_ENV in env:
            runtime = float(env[RUNTIME_ENV])
        else:
            model = self._models.get(job.spec.script.rsplit("/", 1)[-1])
            runtime = (model(job, rng(job)) if model else self._default(job, rng(job))).runtime_s
        ok = succeeds(env)
        return RunPlan(runtime, ok, "" if ok else "script_error", "env")

    def _default(self, job: Job, rng: random.Random) -> RunPlan:
        family = (
            "elastic" if job.spec.type == "pytorch_elastic" else ("cpu" if job.cpu_only else "gpu")
        )
        d = self.defaults[family]
        scale = 1.0 + 0.25 * math.log2(max(1, job.gpu_count))
        runtime = rng.lognormvariate(math.log(float(d["median_s"]) * scale), float(d["sigma"]))
        success = rng.random() >= float(d["failure_p"])
        if success:
            return RunPlan(runtime)
        return RunPlan(runtime * rng.uniform(0.05, 0.9), False, "script_error")
