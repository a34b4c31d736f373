"""``mlspace-sim scenario list|run`` and the scenario schema's error messages."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

import scenarios
from mlspace_sim.cli import main
from scenarios import models
from scenarios.schema import ScenarioError, check
from simulator.catalog import InstanceType
from simulator.jobs import Job, JobShape, JobSpec

MINIMAL: dict[str, Any] = {
    "name": "tiny",
    "title": "A tiny CPU job",
    "source": "tests",
    "summary": "one job",
    "runtime_models": [{"script": "tiny.py", "phases": {"work": 30.0}, "calibration": "made up"}],
    "steps": [
        {
            "call": "Job",
            "kwargs": {
                "base_image": "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40",
                "script": "/home/jovyan/tiny.py",
                "region": "SR003",
                "instance_type": "cpu.2C.8G",
                "type": "pytorch2",
            },
            "save": "job",
        },
        {"call": "job.submit", "expect": {"returns": 'Job "${job.name}" created.'}},
        {"wait": {"subject": "job", "until": ["Succeeded"], "max_s": 200, "step_s": 20}},
    ],
    "expect": {"subjects": {"job": {"statuses": ["Pending", "Running", "Succeeded"]}}},
}


def write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def problems(data: Any) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        check(data, "x.yaml")
    assert str(info.value).startswith("x.yaml: ")
    return info.value.problems


def test_list_names_every_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "list"]) == 0
    out = capsys.readouterr().out
    for name in (
        "notebooks_gpu", "job_launch", "job_launch_tf2", "job_launch_cpu", "job_launch_pt",
        "pytorch_example", "pytorch_elastic", "hf_llm_ddp", "lightning", "public_api",
    ):  # fmt: skip
        assert name in out


def test_run_prints_timeline_log_and_bill(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "job_launch_cpu"]) == 0
    out = capsys.readouterr().out
    for section in ("Calls", "Timeline (virtual time)", "Log excerpt: job", "Bill (RUB"):
        assert section in out
    assert "job  Succeeded" in out


def test_a_scenario_file_by_path_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", write(tmp_path, MINIMAL)]) == 0
    assert "Result: PASS" in capsys.readouterr().out


def test_failed_expectation_exits_1_and_says_which(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = {**MINIMAL, "expect": {"subjects": {"job": {"run_s": [100, 200], "bill": [5, 6]}}}}
    assert main(["scenario", "run", write(tmp_path, data)]) == 1
    out = capsys.readouterr().out
    assert "Result: FAIL" in out
    assert "job: run time 30.00 s, expected 100..200 s" in out
    assert "job: bill 0.04 RUB, expected 5..6 RUB" in out


def test_unknown_or_invalid_scenario_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scenario", "run", "no_such_example"]) == 2
    assert "no scenario named 'no_such_example'" in capsys.readouterr().err
    bad = {**MINIMAL, "steps": [{"wait": {"subject": "job", "until": []}}]}
    assert main(["scenario", "run", write(tmp_path, bad)]) == 2
    assert "tiny.yaml: steps/0/wait: 'max_s' is a required property" in capsys.readouterr().err


def test_unreachable_server_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "job_launch_cpu", "--url", "http://127.0.0.1:9/public/v2"]) == 2
    assert "cannot reach http://127.0.0.1:9/_mock/clock" in capsys.readouterr().err


def test_schema_names_each_problem_where_it_is() -> None:
    assert problems({**MINIMAL, "title": 3}) == ["title: 3 is not of type 'string'"]
    assert problems({k: v for k, v in MINIMAL.items() if k != "summary"}) == [
        "(top level): 'summary' is a required property"
    ]
    assert problems({**MINIMAL, "steps": [{"sleep": 3}]}) == [
        "steps/0: a step needs one of the keys call, http, advance, wait, sweep, fill_pool"
    ]
    assert problems({**MINIMAL, "steps": [{"advance": -1}]}) == [
        "steps/0/advance: -1 is less than the minimum of 0"
    ]
    assert problems({**MINIMAL, "steps": [{"call": "job.submit"}]}) == [
        "steps/0: uses 'job' before any step saves it",
        "expect/subjects/job: no step saves 'job'",
    ]


def test_every_packaged_file_passes_the_schema() -> None:
    for name in scenarios.names():
        assert scenarios.load(name)["name"] == name


def _job(image: str, type_: str, gpu_model: str) -> Job:
    itype = InstanceType("t", "t", 1, gpu_model, 8, 64)
    spec = JobSpec(script="/home/jovyan/s.py", base_image=image, instance_type="t", type=type_)
    shape = JobShape(itype, "medium", 2, None, spec.n_workers, "", 15.0)
    return Job(name="j", bits=1, seq=1, workspace="w", author="", spec=spec, shape=shape, now=0.0)


def test_shared_script_names_dispatch_on_the_job() -> None:
    grouped = models.by_script(scenarios.load(n) for n in scenarios.names())
    tf = models.dispatcher(
        "tensorflow_mnist_estimator.py", grouped["tensorflow_mnist_estimator.py"]
    )
    rng = random.Random(0)
    tf2_40 = tf(_job("…/horovod-cuda11.0-tf2.4.0-pt1.7.1-a100", "horovod", "A100-40GB"), rng)
    tf2_80 = tf(_job("…/horovod-cuda11.0-tf2.4.0-pt1.7.1-a100", "horovod", "A100-80GB"), rng)
    tf1 = tf(_job("…/horovod-cuda10.0-tf1.15.0-pt1.3.0", "horovod", "V100"), rng)
    assert 318 < tf2_40.runtime_s < 326  # 5 min 37 s minus the 15 s worker wait
    assert 130 < tf2_80.runtime_s < 135  # 89 epochs in 127 s on one A100 80GB
    assert tf1.runtime_s == pytest.approx(265, rel=0.04)
    ddp = models.dispatcher("train_distributed_example.py", grouped["train_distributed_example.py"])
    assert ddp(_job("py3.10-torch2.2.2", "pytorch2", "A100-40GB"), rng).runtime_s > 800
    assert ddp(_job("horovod-tf15", "pytorch", "A100-80GB"), rng).runtime_s < 12
    assert tf2_40.log.template == "keras" and tf2_40.log.params["stop_epoch"] == 62
    assert tf2_80.log.params["stop_epoch"] == 89, "the 2021 run early-stopped later"
    again = tf(_job("…/horovod-cuda11.0-tf2.4.0-pt1.7.1-a100", "horovod", "A100-40GB"), rng)
    assert again.log is tf2_40.log, "jobs of one model share its log description, no lines"


def test_a_model_log_must_name_a_template_with_the_models_phases() -> None:
    model = MINIMAL["runtime_models"][0]
    unknown = {**model, "log": {"template": "caffe"}}
    assert problems({**MINIMAL, "runtime_models": [unknown]})[0].startswith(
        "runtime_models/0/log/template: no template 'caffe'; known: generic, hf_trainer,"
    )
    wrong = {**model, "log": {"template": "xgboost"}}
    assert problems({**MINIMAL, "runtime_models": [wrong]}) == [
        "runtime_models/0/phases: template xgboost has the phases load_data, train_and_rmse, "
        "not work"
    ]
    phases = {"load_data": 1, "train_and_rmse": 8}
    typo = {**model, "phases": phases, "log": {"template": "xgboost", "params": {"rmse": 0.5}}}
    assert problems({**MINIMAL, "runtime_models": [typo]}) == [
        "runtime_models/0/log/params/rmse: template xgboost has no such parameter"
    ]
    text = {**model, "phases": phases, "log": {"template": "keras", "params": {"epochs": "ten"}}}
    assert problems({**MINIMAL, "runtime_models": [text]}) == [
        "runtime_models/0/log/params/epochs: 'ten' is not of type 'number'"
    ]
    right = {
        **MINIMAL,
        "runtime_models": [{**model, "log": {"template": "xgboost"}, "phases": phases}],
    }
    assert check(right, "x.yaml") is right
