"""The billing ledger: a line per metered item, costs so far, totals, tariffs, Decimal money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.billing import metered_seconds
from tests.unit.builders import PULL_2S, job, world

PER_MINUTE = {"billing": {"tariff": "per_minute_ceil"}, **PULL_2S}


def lines(w, workspace=None):
    return w.billing_report(workspace)["lines"]


@pytest.mark.parametrize(
    ("elapsed", "per_second", "per_minute"),
    [
        (0, 0, 0),
        (0.2, 1, 60),
        (1, 1, 60),
        (59.5, 60, 60),
        (60, 60, 60),
        (61, 61, 120),
        (685, 685, 720),
    ],
)
def test_metered_seconds_round_up_per_tariff(elapsed, per_second, per_minute):
    assert metered_seconds(elapsed, "per_second") == per_second
    assert metered_seconds(elapsed, "per_minute_ceil") == per_minute


def test_a_job_is_one_line_priced_for_all_its_workers():
    w = world(PULL_2S)
    j = w.submit_job(job("v100.4gpu", n_workers=2, runtime_s=90), workspace="ws")
    w.run_until_idle()
    (line,) = lines(w)
    assert (line["kind"], line["item"], line["instance_type"], line["workers"]) == (
        "job",
        j.name,
        "v100.4gpu",
        2,
    )
    assert Decimal(line["price_per_hour"]) == 2 * 4 * Decimal("150.00")
    assert (line["start"], line["end"]) == (j.running_at, j.completed_at)
    assert Decimal(line["cost"]) == Decimal(90) * 1200 / 3600 == w.job_cost(j)


def test_queue_and_start_up_are_not_billed_and_running_costs_accrue():
    w = world(PULL_2S)
    j = w.submit_job(job("v100.1gpu", runtime_s=600), workspace="ws")
    w.advance(15)
    assert w.job_cost(j) == 0
    assert lines(w) == []
    w.advance(j.placed_at + 17.1 + 30 - w.now_epoch())
    assert j.status == "Running"
    (line,) = lines(w)
    assert line["running"] is True
    assert w.job_cost(j) == Decimal(30) * 150 / 3600
    w.advance(60)
    assert w.job_cost(j) == Decimal(90) * 150 / 3600


def test_cpu_types_have_instance_prices_and_the_free_server_costs_nothing():
    w = world(PULL_2S)
    j = w.submit_job(job("cpu.8C.32G", region="CCE-MT", runtime_s=3600), workspace="ws")
    free = w.create_notebook(workspace="ws", name="nb", region="DGX2-MT", instance_type="free.0gpu")
    w.run_until_idle()
    assert w.job_cost(j) == Decimal("20.48")
    assert w.notebook_cost(free) == 0


def test_notebook_lines_are_one_per_running_span():
    w = world()
    book = w.create_notebook(workspace="ws", name="nb", region="DGX2-MT", instance_type="v100.1gpu")
    w.advance(120)
    w.pause_notebook(book.uid)
    w.advance(1000)
    w.resume_notebook(book.uid, "DGX2-MT", "v100.1gpu")
    w.advance(60)
    spans = [ln for ln in lines(w) if ln["item"] == book.uid]
    assert [(ln["kind"], ln["seconds"], ln["running"]) for ln in spans] == [
        ("notebook", 120, False),
        ("notebook", 60, True),
    ]
    assert w.notebook_cost(book) == Decimal(180) * 150 / 3600


def test_totals_per_workspace_add_up_to_the_bill():
    w = world(PULL_2S)
    for ws, itype, seconds in [
        ("a", "v100.1gpu", 100),
        ("a", "v100.2gpu", 7),
        ("b", "v100.3gpu", 13),
    ]:
        w.submit_job(job(itype, runtime_s=seconds), workspace=ws)
    w.run_until_idle()
    bill = w.billing_report()
    assert bill["workspaces"]["a"] == "4.75"  # 100 s x 150/h = 4.1666 -> 4.17; 7 x 300/h -> 0.58
    assert bill["workspaces"]["b"] == "1.63"  # 13 x 450 / 3600 = 1.625, half up
    assert Decimal(bill["total"]) == sum(Decimal(ln["cost"]) for ln in bill["lines"])
    assert Decimal(bill["total"]) == sum(Decimal(v) for v in bill["workspaces"].values())
    only_b = w.billing_report("b")
    assert [ln["workspace"] for ln in only_b["lines"]] == ["b"]
    assert only_b["total"] == bill["workspaces"]["b"]


def test_per_minute_ceil_charges_11_min_25_s_as_12_minutes():
    w = world(PER_MINUTE)
    j = w.submit_job(job("v100.1gpu", runtime_s=685), workspace="ws")
    w.run_until_idle()
    (line,) = lines(w)
    assert line["seconds"] == 720
    assert w.job_cost(j) == Decimal(30)
    assert w.billing_report()["tariff"] == "per_minute_ceil"


def test_per_minute_ceil_never_charges_less_than_per_second():
    costs = {}
    for tariff in ("per_second", "per_minute_ceil"):
        w = world({"billing": {"tariff": tariff}, **PULL_2S})
        jobs = [w.submit_job(job(runtime_s=s), workspace="ws") for s in (1, 59.5, 60, 61, 3599.2)]
        w.run_until_idle()
        costs[tariff] = [w.job_cost(j) for j in jobs]
    assert all(m >= s for m, s in zip(costs["per_minute_ceil"], costs["per_second"], strict=True))
    assert costs["per_minute_ceil"] == [Decimal(60 * k) * 150 / 3600 for k in (1, 1, 1, 2, 60)]


def test_money_is_decimal_and_the_report_is_exact():
    w = world(PULL_2S)
    jobs = [w.submit_job(job("v100.1gpu", runtime_s=12), workspace="ws") for _ in range(7)]
    w.run_until_idle()
    assert all(w.job_cost(j) == Decimal("0.5") for j in jobs)
    bill = w.billing_report()
    assert Decimal(bill["total"]) == Decimal("3.5")
    assert bill["total_rounded"] == "3.50"
    assert (bill["currency"], bill["illustrative_prices"]) == ("RUB", True)


def test_prices_come_from_config():
    w = world({"prices": {"gpu_hour": {"V100": "99.99"}}, **PULL_2S})
    j = w.submit_job(job("v100.2gpu", runtime_s=3600), workspace="ws")
    w.run_until_idle()
    assert w.job_cost(j) == Decimal("199.98")


KOPECKS = r"\d+\.\d\d"


def test_each_line_is_rounded_to_kopecks_half_up_and_totals_add_the_rounded_lines():
    w = world(PULL_2S)
    w.submit_job(job("v100.3gpu", runtime_s=13), workspace="a")  # 13 x 450 / 3600 = 1.625
    for _ in range(3):
        w.submit_job(job("v100.2gpu", runtime_s=7), workspace="b")  # 7 x 300 / 3600 = 0.58333
    w.run_until_idle()
    bill = w.billing_report()
    assert [ln["cost"] for ln in bill["lines"]] == ["1.63", "0.58", "0.58", "0.58"]  # half up
    # as on an invoice: 0.58 x 3 = 1.74, though the unrounded sum is 1.75
    assert bill["workspaces"] == {"a": "1.63", "b": "1.74"}
    assert bill["total"] == "3.37"
    assert w.billing_report("b")["total"] == "1.74"


def test_cost_so_far_of_a_running_item_is_in_kopecks_as_of_now():
    w = world(PULL_2S)
    j = w.submit_job(job("v100.1gpu", runtime_s=600), workspace="ws")
    w.advance(j.placed_at + 17.1 + 31 - w.now_epoch())  # 31 s of Running
    (line,) = lines(w)
    assert (line["running"], line["seconds"], line["cost"]) == (True, 31, "1.29")  # 1.291666
    assert w.job_cost(j) == Decimal("1.29")
    bill = w.billing_report()
    assert bill["total"] == "1.29" and bill["workspaces"] == {"ws": "1.29"}


def test_an_empty_bill_is_zero_kopecks():
    bill = world().billing_report()
    assert (bill["total"], bill["workspaces"], bill["lines"]) == ("0.00", {}, [])
