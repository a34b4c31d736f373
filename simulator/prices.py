"""Hourly prices per instance type, from data (``data/prices.yaml``): illustrative by default."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator.catalog import InstanceType


class PriceBook:
    """Prices an instance type per worker-hour: GPUs x GPU-hour price, or a CPU instance price."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.currency: str = data.get("currency", "RUB")
        self.illustrative: bool = bool(data.get("illustrative", False))
        self.gpu_hour = {k: Decimal(str(v)) for k, v in data.get("gpu_hour", {}).items()}
        self.cpu_instance_hour = {
            k: Decimal(str(v)) for k, v in data.get("cpu_instance_hour", {}).items()
        }
        self.free = set(data.get("free", []))

    def to_data(self) -> dict[str, Any]:
        """The book as the mapping it is built from (for merging overrides into it)."""
        return {
            "currency": self.currency,
            "illustrative": self.illustrative,
            "gpu_hour": {k: str(v) for k, v in self.gpu_hour.items()},
            "cpu_instance_hour": {k: str(v) for k, v in self.cpu_instance_hour.items()},
            "free": sorted(self.free),
        }

    def worker_hour(self, itype: InstanceType) -> Decimal:
        """Price of one worker of ``itype`` for one hour (0 for free and unpriced types)."""
        if itype.key in self.free:
            return Decimal(0)
        if itype.gpus:
            return self.gpu_hour.get(itype.gpu_model or "", Decimal(0)) * itype.gpus
        return self.cpu_instance_hour.get(itype.key, Decimal(0))
