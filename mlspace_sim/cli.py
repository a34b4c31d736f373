"""``mlspace-sim``: one entry point, one module per subcommand (``mlspace_sim/commands``)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS = ("serve", "workload", "whatif", "scenario")


def parser(only: str | None = None) -> argparse.ArgumentParser:
    """Every subcommand; with ``only``, the others get no options of their own (building the
    what-if ones imports numpy and Faker, so a ``serve`` usage error would wait for them)."""
    p = argparse.ArgumentParser(
        prog="mlspace-sim",
        description="Offline twin of Cloud.ru ML Space: Public API v2 mock on a SimPy model.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"mlspace_sim.commands.{name.replace('-', '_')}")
        cmd = sub.add_parser(name, help=module.HELP, description=module.__doc__)
        if only in (None, name):
            module.add_arguments(cmd)
        cmd.set_defaults(run=module.run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    chosen = next((a for a in (sys.argv[1:] if argv is None else argv) if a in COMMANDS), None)
    args = parser(chosen).parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
