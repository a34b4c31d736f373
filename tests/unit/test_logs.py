"""Job logs: rendered on demand in the platform's format, growing with virtual time."""

from __future__ import annotations

import re

import pytest

from simulator.logs import format_ts
from tests.unit.builders import PULL_2S, START, job, split, world


def finished(spec, overrides=None):
    w = world({**PULL_2S, **(overrides or {})}, seed=2)
    j = w.submit_job(spec, workspace="ws")
    w.run_until_idle()
    return w, j


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        (1716467463.0, "2024-05-23T12:31:03Z"),
        (1716467463.5, "2024-05-23T12:31:03.5Z"),
        (1716467463.25, "2024-05-23T12:31:03.25Z"),
        (1716467463.125, "2024-05-23T12:31:03.125Z"),
        (0.000000001, "1970-01-01T00:00:00.000000001Z"),
    ],
)
def test_timestamps_are_rfc3339_nanoseconds_with_trailing_zeros_trimmed(epoch, text):
    assert format_ts(epoch) == text


def test_banner_and_worker_wait_for_an_mpi_job():
    w, j = finished(job(runtime_s=60))
    lines = [split(ln) for ln in w.job_logs(j, timestamps=True)]
    texts = [t for _, t in lines]
    assert texts[0] == f"Job {j.name} (pytorch2) is starting..."
    assert lines[0][0] == pytest.approx(j.placed_at + 2, abs=1e-6)
    waiting = next(t for t, s in lines if "Waiting for workers to be ready" in s)
    ready = next(t for t, s in lines if "All workers are READY" in s)
    assert waiting - lines[0][0] == pytest.approx(0.08, abs=1e-6)
    assert ready - waiting == pytest.approx(15.02, abs=1e-6)
    assert ready == pytest.approx(j.running_at, abs=1e-6)


def test_the_banner_delay_is_a_config_timing():
    w, j = finished(job(runtime_s=60), {"timings": {**PULL_2S["timings"], "banner_s": 0.5}})
    lines = [split(ln) for ln in w.job_logs(j, timestamps=True)]
    waiting = next(t for t, s in lines if "Waiting for workers to be ready" in s)
    assert waiting - lines[0][0] == pytest.approx(0.5, abs=1e-6)
    assert j.running_at - lines[0][0] == pytest.approx(0.5 + 15.02, abs=1e-6)


def test_non_horovod_output_is_tagged_and_has_epochs():
    w, j = finished(job(runtime_s=60, type="binary"))
    texts = w.job_logs(j)
    after_ready = texts[next(i for i, t in enumerate(texts) if "READY" in t) + 1 :]
    assert after_ready
    assert all(t.startswith("[1,0]<stdout>:") for t in after_ready)
    assert any(re.search(r"Epoch 1/\d+", t) for t in after_ready)


def test_horovod_output_is_untagged_and_lists_hosts():
    w, j = finished(job("v100.2gpu", n_workers=2, runtime_s=60, type="horovod"))
    texts = w.job_logs(j)
    assert texts[0] == f"Job {j.name} is starting..."
    assert f"{j.name}-mpimaster-0.{j.name}:2," in texts
    assert f"{j.name}-mpiworker-0.{j.name}:2," in texts
    assert not any("<stdout>" in t for t in texts)
    assert any(t.startswith("Epoch 1/") for t in texts)


def test_cpu_job_banner_has_no_type():
    w, j = finished(job("cpu.8C.32G", region="CCE-MT", runtime_s=30))
    assert w.job_logs(j)[0] == f"Job {j.name} is starting..."


def test_a_failed_job_ends_with_a_traceback():
    w, j = finished(job(runtime_s=60, outcome="failure"))
    texts = w.job_logs(j)
    assert j.status == "Failed"
    assert "[1,0]<stderr>:Traceback (most recent call last):" in texts
    assert texts.index("[1,0]<stderr>:Traceback (most recent call last):") > texts.index(
        "🚀 All workers are READY 🚀"
    )


def test_a_bad_script_path_says_the_file_cannot_be_opened():
    w, j = finished(job(script="/data/train.py"))
    assert any("can't open file '/data/train.py'" in t for t in w.job_logs(j))


def test_only_lines_whose_time_has_passed_are_shown():
    w = world(PULL_2S)
    j = w.submit_job(job(runtime_s=120), workspace="ws")
    assert w.job_logs(j) == []
    w.advance(5)
    early = w.job_logs(j, timestamps=True)
    assert any("is starting..." in ln for ln in early)
    assert not any("READY" in ln for ln in early)
    seen = len(early)
    for _ in range(30):
        w.advance(5)
        lines = w.job_logs(j, timestamps=True)
        assert len(lines) >= seen
        assert all(split(ln)[0] <= w.now_epoch() + 1e-6 for ln in lines)
        seen = len(lines)
    assert j.status == "Completed"
    final = w.job_logs(j)
    w.advance(1000)
    assert w.job_logs(j) == final


def test_a_killed_job_log_stops_at_the_kill():
    w = world(PULL_2S)
    j = w.submit_job(job(runtime_s=600), workspace="ws")
    w.advance(100)
    w.kill_job(j.name)
    at_kill = w.job_logs(j, timestamps=True)
    w.advance(1000)
    assert w.job_logs(j, timestamps=True) == at_kill
    assert split(at_kill[-1])[0] <= j.completed_at + 1e-6
    assert not any("Training finished" in ln for ln in at_kill)


@pytest.mark.parametrize("outcome", ["success", "failure"])
def test_a_zero_second_run_still_logs_in_time_order(outcome):
    w, j = finished(job(runtime_s=0, outcome=outcome))
    times = [split(ln)[0] for ln in w.job_logs(j, timestamps=True)]
    assert times == sorted(times)


def test_tail_gives_the_newest_lines_newest_first():
    w, j = finished(job(runtime_s=60))
    everything = w.job_logs(j)
    assert w.job_logs(j, tail=3) == everything[::-1][:3]
    assert w.job_logs(j, tail=10_000) == everything[::-1]
    assert w.job_logs(j, tail=0) == everything


def test_timestamps_can_be_switched_on_and_off():
    w, j = finished(job(runtime_s=60))
    plain = w.job_logs(j)
    stamped = w.job_logs(j, timestamps=True)
    assert [split(ln)[1] for ln in stamped] == plain
    times = [split(ln)[0] for ln in stamped]
    assert times == sorted(times)
    assert times[0] > START


def test_logs_render_the_same_bytes_every_time():
    w, j = finished(job(runtime_s=300, type="pytorch_elastic"))
    assert w.job_logs(j, timestamps=True) == w.job_logs(j, timestamps=True)
    assert any(t.endswith("group_world_size=1") for t in w.job_logs(j))
