"""Regions and instance types, loaded from data (``data/catalog.yaml`` or the user's override)."""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from typing import Any

from simulator.errors import Refused


@dataclass(frozen=True)
class InstanceType:
    """One worker shape: GPUs per worker, GPU model, CPU and RAM limits."""

    key: str
    name: str
    gpus: int
    gpu_model: str | None
    cpu: float
    memory_gi: float
    jupyter: bool = False

    def __post_init__(self) -> None:  # hashed on the hot path (placement, prices): once
        object.__setattr__(self, "_hash", hash((self.key, self.gpus, self.cpu, self.memory_gi)))

    def __hash__(self) -> int:  # the key and shape identify a type
        return self._hash  # type: ignore[attr-defined]

    def __reduce__(self) -> tuple[Any, ...]:  # str hashes differ between processes: rehash
        return InstanceType, astuple(self)

    @property
    def milli_cpu(self) -> int:
        return round(self.cpu * 1000)

    @property
    def memory_mi(self) -> int:
        return round(self.memory_gi * 1024)


@dataclass(frozen=True)
class Region:
    """A cluster that accepts training jobs (and, for some, Jupyter Servers)."""

    key: str
    name: str
    description: str = ""
    nfs_name: str | None = None
    ssh_host: str | None = None
    in_spec_enum: bool = False
    cluster_type: str = "MT"  # MT: training and Jupyter; INF: inference deployments
    instance_types: dict[str, InstanceType] = field(default_factory=dict)

    @property
    def cpu_only(self) -> bool:
        return all(t.gpus == 0 for t in self.instance_types.values())


class Catalog:
    """Lookup of regions and their instance types, with the platform's rejection messages.

    ``regions`` are the training regions (``configs?cluster_type=MT``); ``inference_regions``
    the ones deployments run in (``cluster_type=INF``), kept apart so no job lands there."""

    def __init__(self, regions: list[Region]) -> None:
        self.regions: dict[str, Region] = {r.key: r for r in regions if r.cluster_type != "INF"}
        self.inference_regions: dict[str, Region] = {
            r.key: r for r in regions if r.cluster_type == "INF"
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Catalog:
        regions = []
        for r in data["regions"]:
            types = {t["key"]: InstanceType(**t) for t in r.get("instance_types", [])}
            fields = {k: v for k, v in r.items() if k != "instance_types"}
            regions.append(Region(**fields, instance_types=types))
        return cls(regions)

    def region(self, key: str) -> Region:
        try:
            return self.regions[key]
        except KeyError:
            raise Refused(
                f"Unknown region={key!r}", error_code=1, reason="unknown region", value=key
            ) from None

    def instance_type(self, region: str, key: str) -> InstanceType:
        """The type ``key`` in ``region``, else the platform's "Can't find instance_type_key"."""
        itype = self.region(region).instance_types.get(key)
        if itype is None:
            raise Refused(
                f"Can't find instance_type_key={key!r} for region={region}",
                error_code=1,
                reason="unknown instance type",
                value=key,
            )
        return itype

    def inference_type(self, region: str, key: str) -> InstanceType:
        """The type ``key`` of the inference region ``region``, else a refusal naming it."""
        reg = self.inference_regions.get(region)
        if reg is None:
            raise Refused(f"Unknown inference region={region!r}", error_code=1)
        itype = reg.instance_types.get(key)
        if itype is None:
            raise Refused(f"Can't find instance_type_key={key!r} for region={region}", error_code=1)
        return itype
