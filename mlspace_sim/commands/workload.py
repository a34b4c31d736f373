"""``mlspace-sim workload``: make a workload file (CSV or JSON) for ``mlspace-sim whatif``.

generate      synthetic, seeded (Poisson arrivals with a daily and weekly rhythm)
import-trace  a public GPU-cluster trace CSV (Helios/Acme columns, or Alibaba's v2026 job table)
from-journal  what a running mlspace-sim server accepted (GET /_mock/journal)
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HELP = "generate or import a workload for what-if runs"


def _mix(text: str) -> dict[str, float]:
    """``a=0.5,b=0.5`` -> {"a": 0.5, "b": 0.5}."""
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        try:
            out[key.strip()] = float(value) if sep else 1.0
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected KEY=WEIGHT,...: {text!r}") from None
    return out


def add_generator_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the synthetic generator (shared with ``whatif``)."""
    from simulator.workload import GeneratorSpec

    d = GeneratorSpec()
    g = p.add_argument_group("synthetic workload")
    g.add_argument("--days", type=float, default=d.days, help=f"horizon (default {d.days:g})")
    g.add_argument(
        "--jobs-per-day",
        type=float,
        default=d.jobs_per_day,
        help=f"mean training jobs per day over a week (default {d.jobs_per_day:g})",
    )
    g.add_argument(
        "--notebooks-per-day",
        type=float,
        default=d.notebooks_per_day,
        help=f"mean Jupyter Server sessions per day (default {d.notebooks_per_day:g})",
    )
    g.add_argument("--workspaces", type=int, default=d.workspaces, help="number of workspaces")
    g.add_argument(
        "--authors", type=int, default=d.authors_per_workspace, help="authors per workspace"
    )
    g.add_argument("--region", default=d.region, help=f"region of every request ({d.region})")
    g.add_argument(
        "--instance-types",
        type=_mix,
        default=d.instance_types,
        metavar="TYPE=W,...",
        help="job instance type mix (default: "
        + ",".join(f"{k}={v:g}" for k, v in d.instance_types.items())
        + ")",
    )
    g.add_argument(
        "--n-workers",
        type=_mix,
        default={str(k): v for k, v in d.workers.items()},
        metavar="N=W,...",
        help="n_workers mix (default: "
        + ",".join(f"{k}={v:g}" for k, v in d.workers.items())
        + ")",
    )
    g.add_argument(
        "--notebook-types",
        type=_mix,
        default=d.notebook_types,
        metavar="TYPE=W,...",
        help="Jupyter Server instance type mix",
    )
    g.add_argument(
        "--runtime-median", type=float, default=d.runtime_median_s, help="job run time median, s"
    )
    g.add_argument("--runtime-sigma", type=float, default=d.runtime_sigma, help="log-normal sigma")
    g.add_argument("--failure-p", type=float, default=d.failure_p, help="job failure share")
    g.add_argument(
        "--active-hours", type=float, default=d.active_median_s / 3600, help="session active median"
    )
    g.add_argument(
        "--idle-hours", type=float, default=d.idle_median_s / 3600, help="session idle median"
    )


def spec_from_args(args: argparse.Namespace, seed: int = 0) -> Any:
    from simulator.workload import GeneratorSpec

    return GeneratorSpec(
        seed=seed,
        days=args.days,
        jobs_per_day=args.jobs_per_day,
        notebooks_per_day=args.notebooks_per_day,
        workspaces=args.workspaces,
        authors_per_workspace=args.authors,
        region=args.region,
        instance_types=args.instance_types,
        workers={int(k): v for k, v in args.n_workers.items()},
        notebook_types=args.notebook_types,
        runtime_median_s=args.runtime_median,
        runtime_sigma=args.runtime_sigma,
        failure_p=args.failure_p,
        active_median_s=args.active_hours * 3600,
        idle_median_s=args.idle_hours * 3600,
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="workload_command", required=True, metavar="ACTION")
    gen = sub.add_parser("generate", help="synthetic, seeded workload")
    gen.add_argument("-o", "--output", required=True, help="file to write (.csv or .json)")
    gen.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    add_generator_arguments(gen)
    gen.set_defaults(workload_run=_generate)

    tr = sub.add_parser(
        "import-trace",
        help="public GPU-cluster trace CSV",
        description="Helios/AcmeTrace columns (map others with --*-col), or the Alibaba GPU "
        "trace v2026 job table (found by its header, or --format alibaba-2026): HP jobs become "
        "priority high, Spot jobs priority low (evicted under whatif --preemption yes).",
    )
    tr.add_argument("trace", help="trace CSV file")
    tr.add_argument("-o", "--output", required=True, help="file to write (.csv or .json)")
    tr.add_argument("--submit-col", default="submit_time", help="submit time (date or seconds)")
    tr.add_argument("--duration-col", default="duration", help="run seconds")
    tr.add_argument("--gpus-col", default="gpu_num", help="GPUs of the job")
    tr.add_argument("--user-col", default="user", help="author ('' = none)")
    tr.add_argument("--group-col", default="vc", help="workspace ('' = none)")
    tr.add_argument("--status-col", default="state", help="final state ('' = none)")
    tr.add_argument("--region", default="A100-MT", help="region of the jobs (default A100-MT)")
    tr.add_argument("--gpu-model", default="A100-80GB", help="GPU model (default A100-80GB)")
    tr.add_argument("--config", default=None, metavar="FILE", help="engine config (catalog)")
    tr.add_argument(
        "--format",
        choices=("auto", "helios", "alibaba-2026"),
        default="auto",
        help="trace layout (default: alibaba-2026 when the header is its job table's)",
    )
    tr.add_argument(
        "--model-map",
        action="append",
        default=[],
        metavar="MODEL=REGION:GPU_MODEL",
        help="alibaba-2026: run a trace GPU model elsewhere, e.g. H800=SR006:H100 (repeatable)",
    )
    tr.set_defaults(workload_run=_import_trace)

    jr = sub.add_parser("from-journal", help="a running server's journal, replayable")
    src = jr.add_mutually_exclusive_group(required=True)
    src.add_argument("--file", help="saved JSON of GET /_mock/journal")
    src.add_argument("--url", help="server base URL, e.g. http://127.0.0.1:8080")
    jr.add_argument("-o", "--output", required=True, help="file to write (.csv or .json)")
    jr.set_defaults(workload_run=_from_journal)


