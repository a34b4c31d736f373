"""PNG plots of a what-if result (matplotlib, Agg backend: no display needed).

Each plot has one line per configuration, drawn from that configuration's lowest seed: GPU
utilisation and queue length over time, the CDF of queue waits, and cumulative cost; plus one bar
per configuration of its cost split (jobs, active and idle Jupyter time, inference; mean over
seeds), and the cost-versus-wait fronts against p95 wait and makespan. The workload's horizon is
marked on both cost plots: what lies past it is the cost of draining the backlog.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simulator.whatif.front import AGAINST, COST, fronts
from simulator.whatif.report import duration
from simulator.whatif.runner import WhatIfResult

DAY = 86400.0
MAX_POINTS = 150  # per line: enough to see a daily rhythm over a month
BREAKDOWN = (  # the stacked parts of a configuration's cost, bottom up
    ("cost_jobs", "training jobs"),
    ("cost_active_notebooks", "Jupyter Servers, active"),
    ("cost_idle_notebooks", "Jupyter Servers, idle"),
    ("cost_inference", "inference deployments"),
)
THOUSANDS = FuncFormatter(lambda value, _pos: f"{value:,.0f}")


def _first_runs(result: WhatIfResult) -> list[dict[str, Any]]:
    runs = (result.runs_of(c.name) for c in result.configurations)
    return [min(rs, key=lambda r: r["seed"]) for rs in runs if rs]


def _coarse(run: dict[str, Any], values: list[float]) -> tuple[list[float], list[float]]:
    """Bin centres in days and values, averaged in groups down to at most MAX_POINTS."""
    edges = run["series"]["edges_s"]
    group = max(1, -(-len(values) // MAX_POINTS))
    xs, ys = [], []
    for i in range(0, len(values), group):
        chunk = values[i : i + group]
        xs.append((edges[i] + edges[i + len(chunk)]) / 2 / DAY)
        ys.append(sum(chunk) / len(chunk))
    return xs, ys


def _pools(result: WhatIfResult) -> list[str]:
    """GPU pools that held anything in some run (region first: it is what jobs wait for)."""
    used = {p for r in result.runs for p, ys in r["series"]["utilisation"].items() if any(ys)}
    return sorted(used, key=lambda p: (p != "region", p)) or ["region"]


def _utilisation(fig: Figure, result: WhatIfResult) -> None:
    pools = _pools(result)
    axes = fig.subplots(len(pools), 1, sharex=True, squeeze=False)[:, 0]
    for ax, pool in zip(axes, pools, strict=True):
        for run in _first_runs(result):
            ys = run["series"]["utilisation"].get(pool)
            if ys is not None:
                x, y = _coarse(run, [100 * v for v in ys])
                ax.plot(x, y, lw=1, label=run["configuration"])
        ax.set(ylabel="GPUs in use, %", title=f"GPU utilisation over time: pool {pool}")
        ax.set_ylim(0, 105)
    axes[-1].set_xlabel("day")


def _queue(fig: Figure, result: WhatIfResult) -> None:
    ax = fig.subplots()
    for run in _first_runs(result):
        ax.plot(*_coarse(run, run["series"]["queue"]), lw=1, label=run["configuration"])
    ax.set_yscale("symlog", linthresh=1)
    ax.set(xlabel="day", ylabel="requests waiting (symlog)", title="Queue length over time")


def _wait_cdf(fig: Figure, result: WhatIfResult) -> None:
    ax = fig.subplots()
    for run in _first_runs(result):
        q = run["series"]["wait_quantiles_s"]
        if q:
            probs = [i / (len(q) - 1) for i in range(len(q))]
            ax.step([v / 60 for v in q], probs, where="post", label=run["configuration"])
    ax.set_xscale("symlog", linthresh=1)
    ax.set(xlabel="queue wait, minutes (symlog)", ylabel="share of jobs", title="Queue wait CDF")
    ax.set_ylim(0, 1.02)


def _cost(fig: Figure, result: WhatIfResult) -> None:
    ax = fig.subplots()
    for run in _first_runs(result):
        edges = [e / DAY for e in run["series"]["edges_s"]]
        ax.plot(edges, run["series"]["cost"], lw=1.2, label=run["configuration"])
    cur = result.runs[0]["currency"] if result.runs else ""
    if result.workload.get("horizon_s"):
        ax.axvline(result.workload["horizon_s"] / DAY, color="k", ls="--", lw=0.8)
    ax.set(
        xlabel="day (dashed: end of the workload's horizon; after it, draining the backlog)",
        ylabel=f"cost, {cur}",
        title="Cumulative cost",
    )
    ax.yaxis.set_major_formatter(THOUSANDS)


def _breakdown(fig: Figure, result: WhatIfResult) -> None:
    """Stacked cost per configuration (mean over seeds), labelled with the p95 queue wait."""
    ax = fig.subplots()
    summary = result.summary()
    names = [s["configuration"] for s in summary]
    x = range(len(names))
    tops = [0.0] * len(names)
    for key, label in BREAKDOWN:
        values = [float(s["mean"][key]) for s in summary]
        ax.bar(x, values, bottom=tops, label=label)
        tops = [t + v for t, v in zip(tops, values, strict=True)]
    inside = [float(s["mean"]["cost_horizon"]) for s in summary]
    ax.scatter(x, inside, marker="_", s=900, color="k", zorder=3, label="cost within the horizon")
    for i, s in enumerate(summary):
        wait = duration(s["mean"]["wait_p95_s"])
        ax.annotate(f"p95 wait\n{wait}", (i, tops[i]), ha="center", va="bottom", fontsize=8)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.95, ncol=3)
    ax.set_xticks(list(x), names, rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 1.35 * max(tops, default=0.0) or 1.0)  # room for the labels and the legend
    cur = summary[0]["currency"] if summary else ""
    ax.set(ylabel=f"cost, {cur}", title="Cost per configuration incl. draining (mean over seeds)")
    ax.yaxis.set_major_formatter(THOUSANDS)


def _front(fig: Figure, result: WhatIfResult) -> None:
    """Cost against p95 wait and against makespan; the front joined and its points filled."""
    axes = fig.subplots(1, 2)
    cur = result.runs[0]["currency"] if result.runs else ""
    for ax, (key, rows_) in zip(axes, fronts(result).items(), strict=True):
        for r in rows_:
            x, y = r[key] / 3600, float(r[COST])
            ax.scatter(x, y, s=40, facecolors="C0" if r["on_front"] else "none", edgecolors="C0")
            ax.annotate(
                r["configuration"], (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points"
            )
        best = sorted((r[key] / 3600, float(r[COST])) for r in rows_ if r["on_front"])
        ax.step(*zip(*best, strict=True), where="post", color="C3", lw=1, label="front")
        ax.set(xlabel=f"{AGAINST[key]}, hours", ylabel=f"total cost incl. draining, {cur}")
        ax.set_title(f"Cost vs {AGAINST[key]} (filled: on the front)", fontsize=10)
        ax.yaxis.set_major_formatter(THOUSANDS)
        ax.legend(fontsize=8)


PLOTS: dict[str, Callable[[Figure, WhatIfResult], None]] = {
    "utilisation": _utilisation,
    "queue_length": _queue,
    "wait_cdf": _wait_cdf,
    "cumulative_cost": _cost,
    "cost_breakdown": _breakdown,
    "cost_wait_front": _front,
}


# The plots by the time they take to draw, longest first (the year on 2 cores: the fronts about
# 0.27 s, queue length 0.21 s with its symlog axis, the others 0.13-0.16 s): two workers taking
# them in this order finish at nearly the same moment.
LONGEST_FIRST = (
    "cost_wait_front",
    "queue_length",
    "cumulative_cost",
    "cost_breakdown",
    "utilisation",
    "wait_cdf",
)


def warm_up() -> None:
    """Draw a throwaway plot as :func:`render` does: a process's first draw loads the font, sets
    up the renderer and builds the mathtext parser for the symlog axes' tick labels (about 0.2 s
    in all), better spent before there is a result to draw."""
    fig = plt.figure(figsize=(3, 2), dpi=100)
    try:
        ax = fig.subplots()
        ax.plot([0.0, 1.0], [0.0, 100.0], label="warm-up")
        ax.scatter([0.5], [5.0], s=40, facecolors="none", edgecolors="C0")  # as the fronts
        ax.annotate("a", (0.5, 5.0), fontsize=7, xytext=(4, 4), textcoords="offset points")
        ax.set_yscale("symlog", linthresh=1)  # tick labels in mathtext: 10^1, 10^2
        ax.set(xlabel="x", ylabel="y", title="warm-up")
        ax.xaxis.set_major_formatter(THOUSANDS)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(io.BytesIO(), format="png")
    finally:
        plt.close(fig)


def render(name: str, result: WhatIfResult, size: tuple[float, float] = (9, 5)) -> bytes:
    """One plot as PNG bytes."""
    fig = plt.figure(figsize=size, dpi=100)
    try:
        PLOTS[name](fig, result)
        for ax in fig.axes:
            ax.grid(alpha=0.3)
        first = fig.axes[0] if fig.axes else None
        if first and first.get_legend() is None and first.get_legend_handles_labels()[0]:
            first.legend(fontsize=8)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)


def render_all(result: WhatIfResult) -> dict[str, bytes]:
    return {name: render(name, result) for name in PLOTS}
