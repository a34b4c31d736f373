"""The console's read model (``World.overview``): who holds which GPUs, why work waits, each
item's timeline, and the money, against numbers worked out by hand from the test world
(six 8-GPU nodes; V100 150 and A100-80GB 300 per GPU-hour, the illustrative default prices)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from simulator import overview
from simulator.config import load_config
from simulator.world import World
from tests.support.console import CONFIG, WORK

START = 1_740_564_000.0
VISION, NLP = "ws-vision", "ws-nlp"


def make_world(**scheduler: Any) -> World:
    overrides: dict[str, Any] = {"pools": CONFIG["pools"]}
    if scheduler:
        overrides["scheduler"] = scheduler
    return World(load_config(None, overrides), start_epoch=START)


def job(world: World, ws: str, itype: str, workers: int, runtime_s: int, region: str) -> str:
    spec = {
        "script": "/home/jovyan/train.py",
        "base_image": "img",
        "instance_type": itype,
        "region": region,
        "n_workers": workers,
        "env_variables": {"MLSPACE_SIM_RUNTIME_S": str(runtime_s)},
    }
    return world.submit_job(spec, workspace=ws).name


@pytest.fixture
def world() -> World:
    return make_world()


def populate(world: World) -> dict[str, str]:
    """The same work as the browser test's, submitted through the World."""
    spaces = {"vision": VISION, "nlp": NLP}
    names = {name: job(world, spaces[ws], *rest) for name, (ws, *rest) in WORK.items()}
    book = world.create_notebook(
        name="nb",
        workspace=VISION,
        author="",
        region="DGX2-MT",
        instance_type="v100.1gpu",
        image="jupyter:1",
    )
    names["server"] = book.uid
    return names


