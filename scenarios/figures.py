"""The figures the README quotes for the scenarios (training done, log span, run time, bill),
measured by replaying each one, so the README can only say what a replay shows.

``python -m scenarios.figures`` prints the table; ``--write README.md`` replaces the block between
the README's markers; a test replays the scenarios and checks that block.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import scenarios
from scenarios import models
from scenarios.runner import STAMP, Report, log_span, run_in_process
from simulator import script_templates

BEGIN = "<!-- scenario-figures:begin (python -m scenarios.figures --write README.md) -->"
END = "<!-- scenario-figures:end -->"
DEFAULT_REGION = "DGX2-MT"  # client_lib's region when the example names none
TAG = re.compile(r"^\[1,\d+\]<std(?:out|err)>:")
STAMP_LINE = re.compile(r"^(\S+) (.*)$")


@dataclass(frozen=True)
class Row:
    scenario: str
    subject: str
    output: str  # the log template, or "—" for what has no script log
    training: str
    log_span: str
    run_time: str
    bill: str


def submitted(data: dict[str, Any], var: str) -> dict[str, Any] | None:
    """The job parameters the scenario submits as ``var`` (client_lib ``Job`` or ``POST jobs``)."""
    for step in data["steps"]:
        if step.get("call") == "Job" and step.get("save") == var:
            return dict(step.get("kwargs", {}))
        track = step.get("track", {})
        if track.get("var") == var and track.get("kind") == "job":
            return dict(step["http"].get("json", {}))
    return None


def template_of(data: dict[str, Any], params: dict[str, Any]) -> str:
    """The log template a job with ``params`` gets: its script's model's, else by type/image."""
    image, job_type = params.get("base_image", ""), params.get("type") or "horovod"
    region = params.get("region", DEFAULT_REGION)
    script = str(params.get("script", "")).rsplit("/", 1)[-1]
    packaged = [scenarios.load(n) for n in scenarios.names()]
    candidates = models.by_script([data, *packaged]).get(script, [])
    if candidates:
        model = candidates[models.choose(candidates, image, job_type, region)]
        if "log" in model:
            return str(model["log"]["template"])
    return script_templates.pick(job_type, image)


def progress(template: str, log: list[str]) -> str:
    """How much training the log shows, in the template's own unit."""
    spec = script_templates.template(template).get("progress")
    if not spec:
        return "—"
    line = re.compile(spec["line"])
    texts = [TAG.sub("", m.group(2)) for ln in log if (m := STAMP_LINE.match(ln))]
    found = [m for t in texts if (m := line.search(t))]
    value = (
        max((int(m.group(1)) for m in found), default=0)
        if spec.get("value") == "max"
        else len(found)
    )
    return f"{value} {spec['unit']}"


def rows(report: Report, data: dict[str, Any]) -> list[Row]:
    out = []
    for var, s in report.subjects.items():
        params = submitted(data, var) if s.kind == "job" else None
        template = template_of(data, params) if params else "—"
        span = log_span(s.log) if s.log and STAMP.match(s.log[0]) else None
        out.append(
            Row(
                scenario=report.name,
                subject=var,
                output=template,
                training=progress(template, s.log) if params else "—",
                log_span=f"{span:.1f} s" if span is not None else "—",
                run_time=f"{s.run_s:.0f} s" if s.run_s is not None else "—",
                bill=f"{s.bill:.2f}",
            )
        )
    return out


def table(all_rows: list[Row]) -> str:
    head = (
        "| scenario | subject | script output | training in the log | log span | run time "
        "| bill, RUB (illustrative) |\n|---|---|---|---|---|---|---|\n"
    )
    body = "".join(
        f"| `{r.scenario}` | {r.subject} | {r.output} | {r.training} | {r.log_span} "
        f"| {r.run_time} | {r.bill} |\n"
        for r in all_rows
    )
    return head + body


def measure(reports: dict[str, Report] | None = None) -> str:
    """The figures table, replaying every scenario not given in ``reports``."""
    found = []
    for name in scenarios.names():
        data = scenarios.load(name)
        report = (reports or {}).get(name) or run_in_process(data)
        found += rows(report, data)
    return table(found)


def block(readme: str) -> str:
    """The generated block of ``readme`` (between the markers, exclusive)."""
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    return readme[start:end].strip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarios.figures", description=__doc__)
    parser.add_argument("--write", metavar="README", help="replace the block in this file")
    args = parser.parse_args(argv)
    text = measure()
    if not args.write:
        sys.stdout.write(text)
        return 0
    path = Path(args.write)
    readme = path.read_text(encoding="utf-8")
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    path.write_text(readme[:start] + "\n" + text + readme[end:], encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
