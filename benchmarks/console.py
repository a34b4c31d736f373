"""Cost of the console's snapshot (``World.overview``, polled once a second per open page)
against the admin reports it sits beside (``pools_report`` + ``billing_report``), in one run.

Worlds of N jobs on the default pools (1000 region GPUs, 4-GPU jobs: 250 run, the rest wait),
virtual time moved so that some have finished. Prints milliseconds per call and the ratio.

    python benchmarks/console.py [--jobs 1000,5000,20000]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from simulator.world import World


def world_of(n: int) -> World:
    world = World(start_epoch=1_740_564_000.0)
    for i in range(n):
        spec = {
            "script": "/home/jovyan/train.py",
            "base_image": "img",
            "instance_type": "v100.4gpu",
            "region": "DGX2-MT",
            "env_variables": {"MLSPACE_SIM_RUNTIME_S": str(600 + i % 3000)},
        }
        world.submit_job(spec, workspace=f"ws-{i % 5}")
    world.advance(1800)
    return world


def per_call_ms(call: Callable[[], object], repeat: int = 5) -> float:
    call()
    t0 = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - t0) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", default="1000,5000,20000")
    args = parser.parse_args()
    print(f"{'jobs':>7} {'reports ms':>11} {'overview ms':>12} {'ratio':>6} {'JSON KiB':>9}")
    for n in (int(x) for x in args.jobs.split(",")):
        world = world_of(n)
        base = per_call_ms(lambda w=world: (w.pools_report(), w.billing_report()))
        snap = per_call_ms(world.overview)
        size = len(json.dumps(world.overview())) / 1024
        print(f"{n:>7} {base:>11.1f} {snap:>12.1f} {snap / base:>6.2f} {size:>9.0f}")


if __name__ == "__main__":
    main()
