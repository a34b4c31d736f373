"""The what-if result as a side-by-side terminal table, JSON, CSV and one self-contained HTML page.

Rows are metrics, columns are configurations; with several seeds each cell is the mean over the
seeds (JSON and CSV keep every run and the standard deviations). Money is written as decimal
strings in kopecks (``"5353705.42"``); refused requests are listed by reason and value.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from simulator.whatif.front import AGAINST, COST, fronts
from simulator.whatif.runner import WhatIfResult


def duration(seconds: float) -> str:
    """A short human duration: 42 s, 12.5 min, 3.2 h, 4.1 d."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def money(value: float) -> str:
    return f"{value:,.0f}"


def percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def hours(value: float) -> str:
    return f"{value:,.0f}"


Row = tuple[str, str, Callable[[float], str]]


def rows(result: WhatIfResult) -> list[Row]:
    """(label, metric key, formatter) in table order; cost rows name the currency."""
    cur = result.runs[0]["currency"] if result.runs else ""
    pools = sorted({pool for r in result.runs for pool in r["series"]["utilisation"]})
    horizon = result.workload.get("horizon_s")
    span = duration(horizon) if horizon else "whole run"
    out: list[Row] = [
        (f"Cost within the horizon ({span}), {cur}", "cost_horizon", money),
        ("Backlog at the horizon, jobs", "backlog_jobs", count),
        ("  of them not yet started", "backlog_jobs_queued", count),
        ("Backlog GPU-hours (run after the horizon)", "backlog_gpu_hours", hours),
        (f"Cost after the horizon (draining), {cur}", "cost_drain", money),
        (f"Total cost incl. draining, {cur}", "cost_total", money),
        (f"  training jobs, {cur}", "cost_jobs", money),
        (f"  Jupyter Servers, {cur}", "cost_notebooks", money),
        (f"    active, {cur}", "cost_active_notebooks", money),
        (f"    idle (GPUs held, nothing run), {cur}", "cost_idle_notebooks", money),
        (f"  inference deployments (per second), {cur}", "cost_inference", money),
        ("Inference replica-hours", "inference_replica_hours", hours),
        (f"Same run billed per second, {cur}", "cost_if_per_second", money),
        (f"Same run billed per started minute, {cur}", "cost_if_per_minute_ceil", money),
        ("GPU-hours used", "gpu_hours_used", hours),
        ("GPU-hours billed", "gpu_hours_billed", hours),
        ("Idle Jupyter GPU-hours", "gpu_hours_idle_notebooks", hours),
        ("Queue wait p50", "wait_p50_s", duration),
        ("Queue wait p95", "wait_p95_s", duration),
        ("Queue wait p99", "wait_p99_s", duration),
        ("Queue wait max", "wait_max_s", duration),
        ("Jobs held back by the quota", "quota_delayed_jobs", count),
        ("  their quota wait, mean", "quota_wait_mean_s", duration),
        ("  their quota wait, p95", "quota_wait_p95_s", duration),
        ("  quota refusals retried", "quota_refusals", count),
        ("  never admitted (the quota never freed)", "quota_stuck", count),
        ("Job completion time, mean", "jct_mean_s", duration),
        ("Job completion time, p95", "jct_p95_s", duration),
        ("GPU utilisation (all GPU pools)", "utilisation", percent),
    ]
    out += [(f"  pool {p}", f"utilisation_{p}", percent) for p in pools]
    out += [
        ("Makespan", "makespan_s", duration),
        ("Jobs run", "jobs", count),
        ("  failed", "jobs_failed", count),
        ("  killed", "jobs_killed", count),
        ("Jupyter sessions", "notebooks", count),
        ("  moved to region jobs", "notebooks_moved", count),
        ("Rejected requests", "rejected", count),
    ]
    return out


def body(summary: list[dict[str, Any]], result: WhatIfResult) -> list[list[str]]:
    """Every row of the table as text: the metrics, each refusal under "Rejected requests",
    then the cost per workspace."""
    out = []
    for label, key, fmt in rows(result):
        out.append([label, *(fmt(s["mean"][key]) for s in summary)])
        if key == "rejected":
            out += _refusal_rows(summary)
    workspaces = sorted({ws for s in summary for ws in s["cost_by_workspace"]})
    out += [
        [f"  workspace {ws}", *(money(s["cost_by_workspace"].get(ws, 0)) for s in summary)]
        for ws in workspaces
    ]
    return out


def _refusal_rows(summary: list[dict[str, Any]]) -> list[list[str]]:
    counts = [{(r["reason"], r["value"]): r["count"] for r in s["rejections"]} for s in summary]
    causes = list(dict.fromkeys(cause for c in counts for cause in c))
    return [
        [f"  {reason}: {value}" if value else f"  {reason}"]
        + [count(c.get((reason, value), 0)) for c in counts]
        for reason, value in causes
    ]