def summarize(items: list[Any]) -> str:
    kinds = Counter(it.kind for it in items)
    span = max((it.submit_s for it in items), default=0.0) / 86400
    jobs, books = kinds.get("job", 0), kinds.get("notebook", 0)
    return f"{jobs} jobs, {books} Jupyter sessions over {span:.1f} days"


def _write(items: list[Any], output: str) -> int:
    from simulator.workload import write_workload

    write_workload(items, output)
    print(f"{output}: {summarize(items)}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from simulator.workload import generate

    return _write(generate(spec_from_args(args, args.seed)), args.output)


def _import_trace(args: argparse.Namespace) -> int:
    from simulator.config import load_config
    from simulator.workload import TraceMapping, WorkloadError, import_trace
    from simulator.workload.alibaba import import_alibaba_2026, is_alibaba_2026

    catalog = load_config(args.config).catalog
    fmt = args.format
    if fmt == "auto":
        with open(args.trace, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh), [])
        fmt = "alibaba-2026" if is_alibaba_2026(header) else "helios"
    if fmt == "alibaba-2026":
        try:
            model_map = dict(_model_target(text) for text in args.model_map)
        except ValueError:
            raise WorkloadError(
                f"--model-map expects MODEL=REGION:GPU_MODEL: {args.model_map}"
            ) from None
        items, skipped = import_alibaba_2026(
            args.trace, catalog, region=args.region, gpu_model=args.gpu_model, model_map=model_map
        )
    else:
        mapping = TraceMapping(
            submit=args.submit_col,
            duration=args.duration_col,
            gpus=args.gpus_col,
            user=args.user_col or None,
            group=args.group_col or None,
            status=args.status_col or None,
        )
        items, skipped = import_trace(
            args.trace, catalog, mapping=mapping, region=args.region, gpu_model=args.gpu_model
        )
    if skipped:
        print(f"skipped {skipped} rows without GPUs", file=sys.stderr)
    return _write(items, args.output)


def _model_target(text: str) -> tuple[str, tuple[str, str]]:
    """``H800=SR006:H100`` -> ("H800", ("SR006", "H100"))."""
    model, target = text.split("=", 1)
    region, gpu_model = target.split(":", 1)
    return model.strip(), (region.strip(), gpu_model.strip())


JOURNAL_KEYS = ("records", "entries", "journal")


def journal_records(data: Any) -> list[dict[str, Any]]:
    """The record list of a journal document: a bare list, or under one of JOURNAL_KEYS."""
    if isinstance(data, dict):
        data = next((data[k] for k in JOURNAL_KEYS if k in data), None)
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of journal records (or {'records': [...]})")
    return data


def _from_journal(args: argparse.Namespace) -> int:
    from simulator.workload import workload_from_journal

    if args.file:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    else:
        import requests

        from mock_server.security import admin_headers

        resp = requests.get(
            args.url.rstrip("/") + "/_mock/journal", headers=admin_headers(), timeout=30
        )
        resp.raise_for_status()
        data = resp.json()
    return _write(workload_from_journal(journal_records(data)), args.output)


def run(args: argparse.Namespace) -> int:
    from simulator.workload import WorkloadError

    try:
        return int(args.workload_run(args))
    except (WorkloadError, ValueError, OSError) as exc:
        print(f"mlspace-sim workload: {exc}", file=sys.stderr)
        return 2
