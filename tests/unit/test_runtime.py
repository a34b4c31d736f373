"""How long a script runs and how it ends: env overrides, registered models, seeded default,
and the platform's fast failure of a bad script path."""

from __future__ import annotations

import statistics

import pytest

from simulator import Rejected
from simulator.runtime import RunPlan
from tests.unit.builders import PULL_2S, job, world

FIXED_DEFAULT = {
    "runtime": {
        "gpu": {"median_s": 100, "sigma": 0, "failure_p": 0},
        "cpu": {"median_s": 40, "sigma": 0, "failure_p": 0},
        "elastic": {"median_s": 70, "sigma": 0, "failure_p": 0},
    }
}


TEN_YEARS_S = 10 * 365.25 * 86400


def run_time(j):
    return j.completed_at - j.running_at


def test_env_runtime_override_sets_the_run_time():
    w = world()
    j = w.submit_job(job(runtime_s="123.5"), workspace="ws")
    w.run_until_idle()
    assert j.status == "Completed"
    assert run_time(j) == pytest.approx(123.5)


def test_env_outcome_override_forces_failure_or_success():
    w = world({"runtime": {"gpu": {"failure_p": 1.0}}})
    failing = w.submit_job(job(runtime_s=40, outcome="failure"), workspace="ws")
    passing = w.submit_job(job(runtime_s=40, outcome="SUCCESS"), workspace="ws")
    w.run_until_idle()
    assert failing.status == "Failed"
    assert run_time(failing) == pytest.approx(40)
    assert passing.status == "Completed"


@pytest.mark.parametrize(
    "env",
    [
        {"MLSPACE_SIM_RUNTIME_S": "soon"},
        {"MLSPACE_SIM_RUNTIME_S": -1},
        {"MLSPACE_SIM_RUNTIME_S": "inf"},
        {"MLSPACE_SIM_RUNTIME_S": 1e300},
        {"MLSPACE_SIM_RUNTIME_S": TEN_YEARS_S + 1},
        {"MLSPACE_SIM_OUTCOME": "maybe"},
    ],
)
def test_malformed_overrides_are_rejected_at_submission(env):
    w = world()
    with pytest.raises(Rejected, match="MLSPACE_SIM_"):
        w.submit_job(job(env_variables=env), workspace="ws")
    assert w.list_jobs() == []


def test_a_run_time_of_ten_years_is_accepted_and_its_timestamps_render():
    w = world()
    j = w.submit_job(job(runtime_s=TEN_YEARS_S), workspace="ws")
    w.run_until_idle()
    assert run_time(j) == pytest.approx(TEN_YEARS_S)
    assert w.job_logs(j, tail=1, timestamps=True)[0].startswith("2034-")


def test_a_registered_model_applies_to_its_script_file_name_anywhere():
    w = world()
    w.register_runtime_model("finetune.py", lambda _job, _rng: RunPlan(777.0, False, "oom"))
    hits = [
        w.submit_job(job(script=path), workspace="ws")
        for path in ("/home/jovyan/finetune.py", "/home/jovyan/llm/finetune.py")
    ]
    other = w.submit_job(job(script="/home/jovyan/pretrain.py", runtime_s=5), workspace="ws")
    w.run_until_idle()
    assert [(j.status, round(run_time(j), 3)) for j in hits] == [("Failed", 777.0)] * 2
    assert (other.status, round(run_time(other), 3)) == ("Completed", 5.0)


def test_env_overrides_beat_a_registered_model():
    w = world()
    w.register_runtime_model("finetune.py", lambda _job, _rng: RunPlan(777.0, False, "oom"))
    j = w.submit_job(
        job(script="/home/jovyan/finetune.py", runtime_s=9, outcome="success"), workspace="ws"
    )
    w.run_until_idle()
    assert (j.status, round(run_time(j), 3)) == ("Completed", 9.0)


def test_registered_models_survive_a_reset():
    w = world()
    w.register_runtime_model("finetune.py", lambda _job, _rng: RunPlan(42.0))
    w.reset()
    j = w.submit_job(job(script="/home/jovyan/finetune.py"), workspace="ws")
    w.run_until_idle()
    assert run_time(j) == pytest.approx(42.0)


