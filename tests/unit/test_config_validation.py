"""The engine configuration is validated when it is loaded: a misspelt key, a wrong type or a
negative size is refused with the key's path, never silently ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspace_sim.cli import main
from simulator.config import ConfigError, load_config

POOL = {"name": "big", "serves": ["job"], "resource": "gpu"}


@pytest.mark.parametrize(
    ("overrides", "path", "says"),
    [
        ({"schedular": {"backfill": True}}, "schedular", "did you mean 'scheduler'"),
        ({"pools": [{**POOL, "nodes": [{"count": 2, "gpu": 8}]}]}, "pools.0.nodes.0.gpu", "gpus"),
        (
            {"pools": [{**POOL, "nodes": [{"count": -1, "gpus": 8}]}]},
            "pools.0.nodes.0.count",
            "greater than or equal to 0",
        ),
        ({"pools": [{**POOL, "nodes": [{"gpus": "8"}]}]}, "pools.0.nodes.0.gpus", "integer"),
        ({"limits": {"max_job_gpus": -8}}, "limits.max_job_gpus", "greater than or equal to 0"),
        ({"scheduler": {"backfill": "yes"}}, "scheduler.backfill", "boolean"),
        ({"scheduler": {"placement": "worst_fit"}}, "scheduler.placement", "'best_fit'"),
        ({"billing": {"tariff": "hourly"}}, "billing.tariff", "per_second"),
        ({"timings": {"image_pull_s": [2.0]}}, "timings.image_pull_s", "at least 2"),
        ({"runtime": {"gpu": {"failure_p": 1.5}}}, "runtime.gpu.failure_p", "less than or equal"),
        (
            {"faults": {"slow_pulls": {"probabilty": 0.5}}},
            "faults.slow_pulls.probabilty",
            "probability",
        ),
    ],
)
def test_a_bad_key_or_value_is_refused_with_its_path(overrides, path, says):
    with pytest.raises(ConfigError) as caught:
        load_config(overrides=overrides)
    assert any(p == path and says in m for p, m in caught.value.problems), caught.value.problems


def test_overrides_of_a_loaded_config_are_validated_too():
    base = load_config()
    assert base.with_overrides({"scheduler": {"backfill": True}}).scheduler["backfill"] is True
    with pytest.raises(ConfigError, match="schedular"):
        base.with_overrides({"schedular": {"backfill": True}})


def test_serve_with_a_misspelt_key_exits_2_naming_it(tmp_path: Path, capsys) -> None:
    config = tmp_path / "typo.yaml"
    config.write_text("schedular: {backfill: true}\n")
    assert main(["serve", "--config", str(config), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "schedular" in err and "Traceback" not in err


def test_serve_refuses_a_pool_written_with_gpu(tmp_path: Path, capsys) -> None:
    config = tmp_path / "gpu.yaml"
    config.write_text("pools:\n  - {name: big, serves: [job], nodes: [{count: 2, gpu: 8}]}\n")
    assert main(["serve", "--config", str(config), "--port", "0"]) == 2
    assert "pools.0.nodes.0.gpu" in capsys.readouterr().err


def test_an_unreadable_config_file_exits_2(tmp_path: Path, capsys) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("pools: [\n")
    assert main(["serve", "--config", str(config), "--port", "0"]) == 2
    assert "broken.yaml" in capsys.readouterr().err
