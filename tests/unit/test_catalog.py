"""The catalog of regions and instance types is data: packaged defaults, replaceable by config."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import yaml

from simulator import Rejected, load_config
from tests.unit.builders import job, world

CUSTOM_CATALOG = {
    "regions": [
        {
            "key": "LAB-1",
            "name": "Lab cluster",
            "instance_types": [
                {
                    "key": "h100.2gpu",
                    "name": "2 x H100",
                    "gpus": 2,
                    "gpu_model": "H100",
                    "cpu": 24,
                    "memory_gi": 200,
                    "jupyter": True,
                }
            ],
        }
    ]
}
LAB_POOL = {
    "name": "lab",
    "serves": ["job", "notebook"],
    "resource": "gpu",
    "nodes": [{"count": 2, "gpus": 8, "cpus": 128, "memory_gi": 1024}],
}


def test_packaged_catalog_has_the_documented_regions_and_types():
    catalog = world().config.catalog
    assert {"DGX2-MT", "A100-MT", "SR002-MT", "CCE-MT", "SR003"} <= set(catalog.regions)
    v100 = catalog.regions["DGX2-MT"].instance_types
    assert [v100[f"v100.{n}gpu"].gpus for n in range(1, 17)] == list(range(1, 17))
    assert catalog.instance_type("A100-MT", "a100.8gpu").gpus == 8
    free = catalog.instance_type("DGX2-MT", "free.0gpu")
    assert (free.gpus, free.cpu, free.memory_gi, free.jupyter) == (0, 0.5, 3, True)


def test_cpu_region_holds_only_cpu_types():
    catalog = world().config.catalog
    assert catalog.regions["CCE-MT"].cpu_only
    assert not catalog.regions["DGX2-MT"].cpu_only


def test_unknown_instance_type_in_a_region_is_rejected_with_the_platform_message():
    with pytest.raises(Rejected, match=re.escape("Can't find instance_type_key='a100.1gpu'")):
        world().config.catalog.instance_type("DGX2-MT", "a100.1gpu")


def test_inline_catalog_override_replaces_the_packaged_one():
    w = world({"catalog": CUSTOM_CATALOG, "pools": [LAB_POOL]})
    assert list(w.config.catalog.regions) == ["LAB-1"]
    submitted = w.submit_job(job("h100.2gpu", region="LAB-1", n_workers=2), workspace="ws")
    assert submitted.gpu_count == 4
    with pytest.raises(Rejected, match="region"):
        w.submit_job(job("v100.1gpu", region="DGX2-MT"), workspace="ws")


def test_catalog_and_prices_can_be_yaml_files(tmp_path):
    catalog_file = tmp_path / "catalog.yaml"
    catalog_file.write_text(yaml.safe_dump(CUSTOM_CATALOG))
    prices_file = tmp_path / "prices.yaml"
    prices_file.write_text(yaml.safe_dump({"currency": "USD", "gpu_hour": {"H100": "2.5"}}))
    config_file = tmp_path / "sim.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {"catalog": str(catalog_file), "prices": str(prices_file), "pools": [LAB_POOL]}
        )
    )
    config = load_config(config_file)
    itype = config.catalog.instance_type("LAB-1", "h100.2gpu")
    assert config.prices.worker_hour(itype) == Decimal("5.0")
    assert config.prices.currency == "USD"


def test_overrides_deep_merge_mappings_and_replace_lists():
    config = load_config(overrides={"scheduler": {"backfill": True}, "pools": [LAB_POOL]})
    assert config.scheduler == {"backfill": True, "placement": "best_fit"}
    assert [p["name"] for p in config.pools] == ["lab"]
    assert config.timings["worker_wait_s"] == pytest.approx(15.02)


def test_unknown_tariff_is_refused():
    with pytest.raises(ValueError, match="tariff"):
        load_config(overrides={"billing": {"tariff": "per_hour"}})


def test_with_overrides_deep_merges_without_reading_files_again():
    base = load_config(overrides={"pools": [LAB_POOL]})
    config = base.with_overrides({"scheduler": {"backfill": True}, "timings": {"banner_s": 0.1}})
    assert config.scheduler == {"backfill": True, "placement": "best_fit"}
    assert config.timings["banner_s"] == 0.1
    assert config.timings["worker_wait_s"] == pytest.approx(15.02)
    assert [p["name"] for p in config.pools] == ["lab"]
    assert config.catalog is base.catalog and config.prices is base.prices
    assert base.scheduler["backfill"] is False, "the base config is left as it was"
    assert base.with_overrides({}) is base


def test_with_overrides_validates_like_load_config():
    with pytest.raises(ValueError, match="tariff"):
        load_config().with_overrides({"billing": {"tariff": "per_hour"}})


def test_with_overrides_merges_prices_into_the_price_book():
    config = load_config().with_overrides({"prices": {"gpu_hour": {"H100": "1000"}}})
    assert config.prices.gpu_hour["H100"] == Decimal("1000")
    assert config.prices.gpu_hour["V100"] == load_config().prices.gpu_hour["V100"]
