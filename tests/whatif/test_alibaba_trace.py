"""The Alibaba GPU trace v2026 job table imports as ML Space jobs: GPUs = gpu_request x
worker_num, HP as priority high, Spot as priority low that HP jobs evict under preemption."""

from __future__ import annotations

import pytest

from mlspace_sim.cli import main
from simulator.whatif.configs import Axes, base_config, configurations, engine_config
from simulator.whatif.replay import Replay
from simulator.whatif.runner import START_EPOCH
from simulator.workload import read_workload
from simulator.world import World
from tests.whatif.helpers import config, job

TRACE = """\
job_name,organization,gpu_model,cpu_request,gpu_request,worker_num,submit_time,duration,job_type
pretrain-1,org-a,A100,96,8,2,2026-03-02 09:00:00,7200,HP
share-2,org-a,A100,4,0.5,4,2026-03-02 09:01:00,120,Spot
cpu-3,org-b,,32,0,1,2026-03-02 09:02:00,60,HP
big-4,org-b,A100,128,16,1,2026-03-02 09:03:00,600,Spot
h800-5,org-c,H800,12,1,8,2026-03-02 09:05:00,900,HP
"""


def imported(tmp_path, capsys, *extra):
    trace, out = tmp_path / "alibaba_v2026_job.csv", tmp_path / "w.csv"
    trace.write_text(TRACE)
    assert main(["workload", "import-trace", str(trace), "-o", str(out), *extra]) == 0
    assert "skipped 1 rows without GPUs" in capsys.readouterr().err  # cpu-3
    return read_workload(out)


def test_v2026_rows_become_jobs_of_the_mapped_gpus_and_priorities(tmp_path, capsys):
    items = imported(tmp_path, capsys, "--model-map", "H800=SR008:H100")
    assert {it.outcome for it in items} == {"success"}  # the table has no final state
    fields = ("name", "workspace", "submit_s", "region", "instance_type", "n_workers")
    fields += ("priority", "run_s")
    got = [tuple(getattr(it, f) for f in fields) for it in items]
    assert got == [
        # 8 GPUs per worker x 2 workers: the trace's layout is kept
        ("pretrain-1", "org-a", 0.0, "A100-MT", "a100.8gpu", 2, "high", 7200.0),
        # half a GPU per worker rounds up to one: 1 x 4 workers
        ("share-2", "org-a", 60.0, "A100-MT", "a100.1gpu", 4, "low", 120.0),
        # 16 GPUs in one worker: no 16-GPU A100 type, regrouped as 2 x 8
        ("big-4", "org-b", 180.0, "A100-MT", "a100.8gpu", 2, "low", 600.0),
        # the H800 runs where --model-map sends it; 1 x 8 workers has no 1-GPU H100 type there,
        # so its 8 GPUs are regrouped into one 8-GPU worker
        ("h800-5", "org-c", 300.0, "SR008", "a100plus.8gpu.80vG.96C.1456G", 1, "high", 900.0),
    ]


def test_a_bad_job_type_is_reported_with_its_row(tmp_path, capsys):
    trace = tmp_path / "t.csv"
    trace.write_text(TRACE.replace(",Spot\n", ",Batch\n", 1))
    assert main(["workload", "import-trace", str(trace), "-o", str(tmp_path / "w.csv")]) == 2
    assert "t.csv:3: job_type='Batch' is neither HP nor Spot" in capsys.readouterr().err


@pytest.mark.usefixtures("instant_start")
def test_under_preemption_an_hp_job_evicts_a_running_spot_job():
    spot = job(0.0, 1000.0, gpus_per_worker=8, priority="low")
    hp = job(100.0, 100.0, gpus_per_worker=8, priority="high")
    ends = {}
    for enabled in (False, True):
        conf = config("8 GPUs", [8])
        over = {**conf.engine, "faults": {"preemption": {"enabled": enabled}}}
        world = World(engine_config(base_config(), over), start_epoch=START_EPOCH)
        engine = world.run_batch(Replay([spot, hp]).arrivals())
        jobs = sorted(engine.jobs.values(), key=lambda j: j.seq)
        ends[enabled] = [(j.status, j.completed_at - START_EPOCH) for j in jobs]
    assert ends[False] == [("Completed", 1000.0), ("Completed", 1100.0)]  # HP waits
    assert ends[True] == [("Terminated", 100.0), ("Completed", 200.0)]  # Spot evicted at once


def test_preemption_is_a_sweep_axis():
    axes = Axes(gpus=[16], preemptions=[False, True])
    confs = configurations(axes, base_config())
    assert [c.name for c in confs] == ["16 GPUs, no preemption", "16 GPUs, preemption"]
    faults = [engine_config(base_config(), c.engine).faults for c in confs]
    assert [f["preemption"]["enabled"] for f in faults] == [False, True]
