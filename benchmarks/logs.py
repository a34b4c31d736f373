"""Log rendering cost per framework template: one finished job's whole log, rendered as a read
does (nothing is stored, so every read pays this), against the generic template in the same run.

    python benchmarks/logs.py              # a one-hour job per template, 20 reads each
    python benchmarks/logs.py --runtime-s 315360000 --reads 5   # a ten-year job
"""

from __future__ import annotations

import argparse
import time

from simulator import World, load_config

BASE = "cr.ai.cloud.ru/aicloud-base-images"
CASES = [  # (template it picks, job type, image)
    ("generic", "binary", "cr.ai.cloud.ru/img:1"),
    ("keras", "horovod", f"{BASE}/horovod-cuda11.0-tf2.4.0-pt1.7.1-a100"),
    ("tf_estimator", "horovod", f"{BASE}/horovod-cuda10.0-tf1.15.0-pt1.3.0"),
    ("torch_ddp", "pytorch2", f"{BASE}/cuda12.1-torch2-py39:0.0.36"),
    ("torch_elastic", "pytorch_elastic", f"{BASE}/cuda12.1-torch2-py39:0.0.36"),
    ("xgboost", "pytorch2", "cr.ai.cloud.ru/ws/xgboost:1"),
    ("hf_trainer", "pytorch2", "cr.ai.cloud.ru/ws/transformers:1"),
    ("lightning", "pytorch2", "cr.ai.cloud.ru/ws/job-lightning:0.1"),
]  # fmt: skip


def measure(job_type: str, image: str, runtime_s: float, reads: int) -> tuple[int, float]:
    """(lines, seconds per whole-log read) for one finished job."""
    world = World(load_config(), seed=1, start_epoch=1_716_000_000)
    spec = {
        "script": "/home/jovyan/train.py",
        "base_image": image,
        "instance_type": "a100.1gpu",
        "region": "SR003",
        "type": job_type,
        "env_variables": {"MLSPACE_SIM_RUNTIME_S": runtime_s},
    }
    job = world.submit_job(spec, workspace="ws")
    world.run_until_idle()
    lines = len(world.job_logs(job, timestamps=True))
    start = time.perf_counter()
    for _ in range(reads):
        world.job_logs(job, timestamps=True)
    return lines, (time.perf_counter() - start) / reads


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runtime-s", type=float, default=3600.0)
    p.add_argument("--reads", type=int, default=20)
    args = p.parse_args()
    base = None
    for name, job_type, image in CASES:
        lines, seconds = measure(job_type, image, args.runtime_s, args.reads)
        base = base or seconds
        print(
            f"{name:14} {lines:6,} lines  {seconds * 1000:8.2f} ms per read  "
            f"{seconds / lines * 1e6:6.1f} us per line  x{seconds / base:5.2f} vs generic"
        )


if __name__ == "__main__":
    main()
