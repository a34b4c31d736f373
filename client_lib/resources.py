"""Regions and instance types: ``RegionEnum``, ``ClusterType`` and ``get_instance_types``."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from client_lib._session import call
from client_lib._table import BoxTable

COLUMNS = ("region", "instance_type", "memory", "cpu", "gpu")
HIDDEN_TYPES = frozenset({"free.0gpu"})  # the library does not list the free tier


class RegionEnum(str, Enum):
    """Region keys as the training API spells them."""

    DGX2_MT = "DGX2-MT"
    A100_MT = "A100-MT"
    SR002_MT = "SR002-MT"
    CCE_MT = "CCE-MT"
    SR003 = "SR003"
    SR004 = "SR004"
    SR005 = "SR005"
    SR006 = "SR006"
    SR008 = "SR008"

    def __str__(self) -> str:
        return self.value


class ClusterType(str, Enum):
    MT = "MT"
    INF = "INF"

    def __str__(self) -> str:
        return self.value


def get_instance_types(
    regions: str | Iterable[str] | None = None, cluster_type: str = ClusterType.MT
) -> BoxTable:
    """One row per instance type with its ``resource.limits`` (memory, cpu, gpu)."""
    wanted = {str(regions)} if isinstance(regions, str) else {str(r) for r in regions or ()}
    body = call("GET", "configs", params={"cluster_type": str(cluster_type)}).json()
    rows = []
    for region in body.get("regions", []):
        if wanted and region["key"] not in wanted:
            continue
        for itype in region.get("instances_types", []):
            if itype["key"] in HIDDEN_TYPES:
                continue
            limits = itype["resource"]["limits"]
            rows.append(
                [
                    region["key"],
                    itype["key"],
                    str(limits.get("memory", "")),
                    str(limits.get("cpu", "")),
                    str(limits.get("nvidia.com/gpu", "")),
                ]
            )
    return BoxTable(COLUMNS, rows)
