"""FOCUS export: a chosen configuration's ledger as FinOps FOCUS 1.2 rows that sum to the
report's total, from the what-if CLI and from a running mock server."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest
import requests

from mlspace_sim.cli import main
from mock_server.testing import MockServer
from simulator.focus import COLUMNS

REQUIRED = (  # the columns a FinOps tool reads first
    "BilledCost", "EffectiveCost", "ListCost", "BillingCurrency", "BillingPeriodStart",
    "BillingPeriodEnd", "ChargeCategory", "ChargePeriodStart", "ChargePeriodEnd",
    "ConsumedQuantity", "ConsumedUnit", "PricingQuantity", "PricingUnit", "ListUnitPrice",
    "ProviderName", "RegionId", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory",
    "ServiceName", "SkuId", "SubAccountId", "Tags",
)  # fmt: skip
HEADER = "submit_s,workspace,author,kind,region,instance_type,n_workers,run_s,outcome,"
HEADER += "active_s,idle_s,min_replicas,max_replicas\n"


def team_workload(path):
    """Eight 8-GPU jobs, three Jupyter Servers (an hour active, half an hour idle) and one
    always-on inference replica for two hours."""
    jobs = [
        f"{60 * i},{ws},{ws}@example.com,job,A100-MT,a100.8gpu,1,1800,success,,,,\n"
        for i, ws in enumerate(["vision", "nlp"] * 4)
    ]
    servers = [f"{i * 10},nlp,n{i}@example.com,notebook,A100-MT,a100.1gpu,,,,3600,1800,,\n"
               for i in range(3)]  # fmt: skip
    serving = "0,vision,lead@example.com,deployment,DGX2-INF-001,v100.1gpu,,,,7200,,1,1\n"
    path.write_text(HEADER + "".join(jobs + servers) + serving)
    return path


def test_one_command_answers_the_team_leads_question(tmp_path, capsys):
    out, focus = tmp_path / "r", tmp_path / "bill.csv"
    args = ["whatif", "--workload", str(team_workload(tmp_path / "w.csv"))]
    args += ["--gpus", "16,64,1000", "--quota", "8,none", "--executor", "serial"]
    args += ["--focus", str(focus), "--focus-config", "64 GPUs, no quota"]
    assert main([*args, "--no-progress", "--bins", "20", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = {r[0]: r[1:] for r in (re.split(r"\s{2,}", ln.strip()) for ln in printed.splitlines())}
    for kind in ("training jobs", "active", "idle (GPUs held, nothing run)"):
        assert len(rows[f"{kind}, RUB"]) == 6
    assert rows["inference deployments (per second), RUB"] == ["300"] * 6  # 2 h x 150
    assert "Cost-versus-wait front" in printed and (out / "cost_wait_front.png").exists()
    report = json.loads((out / "report.json").read_text())
    (run,) = [r for r in report["runs"] if r["configuration"] == "64 GPUs, no quota"]
    with open(focus, newline="", encoding="utf-8") as fh:
        bill = list(csv.DictReader(fh))
    assert list(bill[0]) == list(COLUMNS) and set(REQUIRED) <= set(bill[0])
    assert sum(Decimal(r["BilledCost"]) for r in bill) == Decimal(run["metrics"]["cost_total"])
    assert sum(Decimal(r["EffectiveCost"]) for r in bill) == Decimal(run["metrics"]["cost_total"])
    assert f"{len(bill)} rows of '64 GPUs, no quota', seed 0" in printed
    kinds = {r["ResourceType"]: r for r in bill}
    assert set(kinds) == {"Training Job", "Jupyter Server", "Inference Deployment"}
    served = kinds["Inference Deployment"]
    assert (served["BilledCost"], served["PricingQuantity"], served["PricingUnit"]) == (
        "300.00", "2.000000000", "Hours"
    )  # fmt: skip
    assert (served["ChargePeriodStart"], served["ChargePeriodEnd"]) == (
        "2025-01-01T00:00:00Z", "2025-01-01T02:00:00Z"
    )  # fmt: skip
    assert (served["BillingPeriodStart"], served["BillingPeriodEnd"]) == (
        "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"
    )  # fmt: skip
    job = kinds["Training Job"]
    assert job["ConsumedUnit"] == "GPU-Hours" and float(job["ConsumedQuantity"]) >= 4.0  # 8 x 0.5 h
    server = next(r for r in bill if r["ResourceType"] == "Jupyter Server")
    assert json.loads(server["Tags"]) == {
        "workspace": "nlp", "author": "n0@example.com", "kind": "notebook"
    }  # fmt: skip
    assert server["SubAccountId"] == "nlp" and server["BillingCurrency"] == "RUB"


def test_an_unknown_focus_configuration_is_an_error_before_any_run(tmp_path, capsys):
    args = ["whatif", "--workload", str(team_workload(tmp_path / "w.csv")), "--gpus", "16"]
    args += ["--focus", str(tmp_path / "f.csv"), "--focus-config", "32 GPUs", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "r")]) == 2
    assert "'32 GPUs' is none of the configurations" in capsys.readouterr().err
    assert not (tmp_path / "f.csv").exists()


def test_parquet_when_pyarrow_is_installed(tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    focus = tmp_path / "bill.parquet"
    args = ["whatif", "--workload", str(team_workload(tmp_path / "w.csv")), "--gpus", "64"]
    args += ["--focus", str(focus), "--executor", "serial", "--no-progress", "--no-plots"]
    assert main([*args, "--out", str(tmp_path / "r")]) == 0
    table = pq.read_table(focus)
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert table.column_names == list(COLUMNS)
    total = sum(table.column("BilledCost").to_pylist())
    assert total == Decimal(report["runs"][0]["metrics"]["cost_total"])


JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "img",
    "instance_type": "v100.2gpu",
    "region": "DGX2-MT",
    "env_variables": {"MLSPACE_SIM_RUNTIME_S": "600"},
}


def test_the_mock_server_serves_its_ledger_as_focus_rows(mlspace_server: MockServer) -> None:
    srv = mlspace_server
    requests.post(f"{srv.api_url}/jobs", json=JOB, headers=srv.headers(), timeout=10)
    srv.advance(3600)
    billing = f"{srv.base_url}/_mock/billing"
    total = Decimal(requests.get(billing, timeout=10).json()["total"])
    r = requests.get(billing, params={"format": "focus"}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1 and rows[0]["ResourceType"] == "Training Job"
    assert sum(Decimal(row["BilledCost"]) for row in rows) == total > 0
    assert rows[0]["SkuId"] == "v100.2gpu" and rows[0]["ConsumedUnit"] == "GPU-Hours"
    bad = requests.get(billing, params={"format": "xml"}, timeout=10)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "format"]
