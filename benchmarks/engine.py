"""Engine throughput: N jobs through the World in batch mode vs a bare SimPy loop.

Both runs see the same arrivals and hold times on 1000 GPUs; the bare loop is the floor of
what SimPy itself costs per job (Container get / timeout / put). Each run happens in a fresh
process so its peak memory (ru_maxrss) is its own; times are CPU seconds of that process
(``time.process_time``), so other work on a shared machine moves both runs alike. The ratio is
World throughput over bare-loop throughput in the same run; the script exits 1 when it falls
under ``AIM_RATIO``.

    python benchmarks/engine.py            # 100,000 jobs
    python benchmarks/engine.py --quick    # 10,000 jobs
    python benchmarks/engine.py --jobs 20000
    python benchmarks/engine.py --repeat 3  # alternate three times, compare the best of each
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import resource
import sys
import time

from results import emit

TYPES = [("a100.1gpu", 1), ("a100.2gpu", 2), ("a100.4gpu", 4), ("a100.8gpu", 8)]
MEAN_RUN_S = 3600.0
STARTUP_S = 4.0 + 0.08 + 15.02  # mean image pull + banner + worker wait in the default timings
AIM_RATIO = 0.6  # World throughput / bare SimPy loop throughput (issue 15)
QUICK_JOBS = 10_000


def arrivals(n: int, seed: int) -> list[tuple[float, str, int, int, float]]:
    """(t, instance type, gpus per worker, workers, run seconds), about 80% offered load."""
    rng = random.Random(seed)
    mean_gpus = sum(g for _, g in TYPES) / len(TYPES) * 1.25
    rate = 0.8 * 1000 / (mean_gpus * (MEAN_RUN_S + STARTUP_S))
    t, out = 0.0, []
    for _ in range(n):
        t += rng.expovariate(rate)
        key, gpus = rng.choice(TYPES)
        workers = 1 if rng.random() < 0.75 else 2
        out.append((t, key, gpus, workers, rng.expovariate(1 / MEAN_RUN_S)))
    return out


def run_world(n: int, seed: int) -> dict[str, float]:
    from simulator.jobs import JobSpec
    from simulator.world import World

    jobs = arrivals(n, seed)
    world = World(seed=seed, start_epoch=1_700_000_000)

    def submit(key: str, workers: int, run_s: float):
        spec = JobSpec(
            script="/home/jovyan/train.py",
            base_image="img",
            instance_type=key,
            region="SR003",
            type="pytorch2",
            n_workers=workers,
            env_variables={"MLSPACE_SIM_RUNTIME_S": run_s},
        )
        return lambda engine: engine.submit_job(spec, workspace="ws", author="bench")

    feed = [(t, submit(key, w, r)) for t, key, _, w, r in jobs]
    t0, c0 = time.perf_counter(), time.process_time()
    engine = world.run_batch(feed)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    done = sum(1 for j in engine.jobs.values() if j.terminal)
    return {"cpu_s": cpu, "wall_s": wall, "done": done, "maxrss_mb": _maxrss_mb()}


def run_bare(n: int, seed: int) -> dict[str, float]:
    import simpy

    jobs = arrivals(n, seed)
    env = simpy.Environment()
    gpus = simpy.Container(env, capacity=1000, init=1000)
    done = 0

    def job(need: int, hold: float):
        nonlocal done
        yield gpus.get(need)
        yield env.timeout(hold)
        yield gpus.put(need)
        done += 1

    def source():
        for t, _, g, w, r in jobs:
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(job(g * w, STARTUP_S + r))

    env.process(source())
    t0, c0 = time.perf_counter(), time.process_time()
    env.run()
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    return {"cpu_s": cpu, "wall_s": wall, "done": done, "maxrss_mb": _maxrss_mb()}


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_child(fn_name: str, n: int, seed: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(globals()[fn_name], (n, seed))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=100_000)
    p.add_argument("--quick", action="store_true", help=f"{QUICK_JOBS:,} jobs")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=1, help="alternate runs, keep each one's best")
    args = p.parse_args()
    n = QUICK_JOBS if args.quick else args.jobs
    runs = [
        (_in_child("run_bare", n, args.seed), _in_child("run_world", n, args.seed))
        for _ in range(max(1, args.repeat))
    ]
    bare = min((b for b, _ in runs), key=lambda r: r["cpu_s"])
    world = min((w for _, w in runs), key=lambda r: r["cpu_s"])
    for name, r in (("bare SimPy loop", bare), ("World (batch)", world)):
        print(
            f"{name:16s} {r['done']:>8,.0f} jobs  {r['cpu_s']:7.2f} s CPU ({r['wall_s']:.2f} wall)"
            f"  {r['done'] / r['cpu_s']:>9,.0f} jobs/s  peak RSS {r['maxrss_mb']:7.1f} MB"
        )
    ratio = bare["cpu_s"] / world["cpu_s"]
    met = ratio >= AIM_RATIO
    print(
        f"ratio World/bare throughput (CPU time): {ratio:.2f}x "
        f"(aim >= {AIM_RATIO}x) -> {'met' if met else 'NOT met'}"
    )
    emit(
        f"engine: {world['done']:,.0f} jobs on 1000 GPUs through the World in batch mode",
        f"{world['done'] / world['cpu_s']:,.0f} jobs/s ({world['cpu_s']:.2f} s CPU)",
        f"bare SimPy loop {bare['done'] / bare['cpu_s']:,.0f} jobs/s ({bare['cpu_s']:.2f} s CPU)",
        f"{ratio:.2f}x",
        f">= {AIM_RATIO}x",
        met,
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
