"""Each scenario's simulated log against what the documented example recorded.

The figures below are facts from the examples' stored outputs and scripts, each with its source
(``shared/reference/examples.md`` digests aicloud-examples; [O] observed in a stored output, [V]
read from the example's code). They are written here, not read from the scenario files, so a
scenario that drifts from the record fails. Timings must agree within 10 %.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from itertools import pairwise

import pytest

from scenarios.runner import Report

Replay = Callable[[str], Report]
TOLERANCE = 0.10
TAG = re.compile(r"^\[1,(\d+)\]<std(?:out|err)>:")


def timeline(report: Report, subject: str = "job") -> list[tuple[float, str]]:
    """(seconds since the first line, text without the launcher's rank tag) per log line."""
    rows = []
    for line in report.subjects[subject].log:
        stamp, text = line.split(" ", 1)
        moment = datetime.fromisoformat(re.sub(r"(\.\d{6})\d*", r"\1", stamp[:-1]) + "+00:00")
        rows.append((moment.timestamp(), TAG.sub("", text)))
    first = rows[0][0]
    return [(t - first, text) for t, text in rows]


def at(rows: list[tuple[float, str]], pattern: str, *, last: bool = False) -> float:
    """When the first (or last) line matching ``pattern`` was printed."""
    hits = [t for t, text in rows if re.search(pattern, text)]
    assert hits, f"no line matches {pattern!r}"
    return hits[-1] if last else hits[0]


def texts(rows: list[tuple[float, str]], pattern: str) -> list[str]:
    return [text for _, text in rows if re.search(pattern, text)]


def close(simulated: float, observed: float) -> bool:
    return abs(simulated - observed) <= TOLERANCE * observed


# ---- job_launch_tf2: examples.md §4, the log stored on 2024-05-23 [O] -------------------------
TF2 = {
    "log_span_s": 336.9,  # "is starting..." 12:31:03.485 -> final [loss, accuracy] 12:36:40.405
    "epoch_1_at_s": 21.7,  # "Epoch 1/100" at 12:31:25.168
    "epoch_1_s": 10.57,  # -> "Epoch 00001: saving model" 12:31:35.739
    "later_epoch_s": 4.98,  # 61 epochs to "Epoch 00062: early stopping" 12:36:39.551
    "epochs": 62,
    "max_epochs": 100,
    "accuracy": 0.9928,  # [0.04428500309586525, 0.9927999973297119]
    "loss": 0.0443,
}


def test_tf2_keras_log_matches_the_recorded_run(replayed: Replay) -> None:
    rows = timeline(replayed("job_launch_tf2"))
    assert close(rows[-1][0], TF2["log_span_s"])
    assert close(at(rows, r"^Epoch 1/100$"), TF2["epoch_1_at_s"])
    saved_1 = at(rows, r"^Epoch 00001: saving model to ")
    assert close(saved_1 - at(rows, r"^Epoch 1/100$"), TF2["epoch_1_s"])
    stop = at(rows, r"^Epoch 00062: early stopping$")
    assert close((stop - saved_1) / (TF2["epochs"] - 1), TF2["later_epoch_s"])
    epochs = texts(rows, r"^Epoch \d+/\d+$")
    assert epochs[0] == "Epoch 1/100" and epochs[-1] == f"Epoch {TF2['epochs']}/100"
    assert len(epochs) == TF2["epochs"]
    assert len(texts(rows, r"^Epoch \d{5}: saving model to ")) == TF2["epochs"]
    loss, accuracy = (float(x) for x in re.fullmatch(r"\[(.+), (.+)\]", rows[-1][1]).groups())
    assert abs(accuracy - TF2["accuracy"]) < 0.002 and close(loss, TF2["loss"])


# ---- job_launch_cpu: examples.md §5, the 23-line log stored on 2024-05-24 [O] -----------------
CPU = {
    "log_span_s": 23.8,  # starting 13:30:12.655 -> RMSE 13:30:36.474
    "ready_to_rmse_s": 8.7,
    "ready_to_working_dir_s": 1.19,  # READY 13:30:27.739 -> "Working dir" 13:30:28.930
    "lines": 23,
    "rmse": "RMSE: 0.47390177839101205",
}


def test_xgboost_log_is_the_recorded_regression_output(replayed: Replay) -> None:
    rows = timeline(replayed("job_launch_cpu"))
    lines = [text for _, text in rows]
    assert len(lines) == CPU["lines"]
    assert close(rows[-1][0], CPU["log_span_s"])
    ready = at(rows, "All workers are READY")
    assert close(at(rows, r"^RMSE: ") - ready, CPU["ready_to_rmse_s"])
    assert close(at(rows, r"^Working dir: /home/jovyan$") - ready, CPU["ready_to_working_dir_s"])
    assert lines[-2:] == ["=" * 50, CPU["rmse"]]
    assert "RangeIndex: 20640 entries, 0 to 20639" in lines and "memory usage: 1.4 MB" in lines
    assert not any("accuracy" in line.lower() for line in lines), "a regression has no accuracy"


# ---- pytorch_elastic: examples.md §8, the log stored on 2024-09-20 (whole seconds) [O] --------
ELASTIC = {
    "log_span_s": 17.0,  # 10:20:03Z -> "Done waiting" 10:20:20Z
    "rendezvous_s": 7.0,  # -> "Rendezvous complete" 10:20:10Z
    "epochs": list(range(1, 10)),  # --epochs=10 from scratch: epochs 1..9
    "loss_lines_per_epoch": 4,  # batch 50 over 3 ranks, every 100 batches
    "accuracy_first_pct": 93.8,
    "accuracy_last_pct": 98.5,
}


def test_elastic_log_matches_the_recorded_run(replayed: Replay) -> None:
    rows = timeline(replayed("pytorch_elastic"))
    assert close(rows[-1][0], ELASTIC["log_span_s"])
    assert close(at(rows, "Rendezvous complete for workers"), ELASTIC["rendezvous_s"])
    epochs = [int(t.split()[1]) for t in texts(rows, r"^Epoch \d+$")]
    assert epochs == ELASTIC["epochs"]
    assert len(texts(rows, "^train loss = ")) == ELASTIC["loss_lines_per_epoch"] * len(epochs)
    accuracy = [float(t.rsplit(" ", 1)[1][:-1]) for t in texts(rows, r"^Test set: .*%$")]
    assert abs(accuracy[0] - ELASTIC["accuracy_first_pct"]) < 1.0
    assert abs(accuracy[-1] - ELASTIC["accuracy_last_pct"]) < 1.0
    assert rows[-1][1].endswith(
        "Done waiting for other agents. Elapsed: 0.0016334056854248047 seconds"
    )


# ---- hf_llm_ddp: examples.md §9, the partial log stored on 2024-07-18 [O] ---------------------
HF = {
    "ready_s": 15.1,  # starting 18:59:37.478 -> READY 18:59:52.575
    "shards_done_s": 110.7,  # "Downloading shards ... 2/2" 19:01:28.17
    "first_step_s": 124.8,  # first {'loss': ...} 19:01:42.30
    "step_s": 2.03,  # step 52 at 19:03:25.96
    "first_step": "{'loss': 4.4566, 'grad_norm': nan, 'learning_rate': 0.0, 'epoch': 0.03}",
    "step_52_epoch": 1.44,
    "step_52_learning_rate": 0.00019571068366759143,
    "steps": 360,  # [V] 289 samples / (batch 1 x accumulation 8) = 36 per epoch x 10 epochs
}


def test_hugging_face_log_matches_the_recorded_steps(replayed: Replay) -> None:
    rows = timeline(replayed("hf_llm_ddp"))
    assert close(at(rows, "All workers are READY"), HF["ready_s"])
    assert close(at(rows, r"^Downloading shards: 100%"), HF["shards_done_s"])
    steps = [(t, text) for t, text in rows if text.startswith("{'loss': ")]
    assert len(steps) == HF["steps"]
    assert steps[0][1] == HF["first_step"] and close(steps[0][0], HF["first_step_s"])
    assert close((steps[51][0] - steps[0][0]) / 51, HF["step_s"])
    step_52 = eval(steps[51][1], {"nan": float("nan")})
    assert step_52["epoch"] == HF["step_52_epoch"]
    assert abs(step_52["learning_rate"] / HF["step_52_learning_rate"] - 1) < 0.01
    losses = [float(re.match(r"\{'loss': ([\d.]+)", t).group(1)) for _, t in steps]
    assert sum(losses[:20]) / 20 > 2 * sum(losses[-20:]) / 20, "loss falls"


# ---- lightning: examples.md §10, the 1,081-line log stored on 2024-07-31 [O] ------------------
LIGHTNING = {
    "log_span_s": 125.2,  # starting 20:28:55.627 -> last line 20:31:00.78
    "gpu_available_s": 45.2,  # "GPU available: True (cuda), used: True" 20:29:40.83
    "training_s": 73.9,  # 20:29:46.38 -> "Epoch 9: 100% ..." 20:31:00.27
    "epochs": 10,
}


def test_lightning_log_matches_the_recorded_run(replayed: Replay) -> None:
    rows = timeline(replayed("lightning"))
    assert close(rows[-1][0], LIGHTNING["log_span_s"])
    assert close(
        at(rows, r"^GPU available: True \(cuda\), used: True$"), LIGHTNING["gpu_available_s"]
    )
    ends = texts(rows, r"^Epoch \d+: 100% 32/32 ")
    assert [int(t.split(":")[0].split()[1]) for t in ends] == list(range(LIGHTNING["epochs"]))
    training = at(rows, r"^Epoch 9: 100%") - (at(rows, r"^Epoch 0: ") - 7.4 * 0.03)
    assert close(training, LIGHTNING["training_s"])
    assert rows[-1][1].endswith("- Abort COMPLETE")


# ---- notebooks_gpu: examples.md §2, TensorBoard event-file names of three runs, May 2024 [O] ---
NOTEBOOK = {
    "epochs": 3,  # [V] the notebook trains 3 epochs
    "epoch_s": (6.0, 9.0),  # event files 8+6 s, 7+7 s, 9+6 s apart
    "loss_lines_per_epoch": 12,  # [V] batch 50: 1,200 batches, a line every 100
}


def test_notebook_training_shows_three_epochs_at_the_recorded_pace(replayed: Replay) -> None:
    rows = timeline(replayed("notebooks_gpu"))
    starts = [t for t, text in rows if re.fullmatch(r"Epoch \d+", text)]
    assert len(starts) == NOTEBOOK["epochs"]
    assert "Start train 3 epochs total" in texts(rows, "^Start train")
    lo, hi = NOTEBOOK["epoch_s"]
    for a, b in pairwise(starts):
        assert lo * (1 - TOLERANCE) <= b - a <= hi * (1 + TOLERANCE)
    assert len(texts(rows, "^train loss = ")) == NOTEBOOK["loss_lines_per_epoch"] * 3
    assert (
        len(texts(rows, r"^Test set: Average loss: \d\.\d{4}, Accuracy: \d+/10000 \(\d+%\)$")) == 3
    )


# ---- scripts without a recorded run: the format their code prints [V] -------------------------
def test_tf1_estimator_logs_every_500_steps_and_prints_its_evaluation(replayed: Replay) -> None:
    rows = timeline(replayed("job_launch"))  # examples.md §3: steps = 20000 // hvd.size()
    logged = texts(rows, r"^INFO:tensorflow:loss = \S+, step = \d+")
    steps = [int(re.search(r"step = (\d+)", t).group(1)) for t in logged]
    assert steps == list(range(0, 10_001, 500))
    evaluation = texts(rows, r"^\{'accuracy': ")
    assert len(evaluation) == 1
    assert re.fullmatch(
        r"\{'accuracy': 0\.98\d\d, 'loss': 0\.\d+, 'global_step': 10000\}", evaluation[0]
    )


@pytest.mark.parametrize(
    ("name", "subject", "rank_line", "epochs", "loss_lines"),
    [
        ("job_launch_pt", "job", "local rank = 0, rank = 0", [0, 1, 2], 12),  # examples.md §6
        ("pytorch_example", "hvd_job", "process local rank = 0, global rank =  1", [0, 1, 2], 6),
        ("pytorch_example", "pt_job", "local rank = 0, rank = 1", [0, 1, 2], 6),  # §7: 2 ranks
    ],
)
def test_pytorch_examples_print_their_scripts_lines(
    replayed: Replay, name: str, subject: str, rank_line: str, epochs: list[int], loss_lines: int
) -> None:
    rows = timeline(replayed(name), subject)
    assert rank_line in [text for _, text in rows]
    assert texts(rows, "^Start train with num epoch = ") == ["Start train with num epoch = 3"]
    assert [int(t.split()[1]) for t in texts(rows, r"^Epoch \d+$")] == epochs
    assert len(texts(rows, "^train loss = ")) == loss_lines * len(epochs)
    assert len(texts(rows, r"^Test set: Average loss: \d\.\d{4}, Accuracy: \d+\.\d%$")) == 3


def test_the_rest_api_job_logs_in_the_format_of_its_image(replayed: Replay) -> None:
    rows = timeline(replayed("public_api"))  # horovod (the default type), TF 1.15 image
    assert texts(rows, "^INFO:tensorflow:Saving dict for global step ")
