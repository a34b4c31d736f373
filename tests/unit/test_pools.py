"""Capacity: the packaged pools, their reports, and topologies replaced by config."""

from __future__ import annotations

import pytest
import yaml

from simulator import Rejected, load_config
from tests.unit.builders import gpu_pool, job, pool, used_gpus, world


def test_default_direct_pool_is_one_16_gpu_node_for_jupyter_servers():
    direct = pool(world(), "direct")
    assert direct["serves"] == ["notebook"]
    assert direct["gpus"] == {"total": 16, "used": 0}
    assert [n["gpus"]["total"] for n in direct["nodes"]] == [16]


def test_default_region_pool_is_1000_gpus_of_8_and_16_gpu_nodes():
    region = pool(world(), "region")
    assert region["serves"] == ["job"]
    assert region["gpus"] == {"total": 1000, "used": 0}
    assert {n["gpus"]["total"] for n in region["nodes"]} == {8, 16}


def test_a_16_gpu_worker_fits_on_one_node_of_the_region_pool():
    w = world()
    submitted = w.submit_job(job("v100.16gpu", n_workers=2), workspace="ws")
    assert submitted.placed_at == w.now_epoch()
    busy = [n["gpus"]["used"] for n in pool(w, "region")["nodes"] if n["gpus"]["used"]]
    assert busy == [16, 16]


@pytest.mark.parametrize(
    ("itype", "region", "workers"),
    [("a100.8gpu", "A100-MT", 125), ("v100.1gpu", "DGX2-MT", 1000), ("v100.8gpu", "DGX2-MT", 125)],
)
def test_one_job_can_take_all_1000_region_gpus(itype, region, workers):
    w = world()
    submitted = w.submit_job(job(itype, region=region, n_workers=workers), workspace="ws")
    assert submitted.gpu_count == 1000
    assert submitted.placed_at
    assert used_gpus(w, "region") == 1000


def test_cpu_types_take_cpu_capacity_not_gpus():
    w = world()
    assert pool(w, "cpu")["gpus"]["total"] == 0
    assert pool(w, "cpu")["cpus"]["total"] > 0
    w.submit_job(job("cpu.16C.64G", region="CCE-MT", n_workers=3), workspace="ws")
    cpu = pool(w, "cpu")
    assert cpu["cpus"]["used"] == pytest.approx(3 * 15.5)
    assert sum(n["memory_gi"]["used"] for n in cpu["nodes"]) == pytest.approx(3 * 63)
    assert used_gpus(w, "region") == 0
    assert used_gpus(w, "direct") == 0


def test_cpu_jupyter_server_takes_cpu_capacity():
    w = world()
    w.create_notebook(workspace="ws", name="nb", region="CCE-MT", instance_type="cpu.2C.8G")
    assert pool(w, "cpu")["cpus"]["used"] == pytest.approx(1.5)
    assert used_gpus(w, "direct") == 0


def test_pool_and_node_reports_add_up_and_return_to_zero():
    w = world()
    w.submit_job(job("v100.4gpu", n_workers=3, runtime_s=60), workspace="ws")
    w.create_notebook(workspace="ws", name="nb", region="DGX2-MT", instance_type="v100.2gpu")
    for rep in w.pools_report():
        nodes = rep["nodes"]
        assert rep["gpus"]["total"] == sum(n["gpus"]["total"] for n in nodes)
        assert rep["gpus"]["used"] == sum(n["gpus"]["used"] for n in nodes)
        assert rep["cpus"]["used"] == pytest.approx(sum(n["cpus"]["used"] for n in nodes))
        for node in nodes:
            for resource in ("gpus", "cpus", "memory_gi"):
                assert 0 <= node[resource]["used"] <= node[resource]["total"]
    assert used_gpus(w, "region") == 12
    region_cpus = pool(w, "region")["cpus"]["used"]
    assert region_cpus == pytest.approx(3 * 12)
    assert used_gpus(w, "direct") == 2
    w.run_until_idle()
    assert used_gpus(w, "region") == 0
    assert pool(w, "region")["cpus"]["used"] == 0


def test_config_can_replace_the_topology_with_a_single_64_gpu_pool():
    w = world({"pools": [gpu_pool("all", 16, 16, 16, 16, serves=("job", "notebook"))]})
    training = [p for p in w.pools_report() if "inference" not in p["serves"]]
    assert [(p["name"], p["gpus"]["total"]) for p in training] == [("all", 64)]
    jobs = [w.submit_job(job("v100.16gpu", runtime_s=60), workspace="ws") for _ in range(5)]
    assert [bool(j.placed_at) for j in jobs] == [True] * 4 + [False]
    book = w.create_notebook(workspace="ws", name="nb", region="DGX2-MT", instance_type="v100.1gpu")
    assert book.status == "waiting"
    with pytest.raises(Rejected, match="CPU"):
        w.submit_job(job("cpu.2C.8G", region="CCE-MT"), workspace="ws")


def test_config_can_split_capacity_per_region():
    v100 = {**gpu_pool("v100", 16), "regions": ["DGX2-MT"]}
    a100 = {**gpu_pool("a100", 8), "regions": ["A100-MT"]}
    w = world({"pools": [v100, a100]})
    w.submit_job(job("v100.16gpu", runtime_s=60), workspace="ws")
    queued = w.submit_job(job("v100.1gpu"), workspace="ws")
    a100_job = w.submit_job(job("a100.8gpu", region="A100-MT"), workspace="ws")
    assert not queued.placed_at
    assert a100_job.placed_at
    assert (used_gpus(w, "v100"), used_gpus(w, "a100")) == (16, 8)
    with pytest.raises(Rejected, match="never fit"):
        w.submit_job(job("a100.8gpu", region="A100-MT", n_workers=2), workspace="ws")
    with pytest.raises(Rejected):
        w.submit_job(job("a100.1gpu.40", region="SR002-MT"), workspace="ws")


def test_topology_from_a_yaml_config_file(tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text(yaml.safe_dump({"pools": [gpu_pool("only", 8, 8)]}))
    config = load_config(path)
    assert [(p["name"], len(p["nodes"])) for p in config.pools] == [("only", 2)]
