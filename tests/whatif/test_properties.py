"""Properties of the replay over many workloads (Hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.whatif.configs import base_config, engine_config
from simulator.whatif.metrics import measure
from simulator.whatif.replay import Replay
from simulator.whatif.runner import START_EPOCH
from simulator.world import World
from tests.whatif.helpers import config, job

pytestmark = pytest.mark.usefixtures("instant_start")
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(items, region_nodes, placement="count", backfill=False):
    conf = config("x", region_nodes, placement=placement, backfill=backfill)
    world = World(engine_config(base_config(), conf.engine), seed=0, start_epoch=START_EPOCH)
    replay = Replay(items)
    engine = world.run_batch(replay.arrivals())
    return engine, measure(engine, replay, bins=4)["metrics"]


def waits(engine):
    return [j.placed_at - j.created_at for j in sorted(engine.jobs.values(), key=lambda j: j.seq)]


# (submit second, run seconds, workers, GPUs per worker)
jobs = st.lists(
    st.tuples(
        st.integers(0, 600), st.integers(1, 900), st.integers(1, 4), st.sampled_from([1, 2, 4, 8])
    ),
    min_size=1,
    max_size=25,
).map(
    lambda rows: sorted(
        (job(float(t), float(r), workers=w, gpus_per_worker=g) for t, r, w, g in rows),
        key=lambda it: it.submit_s,
    )
)


@PROPERTY
@given(items=jobs, gpus=st.integers(32, 64), extra=st.integers(1, 64))
def test_more_gpus_never_lengthen_any_wait_under_fifo_by_count(items, gpus, extra):
    small, _ = run(items, [gpus])
    big, _ = run(items, [gpus + extra])
    assert not small.rejected and not big.rejected
    assert all(b <= s for s, b in zip(waits(small), waits(big), strict=True))


@PROPERTY
@given(
    items=jobs,
    nodes=st.lists(st.sampled_from([8, 16]), min_size=4, max_size=6),
    extra=st.integers(1, 4),
)
def test_cost_does_not_depend_on_capacity_when_nothing_is_rejected(items, nodes, extra):
    for placement in ("count", "best_fit"):
        _, small = run(items, nodes, placement)
        _, big = run(items, nodes + [8] * extra, placement)
        assert small["rejected"] == big["rejected"] == 0
        assert small["cost_total"] == big["cost_total"]
        assert small["gpu_hours_billed"] == big["gpu_hours_billed"]


def test_node_packing_can_make_a_bigger_pool_wait_longer():
    """Found by Hypothesis with best-fit placement: growing a node from 2 to 3 GPUs lets the
    3-GPU job take that node, so the 2-GPU job splits the 4-GPU node and the 4-GPU job waits
    for it (2 s) instead of for the 3-GPU job (1 s). By GPU count alone this cannot happen."""
    items = [
        job(0.0, 1.0, gpus_per_worker=3),
        job(0.0, 2.0, gpus_per_worker=2),
        job(0.0, 1.0, gpus_per_worker=4),
    ]
    assert waits(run(items, [2, 4], "best_fit")[0]) == [0.0, 0.0, 1.0]
    assert waits(run(items, [3, 4], "best_fit")[0]) == [0.0, 0.0, 2.0]
    for nodes in ([2, 4], [3, 4]):  # by GPU count: 4 more GPUs free up after 1 s either way
        assert waits(run(items, nodes, "count")[0]) == [0.0, 0.0, 1.0]
