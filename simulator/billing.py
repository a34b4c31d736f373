"""The billing ledger: one line per metered item, money as Decimal, per-item tariff rounding.

A line meters one thing from ``start`` to ``end`` (epoch seconds; ``end`` is None while it still
runs): a training job from Running to its end, or one running span of a Jupyter Server (create or
resume until pause or delete). Money is kept in kopecks, as on an invoice: a line's cost is its
metered seconds x its unit price rounded half up to 0.01 (a running line's cost so far likewise,
as of now), and every total is exactly the sum of its rounded lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SECONDS_PER_HOUR = Decimal(3600)
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def kopecks(amount: Decimal) -> Decimal:
    """``amount`` rounded half up to 0.01: how every amount is shown and added."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def metered_seconds(elapsed: float, tariff: str) -> int:
    """Billable whole seconds: ceil to the second, or to the minute with ``per_minute_ceil``."""
    if elapsed <= 0:
        return 0
    seconds = math.ceil(elapsed - 1e-6)
    if tariff == "per_minute_ceil":
        return math.ceil(seconds / 60) * 60
    return seconds


def seconds_cost(seconds: int, price_per_hour: Decimal) -> Decimal:
    """What ``seconds`` metered at ``price_per_hour`` cost, in kopecks."""
    return kopecks(Decimal(seconds) * price_per_hour / SECONDS_PER_HOUR)


@dataclass(slots=True)
class LedgerLine:
    """One billable item."""

    line_id: int
    workspace: str
    kind: str  # "job" | "notebook" | "tensorboard" | "deployment"
    item: str  # job name or notebook uid
    region: str
    instance_type: str
    workers: int
    price_per_hour: Decimal  # for all workers together
    start: float
    end: float | None = None

    def seconds(self, now: float, tariff: str) -> int:
        """Metered seconds; deployments are always per second, whatever the tariff (the
        platform's rule for inference)."""
        end = self.end if self.end is not None else now
        return metered_seconds(
            end - self.start, "per_second" if self.kind == "deployment" else tariff
        )

    def cost(self, now: float, tariff: str) -> Decimal:
        """The line's cost in kopecks (so far, as of ``now``, while it runs)."""
        return seconds_cost(self.seconds(now, tariff), self.price_per_hour)


class Ledger:
    """All lines of a world, with totals per workspace."""

    def __init__(self, tariff: str, currency: str, illustrative: bool) -> None:
        self.tariff = tariff
        self.currency = currency
        self.illustrative = illustrative
        self.lines: list[LedgerLine] = []
        self.opened = 0  # lines ever opened (a batch meter may have let closed ones go)
        self.closed: Callable[[LedgerLine], None] | None = None  # a batch run's meter

    def open(
        self,
        *,
        workspace: str,
        kind: str,
        item: str,
        region: str,
        instance_type: str,
        workers: int,
        price_per_hour: Decimal,
        start: float,
    ) -> LedgerLine:
        self.opened += 1
        line = LedgerLine(
            self.opened,
            workspace,
            kind,
            item,
            region,
            instance_type,
            workers,
            price_per_hour,
            start,
        )
        self.lines.append(line)
        return line

    def close(self, line: LedgerLine, end: float) -> None:
        if line.end is None:
            line.end = max(end, line.start)
            if self.closed is not None:
                self.closed(line)

    def forget_closed(self) -> None:
        """Let closed lines go: a batch run's meter took each as it closed (``closed``)."""
        self.lines = [ln for ln in self.lines if ln.end is None]

    def total(self, now: float, workspace: str | None = None) -> Decimal:
        return sum(
            (
                ln.cost(now, self.tariff)
                for ln in self.lines
                if workspace is None or ln.workspace == workspace
            ),
            ZERO,
        )

    def report(self, now: float, workspace: str | None = None) -> dict[str, Any]:
        """The bill as plain data: tariff, currency, per-workspace totals and every line."""
        lines = [ln for ln in self.lines if workspace is None or ln.workspace == workspace]
        per_ws: dict[str, Decimal] = {}
        rendered = []
        for ln in lines:
            cost = ln.cost(now, self.tariff)
            per_ws[ln.workspace] = per_ws.get(ln.workspace, ZERO) + cost
            rendered.append(
                {
                    "line_id": ln.line_id,
                    "workspace": ln.workspace,
                    "kind": ln.kind,
                    "item": ln.item,
                    "region": ln.region,
                    "instance_type": ln.instance_type,
                    "workers": ln.workers,
                    "price_per_hour": str(ln.price_per_hour),
                    "start": ln.start,
                    "end": ln.end,
                    "running": ln.end is None,
                    "seconds": ln.seconds(now, self.tariff),
                    "cost": str(cost),
                }
            )
        total = sum(per_ws.values(), ZERO)
        return {
            "tariff": self.tariff,
            "currency": self.currency,
            "illustrative_prices": self.illustrative,
            "total": str(total),
            "total_rounded": str(total),  # kept for older readers: totals are kopecks already
            "workspaces": {ws: str(v) for ws, v in sorted(per_ws.items())},
            "lines": rendered,
        }
