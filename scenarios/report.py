"""A run's report for people (text) and for machines (JSON-ready dict)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from scenarios.runner import Report, Subject, log_span
from simulator.billing import kopecks

OUTPUT_LINES = 14  # printed output shown per call; the log excerpt shows the job logs
LOG_HEAD, LOG_TAIL = 8, 6


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _offset(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"+{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _money(value: Decimal) -> str:
    return str(kopecks(value))


def excerpt(lines: list[str]) -> list[str]:
    if len(lines) <= LOG_HEAD + LOG_TAIL:
        return list(lines)
    hidden = len(lines) - LOG_HEAD - LOG_TAIL
    return [*lines[:LOG_HEAD], f"... ({hidden} more lines) ...", *lines[-LOG_TAIL:]]


def _subject_json(s: Subject) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "id": s.ident,
        "statuses": [status for _, status in s.events],
        "run_s": s.run_s,
        "log_span_s": log_span(s.log),
        "log_lines": len(s.log),
        "log_excerpt": excerpt(s.log),
        "billed_s": s.billed_s,
        "bill": _money(s.bill),
    }


def to_json(r: Report) -> dict[str, Any]:
    return {
        "scenario": r.name,
        "title": r.title,
        "source": r.source,
        "mode": r.mode,
        "start": _iso(r.start_epoch),
        "ok": r.ok,
        "expectations_checked": r.checked,
        "failures": r.failures,
        "calls": [
            {
                **{k: v for k, v in e.items() if v not in (None, "")},
                "offset_s": e["at"] - r.start_epoch,
            }
            for e in r.transcript
        ],
        "timeline": [
            {**row, "time": _iso(row["at"]), "offset_s": row["at"] - r.start_epoch}
            for row in r.timeline()
        ],
        "subjects": {var: _subject_json(s) for var, s in r.subjects.items()},
        "bill": {
            "currency": r.currency,
            "illustrative_prices": r.illustrative,
            "total": _money(r.bill_total),
            "by_subject": {var: _money(s.bill) for var, s in r.subjects.items()},
        },
        "contrast": [{**c, "bill": _money(c["bill"])} for c in r.contrast],
    }


def _block(text: str, indent: str) -> list[str]:
    lines = text.splitlines()
    if len(lines) > OUTPUT_LINES:
        lines = [*lines[: OUTPUT_LINES - 1], f"... ({len(lines) - OUTPUT_LINES + 1} more lines)"]
    return [indent + ln for ln in lines]


def to_text(r: Report) -> str:
    out = [
        f"Scenario {r.name}: {r.title}",
        f"Source: {r.source}",
        f"Mode: {r.mode}; virtual start {_iso(r.start_epoch)}",
        *(f"Note: {n}" for n in r.notes),
        "",
        "Calls",
    ]
    pad = " " * 13
    for e in r.transcript:
        out.append(f"  {_offset(e['at'] - r.start_epoch)}  {e['call']}")
        if e.get("note"):
            out.append(f"{pad}# {e['note']}")
        if e.get("status") is not None:
            out.append(f"{pad}HTTP {e['status']}")
        for key, mark in (("printed", ""), ("returned", "-> "), ("error", "!! ")):
            if e.get(key):
                out += _block(mark + e[key], pad)
    out += ["", "Timeline (virtual time)"]
    width = max((len(v) for v in r.subjects), default=4)
    for row in r.timeline():
        out.append(
            f"  {_iso(row['at'])}  {_offset(row['at'] - r.start_epoch)}  "
            f"{row['subject']:<{width}}  {row['status']:<10} {row['id']}"
        )
    for s in r.subjects.values():
        if s.log:
            out += ["", f"Log excerpt: {s.var} ({len(s.log)} lines)"]
            out += [f"  {ln}" for ln in excerpt(s.log)]
    prices = "illustrative prices" if r.illustrative else "configured prices"
    out += ["", f"Bill ({r.currency}, {prices}; only what this scenario started)"]
    for s in r.subjects.values():
        if s.kind != "build":
            out.append(f"  {s.var:<{width}}  {s.kind:<8}  {s.billed_s:>7} s  {_money(s.bill):>10}")
    out.append(f"  {'total':<{width}}  {'':<8}  {'':>7}    {_money(r.bill_total):>10}")
    if r.contrast:
        out += ["", "Cost contrast"]
        for c in r.contrast:
            out.append(
                f"  {c['label']}: {_money(c['bill'])} {r.currency} for {c['seconds']} s billed"
            )
        first, second = r.contrast[0]["bill"], r.contrast[1]["bill"]
        if second:
            out.append(f"  ratio: {first / second:.0f} x")
    out.append("")
    if r.ok:
        out.append(f"Result: PASS ({r.checked} expectations met)")
    else:
        out.append(f"Result: FAIL ({len(r.failures)} problems, {r.checked} expectations checked)")
        out += [f"  - {f}" for f in r.failures]
    return "\n".join(out)
