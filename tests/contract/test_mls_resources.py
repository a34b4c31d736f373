"""The real ``mls`` CLI (cloudru-ml-cli 1.3.0) on allocations, queues, workspaces and configs.

Every test checks the exit code AND the JSON the CLI printed (it exits 0 on API errors too).
Allocation and queue ids are stable per (workspace, region), so each test needs one command.
"""

from __future__ import annotations

import pytest

from mock_server.tenancy import allocation_for, default_queue
from mock_server.testing import MockServer
from tests.contract.conftest import Cli

pytestmark = pytest.mark.sdk

SPEC_REGIONS = ["DGX2-MT", "A100-MT", "SR003", "SR004", "SR005", "SR006", "SR008"]
OTHER_WS = "33333333-3333-4333-8333-333333333333"


def catalog_keys(srv: MockServer, region: str) -> list[str]:
    return list(srv.world.config.catalog.regions[region].instance_types)


def test_allocation_list(mls: Cli, srv: MockServer) -> None:
    allocs = mls.json("allocation", "list")

    assert [a["region_key"] for a in allocs] == SPEC_REGIONS
    sr006 = allocs[SPEC_REGIONS.index("SR006")]
    assert sr006["id"] == allocation_for(srv.credentials.workspace_id, "SR006")["id"]
    assert (sr006["name"], sr006["node_type"], sr006["default_for_job"]) == (
        "payg-sr006",
        "gpu",
        True,
    )


def test_allocation_inst_types(mls: Cli, srv: MockServer) -> None:
    alloc_id = allocation_for(srv.credentials.workspace_id, "SR006")["id"]

    types = mls.json("allocation", "inst-types", alloc_id)

    assert [t["key"] for t in types] == catalog_keys(srv, "SR006")
    assert types[0]["name"] == "1 GPU A100 80 GB, 12 CPU, 96 Gb RAM"
    assert all(t["availability"] > 0 for t in types)


def test_queue_list(mls: Cli, srv: MockServer) -> None:
    alloc_id = allocation_for(srv.credentials.workspace_id, "SR003")["id"]

    (queue,) = mls.json("queue", "list", alloc_id)

    assert (queue["allocation_id"], queue["type"], queue["name"]) == (
        alloc_id,
        "default",
        "default-sr003",
    )
    assert queue["id"] == default_queue(srv.credentials.workspace_id, "SR003")["id"]


def test_queue_inst_types(mls: Cli, srv: MockServer) -> None:
    queue_id = default_queue(srv.credentials.workspace_id, "SR003")["id"]

    types = mls.json("queue", "inst-types", queue_id)

    assert [t["key"] for t in types] == catalog_keys(srv, "SR003")
    assert {p["key"] for p in types[0]["storage_presets"]} >= {"default", "xlarge"}


def test_ws_list_shows_the_profile_workspace(mls: Cli, srv: MockServer) -> None:
    body = mls.json("ws", "list")

    ws = next(w for w in body["workspaces"] if w["id"] == srv.credentials.workspace_id)
    assert ws["namespace"].startswith("ai")
    assert [a["cluster_key"] for a in ws["allocations"]] == SPEC_REGIONS


def test_js_config(mls: Cli, srv: MockServer) -> None:
    body = mls.json("js", "config")

    assert [r["key"] for r in body["regions"]] == list(srv.world.config.catalog.regions)
    dgx = body["regions"][0]
    free = next(t for t in dgx["instances_types"] if t["key"] == "free.0gpu")
    assert free["resource"]["limits"] == {"cpu": "0.5", "memory": "3Gi", "nvidia.com/gpu": "0"}
    assert body["custom_images"] == []


def test_js_config_for_another_workspace(mls: Cli, srv: MockServer) -> None:
    body = mls.json("js", "config", OTHER_WS)

    assert [r["key"] for r in body["regions"]] == list(srv.world.config.catalog.regions)
    assert OTHER_WS in srv.app.extensions["mlspace_sim"].auth.workspaces  # the header was used


def test_tensorboard_config(mls: Cli) -> None:
    body = mls.json("tensorboard", "config")

    images = {i["name"] for i in body["regions"][0]["instances_types"][0]["images"]}
    assert "cr.ai.cloud.ru/aicloud-tensorboard/tensorboard-server" in images
    assert body["regions"][0]["instances_types"][0]["key"] == "free.0gpu"
