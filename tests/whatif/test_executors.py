"""Sweeps give the same results whichever executor runs them."""

from __future__ import annotations

import pytest

from simulator.whatif import run_whatif
from simulator.whatif.executors import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    make_executor,
    runs_in_process,
)
from simulator.workload import GeneratorSpec
from tests.whatif.helpers import config

SPEC = GeneratorSpec(days=2, jobs_per_day=150, notebooks_per_day=4)
CONFIGS = [
    config("16", [8, 8], move=False),
    config("16 moved", [8, 8], move=True),
    config("64", [8] * 8),
]
SEEDS = [0, 1]


@pytest.fixture(scope="module")
def serial():
    return run_whatif(SPEC, CONFIGS, SEEDS, executor="serial")


def test_runs_come_back_in_configuration_then_seed_order(serial):
    assert [(r["configuration"], r["seed"]) for r in serial.runs] == [
        (c.name, s) for c in CONFIGS for s in SEEDS
    ]
    first, second = serial.runs_of("16")
    assert first["metrics"] != second["metrics"]  # each seed draws its own workload


def test_local_processes_give_identical_results(serial):
    result = run_whatif(SPEC, CONFIGS, SEEDS, executor=ProcessExecutor(2))
    assert result.executor == "processes"
    assert result.runs == serial.runs


def test_dask_cluster_gives_identical_results(serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        executor = make_executor(f"dask://{address}")
        assert isinstance(executor, DaskExecutor)
        result = run_whatif(SPEC, CONFIGS, SEEDS, executor=executor)
    assert result.executor == "dask"
    assert result.runs == serial.runs


def test_executor_names():
    assert isinstance(make_executor("serial"), SerialExecutor)
    assert isinstance(make_executor(None), ProcessExecutor)
    with pytest.raises(ValueError, match="dask://HOST:PORT"):
        make_executor("dask://")
    with pytest.raises(ValueError, match="unknown executor"):
        make_executor("slurm")


def test_a_single_run_or_the_serial_executor_runs_in_this_process():
    """What the what-if command asks before it starts its plot workers beside the runs."""
    assert runs_in_process(None, 1)
    assert runs_in_process("processes", 1)
    assert runs_in_process("dask://127.0.0.1:8786", 0)
    assert runs_in_process("serial", 6)
    assert not runs_in_process(None, 2)
    assert not runs_in_process("processes", 6)
    assert not runs_in_process("dask://127.0.0.1:8786", 6)
    assert run_whatif(SPEC, CONFIGS[:1], [0], executor="processes").executor == "serial"
