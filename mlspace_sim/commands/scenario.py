"""``mlspace-sim scenario``: list the replayable examples, or replay one and check what it must
show (statuses in order, log markers, durations, bills). Exit status 1 when an expectation fails,
2 when the scenario cannot be played at all."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "list or replay the documented ML Space examples"


def add_arguments(s: argparse.ArgumentParser) -> None:
    sub = s.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = sub.add_parser("list", help="the scenarios and what each replays")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    run = sub.add_parser(
        "run",
        help="replay one scenario and check its expectations",
        description="Replay a scenario. By default in-process: a fresh world with a manual "
        "clock behind a loopback server (a 14-minute job takes no wall time).",
    )
    run.add_argument(
        "name", help="scenario name (see `mlspace-sim scenario list`) or a scenario YAML file"
    )
    run.add_argument(
        "--url",
        default=None,
        help="replay against a running server instead, e.g. http://127.0.0.1:8080/public/v2 "
        "(credentials from MLSPACE_SIM_* variables; scenario config overrides do not apply)",
    )
    run.add_argument("--seed", type=int, default=0, help="world seed in-process (default 0)")
    run.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="wall-clock seconds allowed when the server's clock runs in real time (default 300)",
    )
    run.add_argument("--json", action="store_true", help="machine-readable report")


def _list(as_json: bool) -> int:
    import scenarios

    items = [scenarios.load(n) for n in scenarios.names()]
    if as_json:
        print(json.dumps([{k: d[k] for k in ("name", "title", "source")} for d in items], indent=2))
        return 0
    width = max(len(d["name"]) for d in items)
    for d in items:
        print(f"{d['name']:<{width}}  {d['title']}")
    return 0


def _run(args: argparse.Namespace) -> int:
    import scenarios
    from client_lib import Settings
    from scenarios.report import to_json, to_text
    from scenarios.runner import RunnerError, run, run_in_process

    try:
        data = scenarios.read(args.name)
    except (KeyError, scenarios.ScenarioError) as exc:
        print(
            f"mlspace-sim scenario: {exc.args[0] if isinstance(exc, KeyError) else exc}",
            file=sys.stderr,
        )
        return 2
    try:
        if args.url:
            settings = Settings.from_env().with_(url=args.url.rstrip("/"))
            report = run(data, settings, mode=f"against {settings.url}", wall_s=args.timeout)
            if data.get("config"):
                report.notes.append("the scenario's config overrides apply in-process only")
        else:
            report = run_in_process(data, seed=args.seed, wall_s=args.timeout)
    except RunnerError as exc:
        print(f"mlspace-sim scenario: {exc}", file=sys.stderr)
        return 2
    print(
        json.dumps(to_json(report), indent=2, ensure_ascii=False) if args.json else to_text(report)
    )
    return 0 if report.ok else 1


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(args.json)
    return _run(args)
