"""The what-if analyser takes workspace GPU quotas: refused jobs are retried like users' loops."""

from __future__ import annotations

import math
import re

import pytest

from mlspace_sim.cli import main
from simulator.whatif.configs import base_config, engine_config, from_entry
from simulator.whatif.replay import QUOTA_RETRY_S, Replay
from simulator.whatif.runner import START_EPOCH
from simulator.workload.model import WorkloadItem
from simulator.world import World
from tests.whatif.helpers import config, job, notebook


def eight_gpu_job(at: float) -> WorkloadItem:
    return WorkloadItem(
        submit_s=at,
        workspace="ws",
        author="a",
        kind="job",
        region="DGX2-MT",
        instance_type="v100.8gpu",
        run_s=100.0,
        outcome="success",
    )


def test_jobs_over_the_quota_wait_in_the_users_retry_loop_and_all_run():
    base = base_config()
    conf = from_entry({"name": "quota 8", "quotas": {"workspace_gpus": 8}}, base, 0)
    world = World(engine_config(base, conf.engine), start_epoch=START_EPOCH)
    replay = Replay([eight_gpu_job(0.0), eight_gpu_job(0.0), eight_gpu_job(0.0)])
    engine = world.run_batch(replay.arrivals())
    jobs = sorted(engine.jobs.values(), key=lambda j: j.created_at)
    assert [j.status for j in jobs] == ["Completed"] * 3
    assert engine.rejected == []  # retried, not lost
    # each is accepted at the first 60 s tick of its loop after the previous one ended
    offsets = [j.created_at - START_EPOCH for j in jobs]
    for previous, offset in zip(jobs, offsets[1:], strict=False):
        ended = previous.completed_at - START_EPOCH
        assert offset == math.ceil(ended / QUOTA_RETRY_S) * QUOTA_RETRY_S
    assert replay.quota_retries == sum(offset // QUOTA_RETRY_S for offset in offsets)


INSTANT_ENGINE = "timings: {image_pull_s: [0, 0], worker_wait_s: 0, banner_s: 0}\n"


def table_rows(printed: str) -> dict[str, list[str]]:
    return {r[0]: r[1:] for r in (re.split(r"\s{2,}", ln.strip()) for ln in printed.splitlines())}


def test_quota_is_a_sweep_axis_and_its_extra_waiting_is_reported(tmp_path, capsys):
    """Three 8-GPU jobs of 100 s at t=0 in one workspace, resubmitted every 45 s when refused.
    Quota 8: they run at 0, 135 (ticks 45, 90 refused) and 270; quota 16: at 0, 0 and 135."""
    engine = tmp_path / "engine.yaml"
    engine.write_text(INSTANT_ENGINE)
    wl = tmp_path / "wl.csv"
    wl.write_text(
        "submit_s,workspace,author,kind,region,instance_type,run_s,outcome\n"
        + "0,ws,a@example.com,job,A100-MT,a100.8gpu,100,success\n" * 3
    )
    args = ["whatif", "--workload", str(wl), "--engine-config", str(engine), "--gpus", "64"]
    args += ["--quota", "8,16,none", "--quota-retry", "45", "--executor", "serial"]
    assert main([*args, "--no-progress", "--no-plots", "--out", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out
    header = re.split(r"\s{2,}", printed.splitlines()[0].strip())
    assert header == ["64 GPUs, quota 8", "64 GPUs, quota 16", "64 GPUs, no quota"]
    rows = table_rows(printed)
    assert rows["Jobs held back by the quota"] == ["2", "1", "0"]
    assert rows["their quota wait, mean"] == ["3.4 min", "2.2 min", "0 s"]  # 202.5 s, 135 s
    assert rows["quota refusals retried"] == ["9", "3", "0"]  # 3 + 6; 3
    assert rows["Queue wait max"] == ["4.5 min", "2.2 min", "0 s"]  # waits count the loop
    # 3 jobs x 8 GPUs x 100 s at 300 per GPU-hour
    assert rows["Cost within the horizon (whole run), RUB"] == ["200"] * 3


def test_a_job_larger_than_its_quota_is_refused_not_retried_forever():
    base = base_config()
    conf = from_entry({"name": "quota 4", "quotas": {"workspace_gpus": 4}}, base, 0)
    world = World(engine_config(base, conf.engine), start_epoch=START_EPOCH)
    replay = Replay([eight_gpu_job(0.0)], retry_s=10.0)
    engine = world.run_batch(replay.arrivals())
    assert engine.jobs == {} and replay.quota_retries == 0
    assert [reason for _t, reason, _v in engine.rejected] == [
        "WORKSPACE_GPU_LIMIT_REACHED_ONLY_4_FREE"
    ]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--quota", "8,lots", "expected GPUs or none"),
        ("--quota-retry", "0", "expected seconds > 0"),
        ("--timeout", "-5", "expected seconds > 0"),
    ],
)
def test_bad_sweep_options_are_usage_errors(option, value, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["whatif", option, value, "--days", "1"])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.usefixtures("instant_start")
def test_a_deleted_server_frees_the_quota_for_the_next_tick_and_a_kill_moves_with_the_job():
    """Quota 8: an 8-GPU server open from 0 to 100 s; an 8-GPU job first tried at 10 s (and to
    be killed 190 s after its submission) is refused at 10 and 70 and accepted at 130."""
    conf = config("quota 8", [8])
    over = {**conf.engine, "quotas": {"workspace_gpus": 8}}
    world = World(engine_config(base_config(), over), start_epoch=START_EPOCH)
    server = notebook(0.0, 100.0, 0.0, gpus=8)
    doomed = job(10.0, 1000.0, gpus_per_worker=8, outcome="killed", kill_s=200.0)
    replay = Replay([server, doomed], retry_s=60.0)
    engine = world.run_batch(replay.arrivals())
    (accepted,) = engine.jobs.values()
    assert accepted.created_at - START_EPOCH == 130.0
    assert (accepted.status, accepted.completed_at - START_EPOCH) == ("Deleted", 320.0)
    assert (replay.quota_retries, replay.quota_stuck) == (2, 0)