def table(result: WhatIfResult) -> str:
    """The side-by-side plain-text table (means over seeds), with per-workspace costs."""
    summary = result.summary()
    body_rows = body(summary, result)
    head = ["", *(s["configuration"] for s in summary)]
    widths = [max(len(r[i]) for r in [head, *body_rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        return "  ".join(
            [first, *(c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True))]
        ).rstrip()

    rule = "-" * len(line(head))
    seeds = f"mean of {len(result.seeds)} seeds" if len(result.seeds) > 1 else "1 seed"
    notes = [
        f"timed out after {r['timeout_s']:g} s: {r['configuration']}, seed {r['seed']}"
        for r in result.timed_out
    ]
    return "\n".join([line(head), rule, *(line(r) for r in body_rows), rule, f"({seeds})", *notes])


def front_rows(result: WhatIfResult) -> list[list[str]]:
    """The fronts as text rows: measure, configuration, total cost, time, '*' on the front."""
    cur = result.runs[0]["currency"] if result.runs else ""
    out = [["", "configuration", f"total cost, {cur}", "time", "on front"]]
    for key, rows_ in fronts(result).items():
        for r in rows_:
            mark = "*" if r["on_front"] else ""
            out.append([AGAINST[key], r["configuration"], money(r[COST]), duration(r[key]), mark])
    return out


def front_table(result: WhatIfResult) -> str:
    """Cost against p95 wait and against makespan; '*' marks the configurations on the front."""
    cells = front_rows(result)
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(
        ["Cost-versus-wait front (* = no configuration is cheaper and faster)", *lines]
    )


def to_json(result: WhatIfResult) -> dict[str, Any]:
    return {
        "workload": result.workload,
        "seeds": result.seeds,
        "executor": result.executor,
        "runs_computed": result.computed,
        "runs_cached": result.cached,
        "timed_out": result.timed_out,
        "configurations": [c.to_dict() for c in result.configurations],
        "summary": result.summary(),
        "fronts": fronts(result),
        "runs": result.runs,
    }


def _plain(value: Any) -> str:
    """JSON for money: a decimal string in kopecks."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def write_json(result: WhatIfResult, path: str | Path) -> None:
    text = json.dumps(to_json(result), indent=1, default=_plain)
    Path(path).write_text(text + "\n", encoding="utf-8")


def write_csv(result: WhatIfResult, directory: str | Path) -> dict[str, Path]:
    """``summary.csv`` (mean per configuration), ``runs.csv`` (per seed), ``workspaces.csv``,
    ``fronts.csv`` (cost against each measure of time, and whether on the front)."""
    out = Path(directory)
    keys = list(result.runs[0]["metrics"]) if result.runs else []
    paths = {name: out / f"{name}.csv" for name in ("summary", "runs", "workspaces", "fronts")}
    with open(paths["summary"], "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["configuration", *keys, *(f"{k}_sd" for k in keys)])
        for s in result.summary():
            w.writerow(
                [s["configuration"], *(s["mean"][k] for k in keys), *(s["sd"][k] for k in keys)]
            )
    with open(paths["runs"], "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["configuration", "seed", *keys])
        for r in result.runs:
            w.writerow([r["configuration"], r["seed"], *(r["metrics"][k] for k in keys)])
    with open(paths["workspaces"], "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["configuration", "seed", "workspace", "cost"])
        for r in result.runs:
            for ws, cost in r["cost_by_workspace"].items():
                w.writerow([r["configuration"], r["seed"], ws, cost])
    with open(paths["fronts"], "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["against", "configuration", COST, "seconds", "on_front"])
        for key, rows_ in fronts(result).items():
            for r in rows_:
                w.writerow([key, r["configuration"], r[COST], r[key], r["on_front"]])
    return paths


def write_plots(images: dict[str, bytes], directory: str | Path) -> dict[str, Path]:
    """Each plot as ``<name>.png`` in ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, png in images.items():
        paths[name] = out / f"{name}.png"
        paths[name].write_bytes(png)
    return paths


def html_report(result: WhatIfResult, images: dict[str, bytes], title: str = "") -> str:
    """One self-contained HTML page: the table, the plots (base64 PNG) and the configurations."""
    title = title or "mlspace-sim what-if"
    summary = result.summary()
    head = "".join(f"<th>{html.escape(s['configuration'])}</th>" for s in summary)
    trs = [
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in body(summary, result)
    ]
    figs = "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode()}"><figcaption>{html.escape(name)}</figcaption></figure>'
        for name, png in images.items()
    )
    front = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in front_rows(result)
    )
    confs = html.escape(json.dumps([c.to_dict() for c in result.configurations], indent=1))
    workload = html.escape(json.dumps(result.workload, indent=1))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: .3em .8em; border-bottom: 1px solid #ddd; }}
td + td, th {{ text-align: right; }} img {{ max-width: 100%; }}
pre {{ background: #f6f6f6; padding: 1em; }}
figure {{ margin: 1.5em 0; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Seeds: {", ".join(map(str, result.seeds))} (each cell is the mean over the seeds).
Prices are configuration; the packaged ones are illustrative, not Cloud.ru prices.</p>
<table><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(trs)}</tbody></table>
<h2>Cost-versus-wait front</h2>
<p>Total cost (including draining the backlog) against p95 queue wait and against makespan;
* marks the configurations no other one beats on both.</p>
<table>{front}</table>
{figs}
<h2>Configurations</h2><pre>{confs}</pre>
<h2>Workload</h2><pre>{workload}</pre>
</body></html>
"""
