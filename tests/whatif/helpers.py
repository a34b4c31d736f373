"""Small workloads and configurations for the what-if tests."""

from __future__ import annotations

from typing import Any

from simulator.whatif import Configuration
from simulator.workload import WorkloadItem

REGION = "A100-MT"
INSTANT = {"image_pull_s": [0, 0], "worker_wait_s": 0}  # placement -> Running at once


def pools(region_nodes: list[int], direct_gpus: int = 16) -> list[dict[str, Any]]:
    """A direct pool for Jupyter Servers and a region pool of nodes with these GPU counts."""

    def node(gpus: int) -> dict[str, Any]:
        return {"count": 1, "gpus": gpus, "cpus": 16 * gpus, "memory_gi": 256 * gpus}

    return [
        {"name": "direct", "serves": ["notebook"], "resource": "gpu", "nodes": [node(direct_gpus)]},
        {
            "name": "region",
            "serves": ["job"],
            "resource": "gpu",
            "nodes": [node(g) for g in region_nodes],
        },
    ]


def config(
    name: str,
    region_nodes: list[int],
    *,
    placement: str = "count",
    tariff: str = "per_second",
    backfill: bool = False,
    move: bool = False,
    direct_gpus: int = 16,
) -> Configuration:
    return Configuration(
        name,
        {
            "pools": pools(region_nodes, direct_gpus),
            "scheduler": {"placement": placement, "backfill": backfill},
            "billing": {"tariff": tariff},
            "timings": INSTANT,
        },
        jupyter_to_region=move,
    )


def job(
    t: float, run_s: float, workers: int = 1, gpus_per_worker: int = 1, **kw: Any
) -> WorkloadItem:
    return WorkloadItem(
        submit_s=t,
        workspace=kw.pop("workspace", "ws"),
        author=kw.pop("author", "a@example.com"),
        kind="job",
        region=REGION,
        instance_type=f"a100.{gpus_per_worker}gpu",
        n_workers=workers,
        run_s=run_s,
        outcome=kw.pop("outcome", "success"),
        **kw,
    )


def notebook(t: float, active_s: float, idle_s: float, gpus: int = 1, **kw: Any) -> WorkloadItem:
    return WorkloadItem(
        submit_s=t,
        workspace=kw.pop("workspace", "ws"),
        author=kw.pop("author", "a@example.com"),
        kind="notebook",
        region=REGION,
        instance_type=f"a100.{gpus}gpu",
        active_s=active_s,
        idle_s=idle_s,
        **kw,
    )
