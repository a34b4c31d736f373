"""The script's own lines, in its framework's format, rendered from a template and the job's
seeded stream whenever the log is read (nothing is stored).

Phases are laid end to end from the moment the script starts: a job whose run-time model names a
template uses the model's phase seconds, scaled to its (jittered) run time; any other job gets the
template its type and image pick, with the template's default phase lengths fitted to its run time
and loop sizes derived from them. Values (loss, accuracy, RMSE...) follow seeded curves over the
training progress, so loss falls and accuracy rises, differently per job. A failed run is laid out
as if it were to run longer, cut where it died, and ends with the framework's traceback.
"""

from __future__ import annotations

import math
import posixpath
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from simulator.expressions import evaluate
from simulator.runtime import NFS_HOME, ScriptLog
from simulator.script_templates import device, pick, template

if TYPE_CHECKING:
    from simulator.jobs import Job

Line = tuple[float, str]
Tag = Callable[[int, bool], str]  # (rank, stderr?) -> the launcher's prefix

FAILED_FRACTION = 0.6  # a failed default run dies this far into the run it was laid out for
MAX_REPEAT = 5_000  # bounds one loop or repeated line, whatever a scenario's params say
MAX_RANKS = 64  # ranks whose own lines are shown
MSK = timezone(timedelta(hours=3))


def render(
    job: Job, running_at: float, runtime_s: float, success: bool,
    log: ScriptLog | None, rng: random.Random, tag: Tag,
) -> list[Line]:  # fmt: skip
    """Every line the script prints in one run, oldest first, none after it ended."""
    spec = job.spec
    tpl = template(log.template if log else pick(spec.type, spec.base_image))
    params = {**tpl["params"], **(log.params if log else {})}
    curves = _curves(tpl["values"], params.pop("values", {}), rng)
    span = runtime_s if success or log else runtime_s / FAILED_FRACTION
    lengths = _lengths(tpl, log, span)
    if log is None:
        params.update(_derived(tpl, lengths))
    base = {**_platform(job), **params}
    end = running_at + runtime_s
    lines = list(_lines(tpl, lengths, running_at, base, curves, tag))
    if success:
        return [(min(t, end), text) for t, text in lines]
    lines = [ln for ln in lines if ln[0] < end - 0.05]
    ctx = {**base, **{k: c(1.0) for k, c in curves.items()}}
    return lines + [(end - 0.04, tag(0, True) + ln["text"].format_map(ctx))
                    for ln in tpl["traceback"] if _shown(ln, ctx)]  # fmt: skip


def _platform(job: Job) -> dict[str, Any]:
    """Names about the job the templates may print."""
    spec, itype = job.spec, job.itype
    dev = device(itype.gpu_model)
    per_worker = (
        max(1, itype.gpus) if itype.gpus else int(spec.params.get("processes_per_worker") or 1)
    )
    world = job.n_workers * per_worker
    cc = str(dev["cc"])
    return {
        "job": job.name,
        "host": f"{job.name}-mpimaster-0",
        "script": spec.script,
        "script_dir": posixpath.dirname(spec.script) or NFS_HOME.rstrip("/"),
        "home": NFS_HOME.rstrip("/"),
        "device": dev["name"],
        "cc": cc,
        "cc_major": cc.split(".")[0],
        "cc_minor": cc.split(".")[-1],
        "gpu_gib": dev["gib"],
        "gpu_used_gib": round(float(dev["gib"]) * 0.93, 2),
        "gpus": job.gpu_count,
        "workers": job.n_workers,
        "world": world,
        "per_worker": per_worker,
        "shown_ranks": 1 if spec.type == "pytorch_elastic" else min(world, MAX_RANKS),
        "rank": 0,
        "local_rank": 0,
        "n": 0,
    }


def _curves(
    spec: dict[str, Any], overrides: dict[str, Any], rng: random.Random
) -> dict[str, Callable[[float], float]]:
    """A seeded value function per curve: the job's own ends, then noise at every read."""
    curves: dict[str, Callable[[float], float]] = {}
    for name, raw in spec.items():
        c = {**raw, **overrides.get(name, {})}
        spread = float(c.get("spread", 0.0))
        start = float(c["start"]) * (1 + rng.uniform(-spread, spread))
        stop = float(c["end"]) * (1 + rng.uniform(-spread, spread))
        curves[name] = _curve(start, stop, float(c.get("rate", 4.0)), float(c.get("noise", 0.0)),
                              c.get("shape", "exp"), rng)  # fmt: skip
    return curves


def _curve(
    start: float, stop: float, rate: float, noise: float, shape: str, rng: random.Random
) -> Callable[[float], float]:
    floor = math.exp(-rate)

    def value(p: float) -> float:
        left = 1 - p if shape == "linear" else (math.exp(-rate * p) - floor) / (1 - floor)
        jitter = rng.uniform(-noise, noise) * min(1.0, p * 20) if noise else 0.0
        return stop + (start - stop) * left + jitter

    return value


