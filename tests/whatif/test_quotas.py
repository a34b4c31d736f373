"""The what-if analyser takes workspace GPU quotas: refused jobs are retried like users' loops."""

from __future__ import annotations

import math

from simulator.whatif.configs import base_config, engine_config, from_entry
from simulator.whatif.replay import QUOTA_RETRY_S, Replay
from simulator.whatif.runner import START_EPOCH
from simulator.workload.model import WorkloadItem
from simulator.world import World


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
