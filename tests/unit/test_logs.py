"""Job logs: rendered on demand in the platform's format, growing with virtual time."""

from __future__ import annotations

import random
import re

import pytest

from simulator.logs import format_ts
from tests.unit.builders import PULL_2S, START, job, split, world

IMAGES = "cr.ai.cloud.ru/aicloud-base-images"
TF2 = f"{IMAGES}/horovod-cuda11.0-tf2.4.0-pt1.7.1-a100"
TF1 = f"{IMAGES}/horovod-cuda10.0-tf1.15.0-pt1.3.0"
TORCH = f"{IMAGES}/cuda12.1-torch2-py39:0.0.36"


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


def test_non_horovod_output_is_tagged_per_rank_and_stream():
    w, j = finished(job("v100.1gpu", n_workers=2, runtime_s=60, type="pytorch"))
    texts = w.job_logs(j)
    after_ready = texts[next(i for i, t in enumerate(texts) if "READY" in t) + 1 :]
    assert after_ready
    assert all(re.match(r"\[1,[01]\]<std(out|err)>:", t) for t in after_ready)
    assert "[1,0]<stdout>:local rank = 0, rank = 0" in after_ready
    assert "[1,1]<stdout>:local rank = 0, rank = 1" in after_ready
    assert "[1,0]<stdout>:Epoch 0" in after_ready


def test_horovod_output_is_untagged_and_lists_hosts():
    w, j = finished(job("v100.2gpu", n_workers=2, runtime_s=60, type="horovod", base_image=TF2))
    texts = w.job_logs(j)
    assert texts[0] == f"Job {j.name} is starting..."
    assert f"{j.name}-mpimaster-0.{j.name}:2," in texts
    assert f"{j.name}-mpiworker-0.{j.name}:2," in texts
    assert not any("<stdout>" in t for t in texts)
    assert "Epoch 1/100" in texts


def test_cpu_job_banner_has_no_type():
    w, j = finished(job("cpu.8C.32G", region="CCE-MT", runtime_s=30))
    assert w.job_logs(j)[0] == f"Job {j.name} is starting..."


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "[1,0]<stderr>:torch.cuda.OutOfMemoryError: CUDA out of memory."),
        ({"type": "horovod", "base_image": TF2}, "tensorflow.python.framework.errors_impl"),
        ({"base_image": "cr.ai.cloud.ru/x/xgboost:1"}, "xgboost.core.XGBoostError"),
        ({"base_image": "cr.ai.cloud.ru/x/transformers:1"}, "transformers/trainer.py"),
    ],
)
def test_a_failed_job_ends_with_its_frameworks_traceback(params, error):
    w, j = finished(job(runtime_s=60, outcome="failure", **params))
    texts = w.job_logs(j)
    assert j.status == "Failed"
    traceback = next(
        i for i, t in enumerate(texts) if t.endswith("Traceback (most recent call last):")
    )
    assert traceback > texts.index("🚀 All workers are READY 🚀")
    last_error = max(i for i, t in enumerate(texts) if error in t)
    assert (
        traceback
        < last_error
        < texts.index("Primary job  terminated normally, but 1 process returned")
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
    assert not any("Test set:" in ln for ln in at_kill[-3:])


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


# ---- the script's own output, per framework (jobs with no run-time model of their own) ---------
@pytest.mark.parametrize(
    ("job_type", "image", "markers"),
    [
        (
            "pytorch2",
            TORCH,
            ["Start train with num epoch = ", "[1,0]<stdout>:Epoch 0", "train loss = "],
        ),
        ("pytorch", TF1, ["[1,0]<stdout>:local rank = 0, rank = 0", "Test set: Average loss: "]),
        ("horovod", TF2, ["Epoch 1/100", "Epoch 00001: saving model to ", "[0.0"]),
        ("horovod", TF1, ["INFO:tensorflow:loss = ", "'global_step': "]),
        ("horovod", f"{IMAGES}/horovod-torch1.7:1", ["process local rank = 0, global rank =  0"]),
        ("pytorch_elastic", TORCH, ["Start train with num epoch = ", "worker group successfully"]),
        ("pytorch2", "cr.ai.cloud.ru/ws/xgboost-cpu:1", ["[1,0]<stdout>:RMSE: 0.4"]),
        ("pytorch2", "cr.ai.cloud.ru/ws/transformers-4.40:1", ["'learning_rate': ", "'epoch': "]),
        (
            "pytorch2",
            "cr.ai.cloud.ru/ws/job-lightning:0.1",
            ["`Trainer.fit` stopped: `max_epochs="],
        ),
        ("binary", "cr.ai.cloud.ru/img:1", ["[1,0]<stdout>:Epoch 1/", "Training finished"]),
    ],
)
def test_a_job_without_a_model_logs_in_the_format_its_type_and_image_name(job_type, image, markers):
    w, j = finished(job(runtime_s=120, type=job_type, base_image=image))
    text = "\n".join(w.job_logs(j))
    for marker in markers:
        assert marker in text


def floats_after(prefix, texts):
    return [
        float(re.search(r"[-\d.e]+", t.split(prefix, 1)[1]).group()) for t in texts if prefix in t
    ]


def test_loss_falls_and_accuracy_rises_as_training_goes_on():
    w, j = finished(job(runtime_s=600, type="horovod", base_image=TF2))
    texts = w.job_logs(j)
    losses, accuracies = floats_after("- loss: ", texts), floats_after("- accuracy: ", texts)
    assert len(losses) > 10
    assert losses[0] > 5 * losses[-2] and accuracies[0] < accuracies[-2]
    w, j = finished(job(runtime_s=600))
    texts = w.job_logs(j)
    train = floats_after("train loss = ", texts)
    tests = floats_after("Accuracy: ", texts)
    assert sum(train[:12]) / 12 > 3 * sum(train[-12:]) / 12
    assert tests[0] < tests[-1]


def test_values_are_seeded_per_world():
    def values(seed):
        w = world(PULL_2S, seed=seed)
        j = w.submit_job(job(runtime_s=300), workspace="ws")
        w.run_until_idle()
        return floats_after("train loss = ", w.job_logs(j))

    assert values(3) == values(3)
    assert values(3) != values(4)


@pytest.mark.parametrize(
    ("job_type", "image"),
    [("pytorch2", TORCH), ("horovod", TF2), ("horovod", TF1), ("pytorch_elastic", TORCH),
     ("pytorch2", "x/transformers:1"), ("pytorch2", "x/lightning:1"), ("binary", "img")],
)  # fmt: skip
def test_a_ten_year_job_still_renders_a_bounded_log(job_type, image):
    w, j = finished(job("v100.16gpu", n_workers=8, runtime_s=10 * 365 * 86400, type=job_type,
                        base_image=image))  # fmt: skip
    assert 20 < len(w.job_logs(j)) < 3000


def test_a_completed_job_keeps_the_lines_of_its_last_instant():
    """The script's last lines are stamped at the end of its run, and the job ends at the same
    instant computed another way: float sums near epoch 1.7e9 differ by an ulp, so about one job
    in forty started at a fractional time lost its final lines (seen in realtime mode on CI)."""
    lost = []
    for seed in range(200):
        r = random.Random(seed)
        w = world(seed=seed)
        w.advance(r.uniform(0, 50))
        spec = job(runtime_s=r.uniform(5, 30), type="pytorch_elastic", base_image=TORCH)
        j = w.submit_job(spec, workspace="ws")
        w.run_until_idle()
        if "Done waiting for other agents" not in w.job_logs(j)[-1]:
            lost.append(seed)
    assert lost == []
