"""Rebuild the README's performance table from the benchmarks themselves, with the machine
they ran on.

Runs each benchmark script in turn (a subprocess each), collects the rows they print through
``results.emit``, and renders one table. The rendered block carries the raw rows in a comment,
so a test can check that the table is exactly what those rows render to (no hand edits).

    python benchmarks/readme_table.py                  # run everything, print the table
    python benchmarks/readme_table.py --quick          # shorter runs, same rows
    python benchmarks/readme_table.py --write README.md
    python benchmarks/readme_table.py --only engine whatif   # print some rows only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from results import parse
from tqdm import tqdm

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"
ROWS_MARK = "<!-- benchmark rows: "
# name -> (script, arguments of a full run, arguments of a quick run)
SCRIPTS: dict[str, tuple[str, list[str], list[str]]] = {
    "engine": ("engine.py", ["--repeat", "3"], ["--quick"]),
    "whatif": ("whatif.py", [], ["--quick"]),
    "api": ("api.py", [], ["--pairs", "400", "--rounds", "2"]),
    "load": ("load.py", [], ["--seconds", "15"]),
    "log_follow": ("log_follow.py", [], ["--followers", "40", "--probes", "100"]),
}
TIMEOUT_S = 1800  # one script's bound; a full run of all of them takes about 6 minutes on 2 cores


def machine() -> str:
    """CPU model, cores, memory, Python and OS, the date, and the load when the run began."""
    model = "unknown CPU"
    mem_gb = 0.0
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        model = found.group(1).strip() if found else model
    if meminfo.exists():
        found = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.M)
        mem_gb = int(found.group(1)) / 1024**2 if found else 0.0
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} cores, {mem_gb:.0f} GB; Python {platform.python_version()} "
        f"on {platform.system()} {platform.release()}; {dt.date.today().isoformat()}; "
        f"load average at the start {load}"
    )


def run(names: list[str], quick: bool) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows from every named script, and the names of scripts that exited non-zero."""
    rows, failed = [], []
    for name in tqdm(names, desc="benchmarks", unit="script"):
        script, full, short = SCRIPTS[name]
        done = subprocess.run(
            [sys.executable, str(HERE / script), *(short if quick else full)],
            capture_output=True, text=True, timeout=TIMEOUT_S, cwd=HERE,
        )  # fmt: skip
        sys.stdout.write(done.stdout)
        found = parse(done.stdout)
        if not found:
            sys.stderr.write(done.stderr[-4000:])
            raise SystemExit(f"{script} printed no result row (exit {done.returncode})")
        rows += [{**row, "script": script} for row in found]
        if done.returncode:
            failed.append(script)
    return rows, failed


def _verdict(met: bool | None) -> str:
    return "" if met is None else ("met" if met else "**not met**")


def render(rows: list[dict[str, Any]], where: str) -> str:
    """The README block: the machine, the table, and the rows it was rendered from."""
    lines = [
        BEGIN,
        f"Machine: {where}.",
        "",
        "| script | what | mlspace-sim | baseline, same run | ratio | aim | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = (f"`{r['script']}`", r["what"], r["ours"], r["baseline"], r["ratio"], r["aim"])
        lines.append("| " + " | ".join(cells) + f" | {_verdict(r['met'])} |")
    record = json.dumps({"machine": where, "rows": rows}, ensure_ascii=False)
    lines += ["", ROWS_MARK + record.replace("--", "\\u002d\\u002d") + " -->", END]
    return "\n".join(lines)


def recorded(readme: str) -> tuple[str, dict[str, Any]]:
    """The block in ``readme`` and the record it says it was rendered from."""
    start, stop = readme.index(BEGIN), readme.index(END) + len(END)
    block = readme[start:stop]
    line = next(x for x in block.splitlines() if x.startswith(ROWS_MARK))
    return block, json.loads(line[len(ROWS_MARK) : -len(" -->")])


def replace_block(readme: str, block: str) -> str:
    """``readme`` with its benchmark block swapped for ``block``."""
    start, stop = readme.index(BEGIN), readme.index(END) + len(END)
    return readme[:start] + block + readme[stop:]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="+", choices=list(SCRIPTS), help="run only these scripts")
    p.add_argument("--quick", action="store_true", help="each script's short run")
    p.add_argument("--write", type=Path, help="replace the block in this README")
    args = p.parse_args()
    if args.only and args.write:
        p.error("--write rebuilds the whole table: run every script (no --only)")
    where = machine()
    rows, failed = run(args.only or list(SCRIPTS), args.quick)
    block = render(rows, where)
    print(block)
    if args.write:
        args.write.write_text(replace_block(args.write.read_text(), block))
        print(f"wrote {args.write}")
    if failed:
        print(f"under an aim: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