def test_default_model_takes_its_parameters_from_config():
    w = world(FIXED_DEFAULT)
    gpu = w.submit_job(job(), workspace="ws")
    cpu = w.submit_job(job("cpu.2C.8G", region="CCE-MT"), workspace="ws")
    elastic = w.submit_job(job(type="pytorch_elastic"), workspace="ws")
    w.run_until_idle()
    assert [round(run_time(j), 6) for j in (gpu, cpu, elastic)] == [100, 40, 70]
    assert [j.status for j in (gpu, cpu, elastic)] == ["Completed", "Succeeded", "Completed"]


def test_default_model_runs_longer_for_more_gpus():
    w = world(FIXED_DEFAULT)
    small = w.submit_job(job(), workspace="ws")
    big = w.submit_job(job("v100.16gpu", n_workers=4), workspace="ws")
    w.run_until_idle()
    assert run_time(big) > run_time(small)


def test_default_model_is_a_seeded_distribution():
    def runtimes(seed):
        w = world(seed=seed)
        jobs = [w.submit_job(job(), workspace="ws") for _ in range(200)]
        w.run_until_idle()
        return [run_time(j) for j in jobs], [j.status for j in jobs]

    times, statuses = runtimes(5)
    assert runtimes(5) == (times, statuses)
    assert runtimes(6)[0] != times
    assert all(t > 0 for t in times)
    assert 900 < statistics.median(times) < 3600, "log-normal around the 1800 s default median"
    assert {"Completed", "Failed"} >= set(statuses)
    assert statuses.count("Completed") > 150


def test_failure_probability_one_fails_every_default_job():
    w = world({"runtime": {"gpu": {"failure_p": 1.0}}})
    jobs = [w.submit_job(job(), workspace="ws") for _ in range(10)]
    w.run_until_idle()
    assert {j.status for j in jobs} == {"Failed"}


@pytest.mark.parametrize(
    "script", ["", "train.py", "/tmp/train.py", "/home/jovyanx/train.py", "home/jovyan/t.py"]
)
def test_a_bad_script_path_fails_18_5_s_after_placement(script):
    w = world(PULL_2S)
    j = w.submit_job(job(script=script, runtime_s=500, outcome="success"), workspace="ws")
    w.run_until_idle()
    assert j.status == "Failed"
    assert j.running_at, "the job reaches Running before the script fails"
    assert j.completed_at - j.placed_at == pytest.approx(18.5)


def test_a_bad_script_fails_half_a_second_after_a_late_start():
    w = world({"timings": {"image_pull_s": [9.0, 9.0]}})
    j = w.submit_job(job(script="/mnt/train.py"), workspace="ws")
    w.run_until_idle()
    assert j.completed_at - j.running_at == pytest.approx(0.5)


def test_bad_script_failure_time_is_set_in_the_config():
    timings = {"bad_script_fail_after_placement_s": 30.0, "bad_script_fail_s": 2.0}
    w = world({"timings": {**PULL_2S["timings"], **timings}})
    j = w.submit_job(job(script="/mnt/train.py"), workspace="ws")
    w.run_until_idle()
    assert j.completed_at - j.placed_at == pytest.approx(30.0)


def test_bad_script_failure_time_with_the_default_image_pull():
    w = world(seed=4)
    jobs = [w.submit_job(job(script="/mnt/train.py"), workspace="ws") for _ in range(20)]
    w.run_until_idle()
    delays = [j.completed_at - j.placed_at for j in jobs]
    assert all(18.5 - 1e-6 <= d <= 6 + 0.08 + 15.02 + 0.5 + 1e-6 for d in delays), delays
    assert sum(d < 19.5 for d in delays) >= 5, "a fast pull fails at 18.5 s"


@pytest.mark.parametrize("job_type", ["binary", "binary_exp"])
def test_a_binary_job_runs_a_command_as_its_script(job_type):
    w = world()
    command = 'python -c "from time import sleep; sleep(1000);"'
    j = w.submit_job(job(script=command, type=job_type, runtime_s=30), workspace="ws")
    empty = w.submit_job(job(script="", type=job_type, runtime_s=30), workspace="ws")
    w.run_until_idle()
    assert (j.status, round(run_time(j), 6)) == ("Completed", 30)
    assert empty.status == "Failed" and empty.fail_reason == "bad_script"


def test_a_command_is_a_bad_script_for_other_job_types():
    w = world()
    j = w.submit_job(job(script="python train.py", type="pytorch2", runtime_s=30), workspace="ws")
    w.run_until_idle()
    assert j.status == "Failed" and j.fail_reason == "bad_script"