def items(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {it["id"]: it for it in view["work"]["items"]}


def test_each_gpu_is_shown_held_by_its_workspace(world: World) -> None:
    names = populate(world)
    world.advance(120)
    pools = {p["name"]: p for p in world.overview()["pools"]}
    region = pools["region"]
    assert region["gpus"] == {"total": 48, "used": 8 + 8 + 8 + 4}
    held = {n["name"]: n["held"] for n in region["nodes"]}
    hold = {
        node: [(h["workspace"], h["units"], [x["name"] for x in h["holders"]]) for h in parts]
        for node, parts in held.items()
    }
    assert hold == {
        "gpu-000.region": [(VISION, 8, [names["a_train"]])],
        "gpu-001.region": [(VISION, 8, [names["a_train"]])],
        "gpu-002.region": [(NLP, 8, [names["b_a100"]])],
        "gpu-003.region": [(NLP, 4, [names["b_small"]])],
        "gpu-004.region": [],
        "gpu-005.region": [],
    }
    models = {n["name"]: n["gpu_models"] for n in region["nodes"]}
    assert models["gpu-000.region"] == ["V100"] and models["gpu-002.region"] == ["A100-80GB"]
    direct = pools["direct"]["nodes"][0]
    assert direct["held"] == [
        {
            "workspace": VISION,
            "units": 1,
            "holders": [{"kind": "notebook", "id": names["server"], "name": "nb", "workers": 1}],
        }
    ]
    assert pools["cpu"]["unit"] == "cpu" and pools["cpu"]["nodes"][0]["capacity"] == 64


def test_the_queue_says_how_long_and_why_each_request_waits(world: World) -> None:
    names = populate(world)
    world.advance(120)
    (group,) = [g for g in world.overview()["queue"] if g["items"]]
    assert (group["pool"], group["backfill"], group["waiting"]) == ("region", False, 2)
    big, tiny = group["items"]
    assert (big["order"], big["id"], big["reason"]["code"]) == (1, names["a_big"], "capacity")
    assert "4 worker(s) of v100.8gpu needed, 2 fit now" in big["reason"]["text"]  # 2 free nodes
    assert (tiny["order"], tiny["id"], tiny["reason"]["code"]) == (2, names["b_tiny"], "order")
    assert tiny["reason"]["behind"] == names["a_big"] and "behind" not in big["reason"]
    assert big["waited_s"] == tiny["waited_s"] == 120
    assert (big["workers"], big["gpus"], big["priority"]) == (4, 32, "medium")


def test_a_long_queue_shows_its_head_and_counts_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(overview, "QUEUE_LIMIT", 1)
    names = populate(world)
    (group,) = [g for g in world.overview()["queue"] if g["waiting"]]
    assert group["waiting"] == 2 and [it["id"] for it in group["items"]] == [names["a_big"]]


def test_with_backfill_a_request_that_fits_does_not_wait() -> None:
    world = make_world(backfill=True)
    names = populate(world)
    world.advance(120)
    waiting = [it["id"] for g in world.overview()["queue"] for it in g["items"]]
    assert waiting == [names["a_big"]]


def test_timelines_run_pending_pull_starting_running_end(world: World) -> None:
    names = populate(world)
    world.advance(3600 + 120)
    view = world.overview()
    now = view["now_epoch"]
    work = items(view)
    train = work[names["a_train"]]
    assert [p["phase"] for p in train["phases"]] == ["pull", "starting", "running"]
    assert train["phases"][0]["start"] == START  # placed at once
    running = train["phases"][-1]
    assert running["end"] - running["start"] == pytest.approx(1800)
    assert train["ended"] == running["end"] and train["status"] == "Completed"
    big = work[names["a_big"]]
    assert [p["phase"] for p in big["phases"]] == ["pending", "pull", "starting", "running"]
    assert big["phases"][0]["end"] == pytest.approx(train["ended"])  # placed when a_train ended
    assert big["phases"][-1]["end"] == now and big["ended"] is None
    for it in (train, big):  # no gaps, no overlaps
        for a, b in zip(it["phases"], it["phases"][1:], strict=False):
            assert a["end"] == pytest.approx(b["start"])
    assert len(big["nodes"]) == 4 and not train["nodes"]


def test_a_server_waits_for_the_direct_pool_then_runs_until_paused(world: World) -> None:
    first, second = (
        world.create_notebook(
            name=name, workspace=VISION, region="DGX2-MT", instance_type="v100.8gpu"
        )
        for name in ("nb-1", "nb-2")
    )  # the direct pool has one 8-GPU node: the second waits
    world.advance(100)
    world.pause_notebook(first.uid)  # its GPUs go to the second
    world.advance(50)
    view = world.overview()
    work = items(view)
    assert work[first.uid]["status"] == "paused"
    assert [
        (p["phase"], p["start"] - START, p["end"] - START) for p in work[first.uid]["phases"]
    ] == [("running", 0, 100)]
    assert work[first.uid]["cost"] == "33.33"  # 100 s x 8 GPUs x 150/h = 33.333, in kopecks
    assert [
        (p["phase"], p["start"] - START, p["end"] - START) for p in work[second.uid]["phases"]
    ] == [
        ("pending", 0, 100),
        ("running", 100, 150),
    ]
    assert work[second.uid]["nodes"] == ["jupyter-000.direct"]
    assert not work[first.uid]["has_log"]


def test_a_waiting_server_is_in_the_queue(world: World) -> None:
    for name in ("nb-1", "nb-2"):
        world.create_notebook(
            name=name, workspace=VISION, region="DGX2-MT", instance_type="v100.8gpu"
        )
    world.advance(30)
    (group,) = [g for g in world.overview()["queue"] if g["items"]]
    (waiting,) = group["items"]
    assert (group["pool"], waiting["kind"], waiting["name"]) == ("direct", "notebook", "nb-2")
    assert waiting["waited_s"] == 30 and waiting["reason"]["code"] == "capacity"


def test_money_by_workspace_and_kind_with_the_burn_rate(world: World) -> None:
    names = populate(world)
    world.advance(3600 + 120)
    view = world.overview()
    work = items(view)
    assert Decimal(work[names["a_train"]]["cost"]) == 1800 * 16 * 150 / Decimal(3600)  # 1200
    assert Decimal(work[names["b_small"]]["cost"]) == 600 * 4 * 150 / Decimal(3600)  # 100
    assert Decimal(work[names["b_tiny"]]["cost"]) == 900 * 300 / Decimal(3600)  # 75
    assert Decimal(work[names["server"]]["cost"]) == 3720 * 150 / Decimal(3600)  # 155
    money = view["money"]
    assert (money["tariff"], money["currency"], money["illustrative_prices"]) == (
        "per_second",
        "RUB",
        True,
    )
    # running now: a_big (32 V100), b_a100 (8 A100-80GB), the server (1 V100)
    assert Decimal(money["burn_per_hour"]) == 32 * 150 + 8 * 300 + 150
    assert money["running_lines"] == 3
    bill = world.billing_report()
    per_ws = {w["workspace"]: w for w in money["workspaces"]}
    assert {ws: w["total"] for ws, w in per_ws.items()} == bill["workspaces"]
    assert set(per_ws[VISION]["by_kind"]) == {"job", "notebook"}
    assert set(per_ws[NLP]["by_kind"]) == {"job"}
    assert money["total"] == bill["total"]
    assert money["prices"]["gpu_hour"]["V100"] == "150.00"


def test_work_narrows_to_a_workspace_and_a_region(world: World) -> None:
    names = populate(world)
    world.advance(60)
    nlp = world.overview(workspace=NLP)["work"]
    assert {it["id"] for it in nlp["items"]} == {names["b_a100"], names["b_small"], names["b_tiny"]}
    assert nlp["total"] == 3
    sr006 = world.overview(region="SR006")["work"]
    assert {it["id"] for it in sr006["items"]} == {names["b_a100"], names["b_tiny"]}
    assert world.overview(workspace="nobody")["work"] == {"total": 0, "items": []}
    view = world.overview()
    assert view["workspaces"] == sorted([VISION, NLP]) and "SR006" in view["regions"]


def test_a_failed_node_shows_as_down_and_in_the_faults(world: World) -> None:
    world.fail_node("gpu-005.region")
    view = world.overview()
    node = next(n for p in view["pools"] for n in p["nodes"] if n["name"] == "gpu-005.region")
    assert node["down"] is True
    assert view["faults"]["down_nodes"] == ["gpu-005.region"]
    assert view["pools"][1]["down_nodes"] == 1


def test_reading_the_overview_changes_nothing(world: World) -> None:
    populate(world)
    world.advance(120)
    first = world.overview()
    assert world.overview() == first
    assert world.clock_info()["elapsed_s"] == 120
