"""End to end: a job submitted with the real ``mls`` CLI, watched through its lifecycle on the
virtual clock, and billed exactly: gpu_count x seconds run x price per GPU-second."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from mock_server.testing import MockServer
from tests.contract.conftest import Cli

pytestmark = pytest.mark.sdk

ITYPE = "a100plus.8gpu.80vG.96C.1952G"
WORKERS, RUN_S = 2, 137


def test_a_cli_job_is_billed_per_gpu_second(mls: Cli, srv: MockServer) -> None:
    name = mls.json(
        "job", "submit", "-s", "/home/jovyan/train.py", "-I", "cr.ai.cloud.ru/img:1",
        "-i", ITYPE, "-t", "horovod", "-w", str(WORKERS), "-v", f"MLSPACE_SIM_RUNTIME_S={RUN_S}",
    )["job_name"]  # fmt: skip

    def seen() -> dict[str, Any]:
        (item,) = mls.json("job", "list")["jobs"]
        assert item["job_name"] == name
        return item

    assert seen()["status"] == "Pending"
    srv.advance(25)
    assert seen()["status"] == "Running"
    srv.advance(RUN_S)
    item = seen()
    assert item["status"] == "Completed"
    srv.advance(3600)  # nothing is billed after the end

    status = mls.json("job", "status", name)
    line = next(
        ln
        for ln in requests.get(f"{srv.base_url}/_mock/billing", timeout=10).json()["lines"]
        if ln["item"] == name
    )
    itype = srv.world.config.catalog.regions["SR006"].instance_types[ITYPE]
    per_gpu_hour = srv.world.config.prices.gpu_hour[itype.gpu_model]
    gpu_count = WORKERS * itype.gpus
    assert line["seconds"] == RUN_S and line["end"] - line["start"] == RUN_S
    assert line["start"] == pytest.approx(status["running_at"], abs=1)
    assert (gpu_count, per_gpu_hour) == (16, Decimal("300.00"))
    assert line["cost"] == "182.67"  # 16 GPUs x 137 s x 300/h = 182.666..., in kopecks
    assert (item["gpu_count"], item["duration"]) == (gpu_count, f"{RUN_S}s")
    assert item["cost"] == str(Decimal(line["cost"]).quantize(Decimal("0.01")))
