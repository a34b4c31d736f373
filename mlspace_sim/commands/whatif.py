"""``mlspace-sim whatif``: replay one workload against several configurations and seeds.

The workload is a file (``--workload``, CSV or JSON, see ``mlspace-sim workload``) or generated
from the synthetic options below, afresh for each seed. Configurations are every combination of
``--gpus``, ``--tariff``, ``--policy``, ``--placement``, ``--quota``, ``--preemption`` and
``--jupyter-to-region``, or the list in ``--configs FILE.yaml``. Prints the side-by-side table
and writes JSON, CSV, PNG plots and a self-contained HTML report to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mlspace_sim.commands.workload import add_generator_arguments, spec_from_args

if TYPE_CHECKING:
    from simulator.whatif import Configuration, WhatIfResult
    from simulator.whatif.plot_workers import PlotRenderer
    from simulator.whatif.runner import Workload

HELP = "cost and queueing what-if: one workload, several configurations"
YES_NO = {"no": False, "yes": True, "false": False, "true": True, "0": False, "1": True}


def _list(kind: type) -> object:
    def parse(text: str) -> list:
        try:
            return [kind(x.strip()) for x in text.split(",") if x.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list: {text!r}") from None

    return parse


def _flags(text: str) -> list[bool]:
    try:
        return [YES_NO[x.strip().lower()] for x in text.split(",")]
    except KeyError:
        raise argparse.ArgumentTypeError(f"expected no,yes: {text!r}") from None


def _quotas(text: str) -> list[int | str]:
    """``8,16,none``: GPUs per workspace, or no limit."""
    try:
        return [x if x == "none" else int(x) for x in (v.strip().lower() for v in text.split(","))]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected GPUs or none, e.g. 8,16,none: {text!r}"
        ) from None


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds > 0: {text!r}")
    return value


def _seeds(text: str) -> list[int]:
    """``3`` -> seeds 0, 1, 2; ``4,7`` -> seeds 4 and 7."""
    values = _list(int)(text)
    return list(range(values[0])) if len(values) == 1 and "," not in text else values


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workload", metavar="FILE", help="workload file (.csv/.json); else generated")
    p.add_argument("--configs", metavar="FILE", help="YAML list of configurations")
    p.add_argument("--engine-config", metavar="FILE", help="base engine config (--config of serve)")
    sweep = p.add_argument_group("configuration axes (every combination is run)")
    sweep.add_argument(
        "--gpus", type=_list(int), default=[None], metavar="N,...", help="region pool GPUs"
    )
    sweep.add_argument(
        "--node-gpus", type=int, default=8, help="GPUs per node of a resized pool (default 8)"
    )
    sweep.add_argument(
        "--tariff",
        type=_list(str),
        default=[None],
        metavar="T,...",
        help="per_second,per_minute_ceil",
    )
    sweep.add_argument(
        "--policy", type=_list(str), default=[None], metavar="P,...", help="fifo,backfill"
    )
    sweep.add_argument(
        "--placement", type=_list(str), default=[None], metavar="P,...", help="best_fit,count"
    )
    sweep.add_argument(
        "--jupyter-to-region",
        type=_flags,
        default=[False],
        metavar="no,yes",
        help="run Jupyter training as region jobs (idle time then costs nothing)",
    )
    sweep.add_argument(
        "--quota",
        type=_quotas,
        default=[None],
        metavar="Q,...",
        help="per-workspace GPU limit: 8,16,none (default: the engine config's)",
    )
    sweep.add_argument(
        "--preemption",
        type=_flags,
        default=[None],
        metavar="no,yes",
        help="high-priority jobs may evict low-priority ones (e.g. a trace's Spot jobs)",
    )
    sweep.add_argument(
        "--quota-retry",
        type=_positive,
        default=60.0,
        metavar="S",
        help="seconds between resubmissions of a job refused by the quota (default 60)",
    )
    run_g = p.add_argument_group("running")
    run_g.add_argument("--seeds", type=_seeds, default=[0], help="N (0..N-1) or a list (default 1)")
    run_g.add_argument(
        "--executor",
        default="processes",
        help="processes (default), serial, or dask://HOST:PORT (extra 'distributed')",
    )
    run_g.add_argument(
        "--processes", type=int, default=None, help="local processes (default: CPUs)"
    )
    run_g.add_argument("--out", default="out/whatif", help="output directory (default out/whatif)")
    run_g.add_argument("--bins", type=int, default=400, help="time bins of the plotted series")
    run_g.add_argument(
        "--horizon-days",
        type=float,
        default=None,
        help="period the bill covers (default: the workload's days); after it, draining",
    )
    run_g.add_argument("--no-progress", action="store_true", help="no progress bar")
    run_g.add_argument(
        "--cache",
        metavar="DIR",
        default=None,
        help="keep finished runs here and reuse them: an interrupted sweep resumes "
        "(default OUT/cache; 'none' to switch off)",
    )
    run_g.add_argument(
        "--timeout", type=_positive, default=None, metavar="S", help="wall-clock limit of each run"
    )
    run_g.add_argument("--no-plots", action="store_true", help="skip PNG plots and HTML")
    run_g.add_argument(
        "--focus",
        metavar="FILE",
        help="write a configuration's ledger as FinOps FOCUS 1.2 rows (.csv, or .parquet)",
    )
    run_g.add_argument(
        "--focus-config",
        metavar="NAME",
        help="the configuration --focus exports (default: the first), with the lowest seed",
    )
    add_generator_arguments(p)


def run(args: argparse.Namespace) -> int:
    if args.no_plots:
        return _run(args, None)
    from simulator.whatif.plot_workers import plot_renderer

    with plot_renderer() as plots:
        return _run(args, plots)


def _run(args: argparse.Namespace, plots: PlotRenderer | None) -> int:
    from simulator.whatif import Axes, configurations, read_configurations, run_whatif
    from simulator.whatif.configs import ConfigError, base_config
    from simulator.whatif.executors import runs_in_process
    from simulator.whatif.report import front_table, table, write_csv, write_json
    from simulator.workload import WorkloadError, read_workload

    try:
        base = base_config(args.engine_config)
        if args.configs:
            confs = read_configurations(args.configs, base)
        else:
            axes = Axes(
                gpus=args.gpus,
                tariffs=args.tariff,
                policies=args.policy,
                placements=args.placement,
                moves=args.jupyter_to_region,
                quotas=args.quota,
                preemptions=args.preemption,
                node_gpus=args.node_gpus,
                quota_retry_s=args.quota_retry,
            )
            confs = configurations(axes, base)
        workload = read_workload(args.workload) if args.workload else spec_from_args(args)
        chosen = _focus_configuration(confs, args.focus_config) if args.focus else None
        if plots is not None and runs_in_process(args.executor, len(confs) * len(args.seeds)):
            plots.start()  # the runs replay here: its workers import matplotlib meanwhile
        result = run_whatif(
            workload,
            confs,
            args.seeds,
            base_path=args.engine_config,
            executor=args.executor,
            workers=args.processes,
            progress=not args.no_progress,
            bins=args.bins,
            horizon_s=args.horizon_days * 86400 if args.horizon_days else None,
            cache=_cache_dir(args),
            timeout_s=args.timeout,
        )
    except (ConfigError, WorkloadError, ValueError, OSError) as exc:
        print(f"mlspace-sim whatif: {exc}", file=sys.stderr)
        return 2
    if not result.runs:
        print("mlspace-sim whatif: every run timed out (raise --timeout)", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(table(result))
    if len(result.configurations) > 1:
        print("\n" + front_table(result))
    write_json(result, out / "report.json")
    write_csv(result, out)
    if plots is not None:
        from simulator.whatif.report import html_report, write_plots

        images = plots.render(result)
        write_plots(images, out)
        (out / "report.html").write_text(html_report(result, images), encoding="utf-8")
    if chosen is not None:
        try:
            _export_focus(result, chosen, workload, args)
        except (ValueError, OSError) as exc:
            print(f"mlspace-sim whatif: {exc}", file=sys.stderr)
            return 2
    if result.cached:
        print(f"runs: {result.cached} from the cache, {result.computed} computed")
    print(f"\nreport: {out}/ (report.html, report.json, summary.csv, runs.csv, fronts.csv, *.png)")
    return 0


def _cache_dir(args: argparse.Namespace) -> Path | None:
    if args.cache == "none":
        return None
    return Path(args.cache) if args.cache else Path(args.out) / "cache"


def _focus_configuration(confs: list[Configuration], name: str | None) -> Configuration:
    from simulator.whatif.configs import ConfigError

    names = [c.name for c in confs]
    if name is None:
        return confs[0]
    if name not in names:
        raise ConfigError(f"--focus-config {name!r} is none of the configurations: {names}")
    return confs[names.index(name)]


def _export_focus(
    result: WhatIfResult, conf: Configuration, workload: Workload, args: argparse.Namespace
) -> None:
    from simulator.whatif.report import money
    from simulator.whatif.runner import Task, focus_export

    seed = min(result.seeds)
    task = Task(workload, conf, seed, args.engine_config, args.bins, None)
    path, n, total = focus_export(task, args.focus)
    cur = result.runs[0]["currency"]
    print(f"FOCUS: {path} ({n} rows of {conf.name!r}, seed {seed}: {money(total)} {cur})")
