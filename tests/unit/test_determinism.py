"""Same seed and same commands at the same virtual times give the same world; an unrelated
request leaves another job's name-independent fate alone."""

from __future__ import annotations

import pytest

from simulator import Rejected
from tests.unit.builders import gpu_pool, job, world

SMALL = {
    "pools": [
        gpu_pool("direct", 16, serves=("notebook",)),
        gpu_pool("region", 16, 8),
        {
            "name": "cpu",
            "serves": ["job"],
            "resource": "cpu",
            "nodes": [{"count": 2, "cpus": 16, "memory_gi": 64}],
        },
    ]
}


def scenario(w, steps=(100.0,)):
    """Contention, failures, a kill, a restart and a paused server; ``steps`` splits the wait."""
    jobs = [
        w.submit_job(job("v100.8gpu", n_workers=2), workspace="a"),
        w.submit_job(job("v100.8gpu", priority_class="low"), workspace="b"),
        w.submit_job(job("v100.4gpu", priority_class="high", type="horovod"), workspace="a"),
        w.submit_job(job("cpu.8C.32G", region="CCE-MT", n_workers=2), workspace="b"),
        w.submit_job(job(script="/tmp/x.py"), workspace="a"),
    ]
    book = w.create_notebook(workspace="a", name="nb", region="DGX2-MT", instance_type="v100.8gpu")
    for dt in steps:
        w.advance(dt)
    w.kill_job(jobs[1].name)
    jobs.append(w.restart_job(jobs[1].name))
    w.pause_notebook(book.uid)
    w.advance(1234.5)
    w.resume_notebook(book.uid, "DGX2-MT", "v100.2gpu")
    w.run_until_idle()
    w.delete_notebook(book.uid)
    w.run_until_idle()
    return snapshot(w)


def snapshot(w):
    jobs = [
        (
            j.name,
            j.workspace,
            j.status,
            j.created_at,
            j.placed_at,
            j.running_at,
            j.completed_at,
            tuple(w.job_logs(j, timestamps=True)),
        )
        for j in w.list_jobs()
    ]
    return jobs, w.billing_report(), w.pools_report(), w.now_epoch()


def test_same_seed_and_commands_give_the_same_world():
    first = scenario(world(SMALL, seed=21))
    assert scenario(world(SMALL, seed=21)) == first
    assert len(first[0]) == 6


def test_how_a_wait_is_split_into_advances_does_not_matter():
    assert scenario(world(SMALL, seed=21), steps=[10.0] * 10) == scenario(world(SMALL, seed=21))


def test_another_seed_gives_another_world():
    first, second = scenario(world(SMALL, seed=21)), scenario(world(SMALL, seed=22))
    assert {j[0] for j in first[0]}.isdisjoint(j[0] for j in second[0])
    assert [j[6] for j in first[0]] != [j[6] for j in second[0]]


def test_reset_with_the_seed_replays_the_world():
    w = world(SMALL, seed=21)
    first = scenario(w)
    w.reset(seed=21)
    assert scenario(w) == first


def fate(w, j):
    """What a user sees of a job apart from its name: status, times, and its log text."""
    logs = [line.replace(j.name, "<job>") for line in w.job_logs(j, timestamps=True)]
    return (
        j.status,
        j.created_at,
        j.placed_at,
        j.running_at,
        j.completed_at,
        logs,
        w.job_cost(j),
    )


def unrelated_notebook(w):
    w.create_notebook(workspace="other", name="nb", region="DGX2-MT", instance_type="free.0gpu")


def unrelated_rejected_job(w):
    with pytest.raises(Rejected):
        w.submit_job(job("v100.1gpu", n_workers=5000), workspace="other")


def unrelated_cpu_job(w):
    w.submit_job(job("cpu.2C.8G", region="CCE-MT", runtime_s=10), workspace="other")


def unrelated_cpu_job_in_the_same_workspace(w):
    w.submit_job(job("cpu.2C.8G", region="CCE-MT", runtime_s=10), workspace="mine")


@pytest.mark.parametrize(
    "unrelated",
    [
        unrelated_notebook,
        unrelated_rejected_job,
        unrelated_cpu_job,
        unrelated_cpu_job_in_the_same_workspace,
    ],
)
def test_an_unrelated_request_does_not_change_another_jobs_fate(unrelated):
    def observe(extra):
        w = world(SMALL, seed=5)
        w.advance(10)
        if extra:
            unrelated(w)
        w.advance(10)
        j = w.submit_job(job("v100.2gpu"), workspace="mine")
        w.run_until_idle()
        return fate(w, j)

    assert observe(extra=True) == observe(extra=False)


def test_a_step_is_queued_where_simpys_timeout_would_be():
    """Job steps go into SimPy's private queue directly (simulator.engine.Step): if
    SimPy renames ``_queue``/``_eid``/``_now`` or orders its queue entries otherwise, this
    fails instead of the engine silently reordering events."""
    import simpy

    from simulator.engine import Step

    env = simpy.Environment(initial_time=5.0)
    seen: list[str] = []
    env.timeout(3.0).callbacks.append(lambda _ev: seen.append("timeout 1"))
    Step(env, 3.0, "step", lambda ev: seen.append(ev.value))
    env.timeout(3.0).callbacks.append(lambda _ev: seen.append("timeout 2"))
    Step(env, 1.0, "early", lambda ev: seen.append(ev.value))
    assert sorted(entry[:3] for entry in env._queue) == [
        (6.0, 1, 3),
        (8.0, 1, 0),
        (8.0, 1, 1),
        (8.0, 1, 2),
    ]
    env.run()
    assert seen == ["early", "timeout 1", "step", "timeout 2"]
    assert env.now == 8.0


def test_a_jobs_name_reads_its_own_n_workers_not_an_equal_shapes():
    """Jobs of one shape share their checks and name text: 1 and True are equal dict keys but
    different text, so a job with ``n_workers=1`` is named alike after a ``True`` one."""
    from simulator.jobs import JobSpec

    def spec(n_workers):
        return JobSpec("/home/jovyan/a.py", "img", "v100.1gpu", n_workers=n_workers)

    alone = world(SMALL).engine.submit_job(spec(1), workspace="a").name
    engine = world(SMALL).engine
    engine.submit_job(spec(True), workspace="a")
    assert engine.submit_job(spec(1), workspace="a").name == alone
