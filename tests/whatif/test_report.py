"""What a user gets from ``mlspace-sim workload`` and ``mlspace-sim whatif``."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal

import pytest

from mlspace_sim.cli import main
from simulator.whatif import run_whatif
from simulator.whatif.configs import ConfigError, base_config, read_configurations
from simulator.whatif.report import duration, table
from simulator.workload import read_workload
from tests.whatif.helpers import config, job, notebook

PNG = b"\x89PNG\r\n\x1a\n"


def test_table_puts_configurations_side_by_side():
    items = [
        job(0.0, 600.0, workspace="vision"),
        job(0.0, 600.0, workspace="nlp"),
        notebook(0.0, 60, 60),
    ]
    result = run_whatif(items, [config("one GPU", [1]), config("two GPUs", [2])], executor="serial")
    text = table(result)
    cells = [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()]
    assert cells[0] == ["one GPU", "two GPUs"]
    rows = {row[0]: row[1:] for row in cells[2:-2]}
    assert rows["Queue wait max"] == ["10.0 min", "0 s"]
    assert rows["Total cost incl. draining, RUB"] == [
        "110",
        "110",
    ]  # 2 x 600 s + 2 min of one A100-80GB
    assert rows["workspace vision"] == ["50", "50"]
    assert rows["idle (GPUs held, nothing run), RUB"] == ["5", "5"]
    assert text.endswith("(1 seed)")


def test_durations_read_naturally():
    assert [duration(s) for s in (42, 750, 3 * 3600, 5 * 86400)] == [
        "42 s",
        "12.5 min",
        "3.0 h",
        "5.0 d",
    ]


def test_whatif_command_writes_every_report(tmp_path, capsys):
    out = tmp_path / "report"
    code = main(
        [
            "whatif",
            "--days", "2",
            "--jobs-per-day", "60",
            "--notebooks-per-day", "3",
            "--gpus", "16,64",
            "--jupyter-to-region", "no,yes",
            "--seeds", "2",
            "--executor", "serial",
            "--no-progress",
            "--bins", "50",
            "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "16 GPUs, jupyter->jobs" in printed and "(mean of 2 seeds)" in printed
    report = json.loads((out / "report.json").read_text())
    assert [s["configuration"] for s in report["summary"]] == [
        "16 GPUs, jupyter",
        "16 GPUs, jupyter->jobs",
        "64 GPUs, jupyter",
        "64 GPUs, jupyter->jobs",
    ]
    assert len(report["runs"]) == 8 and report["seeds"] == [0, 1]
    with open(out / "summary.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and float(rows[0]["cost_total"]) > 0 and "wait_p95_s_sd" in rows[0]
    with open(out / "runs.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 8
    plots = ("utilisation", "queue_length", "wait_cdf", "cumulative_cost", "cost_breakdown")
    for name in (*plots, "cost_wait_front"):
        assert (out / f"{name}.png").read_bytes().startswith(PNG)
    assert "Cost-versus-wait front" in printed and (out / "fronts.csv").exists()
    page = (out / "report.html").read_text()
    assert len(re.findall(r'src="data:image/png;base64,', page)) == 6
    assert 'src="http' not in page and "<link" not in page  # self-contained


def test_workload_commands_feed_whatif(tmp_path, capsys):
    wl = tmp_path / "month.json"
    assert main(["workload", "generate", "-o", str(wl), "--days", "1", "--jobs-per-day", "40"]) == 0
    assert "jobs" in capsys.readouterr().out
    items = read_workload(wl)
    assert items and {it.kind for it in items} <= {"job", "notebook"}
    confs = tmp_path / "configs.yaml"
    confs.write_text(
        "configurations:\n"
        "  - {name: small, region_gpus: 16, tariff: per_minute_ceil}\n"
        "  - {name: cheap A100, region_gpus: 16, prices: {gpu_hour: {A100-80GB: '150'}}}\n"
        "  - {name: backfill, region_gpus: 16, policy: backfill, jupyter_to_region: true}\n"
    )
    out = tmp_path / "r"
    args = ["whatif", "--workload", str(wl), "--configs", str(confs), "--executor", "serial"]
    assert main([*args, "--no-progress", "--no-plots", "--out", str(out)]) == 0
    summary = {
        s["configuration"]: s["mean"]
        for s in json.loads((out / "report.json").read_text())["summary"]
    }
    assert float(summary["cheap A100"]["cost_jobs"]) == pytest.approx(
        float(summary["backfill"]["cost_jobs"]) / 2, rel=0.2
    )
    assert Decimal(summary["small"]["cost_total"]) >= Decimal(summary["backfill"]["cost_total"])
    assert not (out / "report.html").exists()


def test_trace_and_journal_commands(tmp_path, capsys):
    trace = tmp_path / "trace.csv"
    trace.write_text("job_id,user,vc,gpu_num,state,submit_time,duration\n1,u,v,2,COMPLETED,0,60\n")
    assert main(["workload", "import-trace", str(trace), "-o", str(tmp_path / "t.csv")]) == 0
    assert read_workload(tmp_path / "t.csv")[0].instance_type == "a100.2gpu"
    journal = tmp_path / "journal.json"
    body = {"instance_type": "a100.1gpu", "region": "A100-MT", "script": "/home/jovyan/x.py"}
    record = {"t": 1, "epoch": 2, "workspace": "w", "author": "a", "kind": "job"}
    record |= {"action": "submit", "ref": "j", "params": body}
    journal.write_text(json.dumps({"records": [record]}))
    assert (
        main(["workload", "from-journal", "--file", str(journal), "-o", str(tmp_path / "j.json")])
        == 0
    )
    assert read_workload(tmp_path / "j.json")[0].submit_s == 1.0
    assert "1 jobs, 0 Jupyter sessions" in capsys.readouterr().out


def test_bad_input_is_reported_not_raised(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("configurations:\n  - {name: x, region_gpus: 8, colour: blue}\n")
    assert main(["whatif", "--configs", str(bad), "--days", "1", "--executor", "serial"]) == 2
    assert "unknown keys ['colour']" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="tariff"):
        bad.write_text("configurations:\n  - {name: x, tariff: per_hour}\n")
        read_configurations(bad, base_config())
    assert (
        main(["whatif", "--workload", str(tmp_path / "missing.csv"), "--executor", "serial"]) == 2
    )


KOPECKS = re.compile(r"\d+\.\d\d")
MONEY = ("cost_total", "cost_jobs", "cost_notebooks", "cost_idle_notebooks")


def odd_workload(path):
    """One job refused for an unknown instance type among two that run 7 s on one A100-80GB
    (7 x 300 / 3600 = 0.58333 each: 0.58 in kopecks, 1.16 together)."""
    path.write_text(
        "submit_s,workspace,author,kind,region,instance_type,run_s\n"
        "0,ws,a@example.com,job,A100-MT,a100.1gpu,7\n"
        "1,ws,a@example.com,job,A100-MT,a100.99gpu,7\n"
        "2,ws,a@example.com,job,A100-MT,a100.1gpu,7\n"
    )
    return path


def run_cli(tmp_path, capsys, *extra):
    out = tmp_path / "r"
    wl = odd_workload(tmp_path / "odd.csv")
    args = ["whatif", "--workload", str(wl), "--gpus", "8", "--executor", "serial", *extra]
    assert main([*args, "--no-progress", "--bins", "4", "--out", str(out)]) == 0
    return out, capsys.readouterr().out


def test_a_refused_row_is_counted_by_reason_with_its_value(tmp_path, capsys):
    out, printed = run_cli(tmp_path, capsys)
    rows = {r[0]: r[1:] for r in (re.split(r"\s{2,}", ln.strip()) for ln in printed.splitlines())}
    assert rows["Rejected requests"] == ["1"]
    assert rows["unknown instance type: a100.99gpu"] == ["1"]
    report = json.loads((out / "report.json").read_text())
    expected = [{"reason": "unknown instance type", "value": "a100.99gpu", "count": 1}]
    assert report["runs"][0]["rejections"] == expected
    assert report["summary"][0]["rejections"] == expected
    page = (out / "report.html").read_text()
    assert "unknown instance type: a100.99gpu" in page


def test_money_in_reports_and_csvs_is_kopecks(tmp_path, capsys):
    out, _ = run_cli(tmp_path, capsys, "--seeds", "2", "--no-plots")
    report = json.loads((out / "report.json").read_text())
    for block in (report["runs"][0]["metrics"], report["summary"][0]["mean"]):
        assert {k: block[k] for k in MONEY} == {
            "cost_total": "1.16", "cost_jobs": "1.16", "cost_notebooks": "0.00",
            "cost_idle_notebooks": "0.00",
        }  # fmt: skip
    assert report["runs"][0]["cost_by_workspace"] == {"ws": "1.16"}
    assert report["summary"][0]["cost_by_workspace"] == {"ws": "1.16"}
    with open(out / "summary.csv", newline="") as fh:
        (summary,) = csv.DictReader(fh)
    assert [summary[k] for k in ("cost_total", "cost_total_sd")] == ["1.16", "0.00"]
    for name in ("runs", "workspaces"):
        with open(out / f"{name}.csv", newline="") as fh:
            cells = [r[k] for r in csv.DictReader(fh) for k in ("cost_total", "cost") if k in r]
        assert cells and all(KOPECKS.fullmatch(c) for c in cells), cells
