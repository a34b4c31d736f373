"""The billing ledger as FinOps FOCUS 1.2 cost-and-usage rows, for the FinOps tools teams use.

One row per ledger line (a job's run, a Jupyter Server's running span, a replica's life): the
line's cost is BilledCost, EffectiveCost, ListCost and ContractedCost alike (no discounts or
commitments are modelled), so the rows sum to the ledger's total exactly. PricingQuantity is the
billed instance-hours after the tariff's rounding, at ListUnitPrice per hour for all workers;
ConsumedQuantity is the GPU-hours actually held (instance-hours for CPU instances). Workspaces
are sub-accounts; Tags carry workspace, author and kind. Columns with nothing to say are null, as
FOCUS allows; the simulator's own facts ride in ``x_`` columns.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from simulator.billing import SECONDS_PER_HOUR, LedgerLine
from simulator.engine import Engine

PROVIDER = "Cloud.ru"
HOURS_PRECISION = Decimal("1e-9")
COLUMNS = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
    "BillingAccountType", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "CapacityReservationId", "CapacityReservationStatus", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost",
    "ListUnitPrice", "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice",
    "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "RegionId", "RegionName", "ResourceId",
    "ResourceName", "ResourceType", "ServiceCategory", "ServiceName", "ServiceSubcategory",
    "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags", "x_Tariff", "x_IllustrativePrices", "x_Workers",
)  # fmt: skip
SERVICES = {  # ledger kind -> (ServiceName, ResourceType)
    "job": ("ML Space Training Jobs", "Training Job"),
    "notebook": ("ML Space Jupyter Server", "Jupyter Server"),
    "tensorboard": ("ML Space TensorBoard", "TensorBoard"),
    "deployment": ("ML Space Inference", "Inference Deployment"),
}


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _month_start(epoch: float, later: int = 0) -> str:
    day = datetime.fromtimestamp(epoch, UTC)
    months = day.year * 12 + day.month - 1 + later
    return f"{months // 12:04d}-{months % 12 + 1:02d}-01T00:00:00Z"


def _owner(engine: Engine, line: LedgerLine) -> tuple[str, str]:
    """(author, resource name) of the line's item, as far as the engine remembers them."""
    if line.kind == "job" and line.item in engine.jobs:
        job = engine.jobs[line.item]
        return job.author, job.spec.job_desc or job.name
    if line.item in engine.notebooks:
        book = engine.notebooks[line.item]
        return book.author, book.name
    dep = engine.deployments.items.get(line.item) if line.kind == "deployment" else None
    if dep is not None:
        return "", dep.spec.alias or dep.name
    return "", line.item


def focus_rows(engine: Engine, workspace: str | None = None) -> list[dict[str, Any]]:
    """Every ledger line (of ``workspace``, or all) as a FOCUS row, costs as Decimal; running
    lines are charged up to now, like the ledger's own report."""
    ledger, now = engine.ledger, engine.now_epoch()
    lines = [ln for ln in ledger.lines if workspace is None or ln.workspace == workspace]
    first = min((ln.start for ln in lines), default=now)
    last = max((ln.end if ln.end is not None else now for ln in lines), default=now)
    period = (_month_start(first), _month_start(last, later=1))
    return [_row(engine, ln, now, period) for ln in lines]


def _row(engine: Engine, line: LedgerLine, now: float, period: tuple[str, str]) -> dict[str, Any]:
    ledger = engine.ledger
    cost = line.cost(now, ledger.tariff)
    end = line.end if line.end is not None else now
    lookup = (
        engine.catalog.inference_type if line.kind == "deployment" else engine.catalog.instance_type
    )
    gpus = lookup(line.region, line.instance_type).gpus * line.workers
    author, name = _owner(engine, line)
    service, resource_type = SERVICES.get(line.kind, (f"ML Space {line.kind}", line.kind))
    price = line.price_per_hour
    billed_hours = Decimal(line.seconds(now, ledger.tariff)) / SECONDS_PER_HOUR
    tariff = "per_second" if line.kind == "deployment" else ledger.tariff
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(
        BilledCost=cost,
        EffectiveCost=cost,
        ListCost=cost,
        ContractedCost=cost,
        PricingCurrencyEffectiveCost=cost,
        BillingAccountId="mlspace-sim",
        BillingAccountName="mlspace-sim what-if",
        BillingAccountType="Billing Account",
        BillingCurrency=ledger.currency,
        PricingCurrency=ledger.currency,
        BillingPeriodStart=period[0],
        BillingPeriodEnd=period[1],
        ChargeCategory="Usage",
        ChargeFrequency="Usage-Based",
        ChargeDescription=(
            f"{resource_type} {line.item}: {line.workers} x {line.instance_type}, "
            f"billed {tariff.replace('_', ' ')}"
        ),
        ChargePeriodStart=iso(line.start),
        ChargePeriodEnd=iso(end),
        ConsumedQuantity=round(max(0.0, end - line.start) * (gpus or 1) / 3600, 6),
        ConsumedUnit="GPU-Hours" if gpus else "Instance-Hours",
        PricingQuantity=billed_hours.quantize(HOURS_PRECISION),
        PricingUnit="Hours",
        ListUnitPrice=price,
        ContractedUnitPrice=price,
        PricingCurrencyListUnitPrice=price,
        PricingCurrencyContractedUnitPrice=price,
        PricingCategory="Standard",
        InvoiceIssuerName=PROVIDER,
        ProviderName=PROVIDER,
        PublisherName=PROVIDER,
        RegionId=line.region,
        RegionName=line.region,
        ResourceId=line.item,
        ResourceName=name,
        ResourceType=resource_type,
        ServiceCategory="AI and Machine Learning",
        ServiceSubcategory="Machine Learning",
        ServiceName=service,
        SkuId=line.instance_type,
        SkuPriceId=f"{line.region}/{line.instance_type}",
        SkuMeter="Instance running time",
        SubAccountId=line.workspace,
        SubAccountName=line.workspace,
        SubAccountType="Workspace",
        Tags={"workspace": line.workspace, "author": author, "kind": line.kind},
        x_Tariff=tariff,
        x_IllustrativePrices=ledger.illustrative,
        x_Workers=line.workers,
    )
    return row


def _text(value: Any) -> str:
    """A CSV cell: null empty, Tags as JSON, Decimal as its exact digits."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def write_focus(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """FOCUS rows to ``path``: CSV, or Parquet when it ends in ``.parquet`` (needs pyarrow)."""
    path = Path(path)
    if path.suffix == ".parquet":
        return _write_parquet(rows, path)
    path.write_text(focus_csv(rows), encoding="utf-8", newline="")
    return path


def focus_csv(rows: list[dict[str, Any]]) -> str:
    """The same CSV as text (what the mock server sends)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(COLUMNS)
    w.writerows([_text(r[c]) for c in COLUMNS] for r in rows)
    return out.getvalue()


def _write_parquet(rows: list[dict[str, Any]], path: Path) -> Path:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ValueError("a Parquet FOCUS file needs pyarrow: pip install pyarrow") from exc
    table = pa.table({c: [_parquet(r[c]) for r in rows] for c in COLUMNS})
    pq.write_table(table, path)
    return path


def _parquet(value: Any) -> Any:
    """Money stays decimal (pyarrow infers decimal columns); Tags become a JSON string."""
    return _text(value) if isinstance(value, dict) else value
