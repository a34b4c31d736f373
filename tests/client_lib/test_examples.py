"""Each example notebook's client_lib calls, in the notebook's order and with its arguments;
what a cell shows is either the returned string or what the call printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import client_lib
from mock_server.testing import MockServer

NAME = r"lm-mpi-job-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
IMAGES = "cr.ai.cloud.ru/aicloud-base-images"
CAP = pytest.CaptureFixture[str]


def submitted(job: client_lib.Job) -> str:
    out = job.submit()
    assert re.fullmatch(rf'Job "{NAME}" created\.', out)
    assert job.name is not None
    return job.name


def test_job_launch_tf1_with_custom_image(
    ml_space: MockServer, tmp_path: Path, capsys: CAP
) -> None:
    req = tmp_path / "home/jovyan/quick-start/job_launch/requirements.txt"
    req.parent.mkdir(parents=True)
    req.write_text("# tensorflow 1.15 is in the base image\nrequests\n")
    with client_lib.use(client_lib.Settings.from_env().with_(nfs_root=str(tmp_path))):
        build = client_lib.ImageBuildJob(
            from_image=f"{IMAGES}/horovod-cuda10.0-tf1.15.0-pt1.3.0",
            requirements_file="/home/jovyan/quick-start/job_launch/requirements.txt",
        )
        receipt = build.submit()
    ws = ml_space.credentials.workspace_id
    assert re.fullmatch(
        r"ImageBuildJob \"\{'image': 'cr\.ai\.cloud\.ru/" + ws + r"/job-custom-image-[0-9a-f]{6}', "
        r"'name': 'image-build-job-[a-z0-9]{5}', 'status': 'ok'\}\" created",
        receipt,
    )
    assert build.new_image and build.new_image.startswith(f"cr.ai.cloud.ru/{ws}/job-custom-image-")
    build.logs()
    assert (
        capsys.readouterr().out == f'"Job={build.name} is not ready yet, try again in 10 seconds"\n'
    )
    ml_space.advance(400)
    build.logs()
    log = capsys.readouterr().out
    assert f"Resolved base name {IMAGES}/horovod-cuda10.0-tf1.15.0-pt1.3.0" in log
    assert "Collecting requests" in log

    job = client_lib.Job(
        base_image=f"{IMAGES}/horovod-cuda10.0-tf1.15.0-pt1.3.0",
        script="/home/jovyan/quick-start/job_launch/tensorflow_mnist_estimator.py",
        n_workers=2,
        instance_type="v100.1gpu",
    )
    name = submitted(job)
    client_lib.jobs()
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ : {name} : Pending\n", capsys.readouterr().out
    )
    job.logs()
    client_lib.logs(name)
    assert capsys.readouterr().out == f'"Job {name} in queue. Try later"\n' * 2
    ml_space.advance(600)
    job.logs()
    log = capsys.readouterr().out
    assert f"{name}-mpiworker-0.{name}:1," in log
    assert "name: Tesla V100-SXM3-32GB major: 7 minor: 0" in log  # TF 1.15 names its GPU
    assert job.kill() == f'Job "{name}" deleted'
    assert client_lib.kill(name) == f'Job "{name}" deleted'
    assert client_lib.save_aws_credentials("", "", "") is None


def test_job_launch_tf2(ml_space: MockServer, capsys: CAP) -> None:
    table = str(client_lib.get_instance_types(regions="SR002-MT"))
    assert "│ SR002-MT │ a100.1gpu.40            │ 230Gi  │ 12  │ 1   │" in table
    assert len(table.splitlines()) == 12 + 4  # 12 types, free.0gpu not listed
    job = client_lib.Job(
        base_image=f"{IMAGES}/horovod-cuda11.0-tf2.4.0-pt1.7.1-a100",
        script="/home/jovyan/aicloud-examples/quick-start/job_launch_tf2/tensorflow_mnist_estimator.py",
        region="SR002-MT",
        instance_type="a100.1gpu.40",
        n_workers=1,
        type="horovod",
        processes_per_worker=1,
        job_desc="horovod | client_lib | use_env=False | tf2",
    )
    name = submitted(job)
    assert job.status() == "Job status=Pending"
    ml_space.advance(400)  # the notebook's status cell ran after the 5 min 37 s run
    assert job.status() == "Job status=Completed"
    job.logs()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(f" Job {name} is starting...")
    assert re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z ", lines[0])
    assert any(ln.endswith("🚀 All workers are READY 🚀") for ln in lines)
    assert job.kill() == f'Job "{name}" deleted'


def test_job_launch_cpu(ml_space: MockServer, capsys: CAP) -> None:
    table = str(client_lib.get_instance_types(regions="SR003"))
    assert len(table.splitlines()) == 30 + 4
    assert "│ SR003  │ cpu.8C.32G                   │ 32Gi   │ 8   │ 0   │" in table
    job = client_lib.Job(
        base_image=f"{IMAGES}/horovod-cuda10.0-tf1.15.0-pt1.3.0",
        script="/home/jovyan/aicloud-examples/quick-start/job_launch_cpu/xgboost-boston-house-price.py",
        region="SR003",
        instance_type="cpu.8C.32G",
        n_workers=1,
        type="pytorch2",
        processes_per_worker=1,
        job_desc="pytorch2 | client_lib | use_env=False | CPU-job",
    )
    name = submitted(job)
    ml_space.advance(22)
    assert job.status() == "Job status=Running"
    job.logs()
    log = capsys.readouterr().out
    assert f"Job {name} is starting..." in log  # no "(pytorch2)" for a CPU job
    assert (
        "[1,0]<stdout>:Working dir: /home/jovyan\n" in log  # the job runs in the NFS home
    )
    ml_space.advance(60)
    assert job.status() == "Job status=Succeeded"
    assert job.kill() == f'Job "{name}" deleted'


def test_job_launch_pt_killed_while_queued(ml_space: MockServer, capsys: CAP) -> None:
    busy = client_lib.Job(
        base_image=f"{IMAGES}/py3.10-torch2.1.2:0.0.40",
        script="/home/jovyan/busy.py",
        region="SR002-MT",
        instance_type="a100.8gpu.80vG.96C.768G",
        n_workers=125,  # another job holds all 1000 GPUs of the region pool
        type="pytorch2",
        env_variables={"MLSPACE_SIM_RUNTIME_S": 3600},
    )
    submitted(busy)
    client_lib.get_instance_types(regions="SR002-MT")
    job = client_lib.Job(
        base_image=f"{IMAGES}/cuda12.1-torch2-py39:0.0.36",
        script="/home/jovyan/aicloud-examples/quick-start/job_launch_pt/train_distributed_example-torch2.py",
        region="SR002-MT",
        instance_type="a100.1gpu.40",
        n_workers=1,
        type="pytorch2",
        processes_per_worker=1,
        job_desc="pytorch2 | client_lib | use_env=False | torch2",
    )
    name = submitted(job)
    ml_space.advance(120)
    assert job.status() == "Job status=Pending"
    job.logs()
    assert capsys.readouterr().out == f'"Job {name} in queue. Try later"\n'
    assert job.kill() == f'Job "{name}" deleted'
    assert job.status() == "Job status=Deleted"


def test_pytorch_example_default_region_refuses_the_a100_type(ml_space: MockServer) -> None:
    for script, type_ in (
        ("train_horovod_example.py", "horovod"),
        ("train_distributed_example.py", "pytorch"),
    ):
        job = client_lib.Job(
            base_image="registry.aicloud.sbcp.ru/horovod-tf15",
            script=f"/home/jovyan/pytorch_examples/{script}",
            n_workers=2,
            instance_type="a100.1gpu.80vG.12C.96G",
            type=type_,
        )
        with pytest.raises(client_lib.ClientLibError, match="for region=DGX2-MT"):
            job.submit()
        fixed = client_lib.Job(**{**job.params, "region": "SR002-MT"})
        submitted(fixed)


def test_pytorch_elastic(ml_space: MockServer, capsys: CAP) -> None:
    base = "/home/jovyan/aicloud-examples/pytorch-elastic-example"
    job = client_lib.Job(
        base_image=f"{IMAGES}/cuda12.1-torch2-py39:0.0.36",
        script=f"{base}/train_ddp_elastic_example-torch2.py",
        region="SR006",
        instance_type="a100plus.1gpu.80vG.12C.96G",
        flags={"epochs": 10},
        type="pytorch_elastic",
        n_workers=3,
        elastic_min_workers=1,
        elastic_max_workers=3,
        checkpoint_dir=f"{base}/logs",
    )
    submitted(job)
    ml_space.advance(60)
    assert job.status() == "Job status=Completed"
    job.logs()
    log = capsys.readouterr().out
    assert "min_nodes        : 1" in log and "group_world_size=3" in log


@pytest.mark.parametrize(
    ("image", "script", "running_after"),
    [
        (
            f"{IMAGES}/py3.10-torch2.2.2:0.0.40",
            "/home/jovyan/ddp_quick_start/train_distributed_example.py",
            240,
        ),
        (
            "cr.ai.cloud.ru/76f657c6-f53b-430d-b840-ae7f2c1af48f/job-lightning:0.1",
            "/home/jovyan/lightning_image_classification.py",
            60,
        ),
    ],
    ids=["hf_llm_ddp", "lightning"],
)
def test_pytorch2_use_env_jobs_seen_running(
    ml_space: MockServer, capsys: CAP, image: str, script: str, running_after: int
) -> None:
    job = client_lib.Job(
        base_image=image,
        script=script,
        region="SR002-MT",
        instance_type="a100.1gpu.40",
        type="pytorch2",
        n_workers=1,
        pytorch_use_env=True,
    )
    name = submitted(job)
    ml_space.advance(running_after)
    assert job.status() == "Job status=Running"
    job.logs()
    assert f"Job {name} (pytorch2) is starting..." in capsys.readouterr().out
    assert job.kill() == f'Job "{name}" deleted'
    assert job.status() == "Job status=Deleted"