def _lengths(tpl: dict[str, Any], log: ScriptLog | None, span: float) -> list[float]:
    """Seconds of each phase: the model's, scaled to ``span``; else the template's defaults,
    the fixed ones taking at most half of a short run and the open ones sharing the rest."""
    phases = tpl["phases"]
    if log is not None and log.phases:
        nominal = dict(log.phases)
        total = sum(nominal.values())
        scale = span / total if total > 0 else 0.0
        return [float(nominal.get(p["name"], 0.0)) * scale for p in phases]
    fixed = sum(float(p["default_s"]) for p in phases if p.get("default_s") is not None)
    open_ = [p for p in phases if p.get("default_s") is None]
    scale = min(1.0, (0.5 if open_ else 1.0) * span / fixed) if fixed > 0 else 0.0
    rest = max(0.0, span - fixed * scale) / len(open_) if open_ else 0.0
    return [rest if p.get("default_s") is None else float(p["default_s"]) * scale for p in phases]


def _derived(tpl: dict[str, Any], lengths: list[float]) -> dict[str, int]:
    """Loop sizes for a job known only by its run time (``derive`` in the template)."""
    by_phase = {p["name"]: s for p, s in zip(tpl["phases"], lengths, strict=True)}
    out: dict[str, int] = {}
    for param, rule in tpl["derive"].items():
        count = round(by_phase[rule["phase"]] / float(rule["per_s"]))
        multiple = int(rule.get("multiple", 1))
        count = max(int(rule["min"]), min(int(rule["max"]), count // multiple * multiple))
        out[param] = count + int(rule.get("add", 0))
    return out


def _shown(line: dict[str, Any], ctx: dict[str, Any]) -> bool:
    return "if" not in line or bool(evaluate(line["if"], ctx))


def _lines(
    tpl: dict[str, Any], lengths: list[float], t0: float, base: dict[str, Any],
    curves: dict[str, Callable[[float], float]], tag: Tag,
) -> Iterator[Line]:  # fmt: skip
    """Every line of every phase, in phase order (times within a phase ascend per block)."""
    loops = [i for i, p in enumerate(tpl["phases"]) if "loop" in p]
    starts = [t0 + sum(lengths[:i]) for i in range(len(lengths))]
    loop_t0 = starts[loops[0]] if loops else t0
    loop_s = sum(lengths[i] for i in loops)
    base = {**base, "loop_s": loop_s}
    counters: dict[str, int] = {}
    for phase, start, length in zip(tpl["phases"], starts, lengths, strict=True):
        names = {**base, "phase_s": length, "slot_s": length}
        if "loop" not in phase:
            for ln in phase["lines"]:
                yield from _emit(
                    ln, start + ln["at"] * length, names, tpl, curves, tag, loop_t0, loop_s
                )
            continue
        block = phase["loop"]
        count = min(MAX_REPEAT, max(0, int(evaluate(phase["count"], names))))
        if "start" in phase:
            counters[block] = int(evaluate(phase["start"], names))
        n = counters.get(block, 1)
        slot = length / count if count else 0.0
        names["slot_s"] = slot
        for i in range(count):
            names["n"] = n + i
            for ln in tpl["blocks"][block]:
                t = start + i * slot
                yield from _emit(ln, t + ln["at"] * slot if "repeat" not in ln else t, names,
                                 tpl, curves, tag, loop_t0, loop_s, slot)  # fmt: skip
        counters[block] = n + count


def _emit(
    ln: dict[str, Any], t: float, names: dict[str, Any], tpl: dict[str, Any],
    curves: dict[str, Callable[[float], float]], tag: Tag,
    loop_t0: float, loop_s: float, slot: float = 0.0,
) -> Iterator[Line]:  # fmt: skip
    """One template line: repeated, per rank, or not at all, formatted with fresh values.
    ``names`` is the phase's context, updated in place (a copy per line would dominate)."""

    def context(at: float, j: int) -> dict[str, Any]:
        p = min(1.0, max(0.0, (at - loop_t0) / loop_s)) if loop_s > 0 else 1.0
        names["j"], names["p"] = j, p
        for name in ln["_values"]:
            names[name] = curves[name](p)
        for field, expr in ln["_fields"]:
            names[field] = evaluate(expr, names)
        return names

    if "repeat" in ln:
        k = min(MAX_REPEAT, max(0, int(evaluate(ln["repeat"], context(t, 0)))))
        lo, hi = ln["at"]
        times = [t + (lo + (hi - lo) * j / k) * slot for j in range(1, k + 1)]
    else:
        times = [t]
    text, err = ln["text"], bool(ln.get("err"))
    ranks = names["shown_ranks"] if ln.get("ranks") == "all" else 1
    for j, at in enumerate(times, 1):
        ctx = context(at, j)
        if "if" in ln and not evaluate(ln["if"], ctx):
            continue
        if ln["_clock"]:
            ctx.update(_clock(at))
        yield at, tag(0, err) + text.format_map(ctx)
        for r in range(1, ranks):
            ctx["rank"], ctx["local_rank"] = r, r % names["per_worker"]
            yield at, tag(r, err) + text.format_map(ctx)
        ctx["rank"] = ctx["local_rank"] = 0


def _clock(at: float) -> dict[str, Any]:
    """The applications' own clocks: Moscow time (and UTC) at ``at``."""
    utc = datetime.fromtimestamp(at, tz=timezone.utc)
    try:
        msk = utc.astimezone(MSK)
    except OverflowError:  # the last three hours of year 9999 have no Moscow date: the last one
        msk = datetime.max.replace(tzinfo=MSK)
    return {"utc": utc, "msk": msk, "msk_ms": utc.microsecond // 1000}
