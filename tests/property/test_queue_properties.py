"""Queues over random workloads: at no event does a queue's placed work hold more GPUs than its
limit, its work runs only on its dedicated nodes, and no other work lands there."""

from __future__ import annotations

import contextlib
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import Rejected
from tests.property.invariants import TERMINAL, check_capacity, small_world
from tests.property.strategies import job_args, waits
from tests.unit.builders import job

BOUNDED = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WS = "ws-a"
REGION_NODES = 3  # the small topology's region pool: 16, 8 and 8 GPUs


def check_queues(world, limits: dict[str, int | None], dedicated: dict[str, set[str]]) -> None:
    """Oracle from what each job asked for (its queue_name) and where it was placed."""
    engine = world.engine
    held: Counter = Counter()
    for j in engine.jobs.values():
        if j.placement is None or j.status in TERMINAL:
            continue
        queue = j.spec.params.get("queue_name") or "default"
        held[queue] += j.gpu_count
        nodes = {j.pool.pool.nodes[i].name for i, _ in j.placement}
        if dedicated.get(queue):
            assert nodes <= dedicated[queue], (queue, nodes)
        else:
            taken = set().union(*dedicated.values()) if dedicated else set()
            assert not nodes & taken, (queue, nodes)
    for queue, limit in limits.items():
        assert limit is None or held[queue] <= limit, (queue, held[queue], limit)


@BOUNDED
@given(
    limits=st.fixed_dictionaries(
        {
            "qa": st.one_of(st.none(), st.integers(1, 16)),
            "qb": st.one_of(st.none(), st.integers(1, 8)),
        }
    ),
    qb_node=st.one_of(st.none(), st.integers(0, REGION_NODES - 1)),
    backfill=st.booleans(),
    arrivals=st.lists(
        st.tuples(waits(), job_args(), st.sampled_from([None, "qa", "qb"])), min_size=1, max_size=16
    ),
    seed=st.integers(0, 2**32),
)
def test_no_queue_ever_holds_more_than_its_limit_or_leaves_its_nodes(
    limits, qb_node, backfill, arrivals, seed
):
    w = small_world(seed, scheduler={"backfill": backfill})
    alloc = {a.region: a.id for a in w.allocations(WS)}
    dedicated: dict[str, set[str]] = {}
    made = {
        name: w.create_queue(WS, alloc["DGX2-MT"], name, gpu_limit=limit)
        for name, limit in limits.items()
    }
    if qb_node is not None:
        region_pool = next(p for p in w.pools_report() if p["name"] == "region")
        node = region_pool["nodes"][qb_node]["name"]
        w.add_queue_nodes(WS, made["qb"].id, [node])
        dedicated["qb"] = {node}
    env = w.engine.env
    step = env.step

    def checked_step() -> None:
        step()
        check_capacity(w.engine)
        check_queues(w, limits, dedicated)

    env.step = checked_step
    for wait, args, queue in arrivals:
        w.advance(wait)
        if queue is not None and args["region"] != "DGX2-MT":
            continue  # the custom queues are in the DGX2-MT allocation
        with contextlib.suppress(Rejected):
            w.submit_job(job(**args, **({"queue_name": queue} if queue else {})), workspace=WS)
        check_queues(w, limits, dedicated)
    w.run_until_idle()
    assert w.pending() == []  # nothing accepted waits forever
    assert all(q.held_gpus == 0 for q in w.queues(WS))
