"""Properties of deployments under random load: replica counts stay within their bounds, a pool
never gives out more than it has, and the bill is exactly the sum of its lines."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, note, settings
from hypothesis import strategies as st

from simulator import World
from tests.unit.builders import world

WS = "ws"
TYPES = [("DGX2-INF-001", "v100.2gpu"), ("INF-002", "a100.2gpu"), ("CCE-INF", "cpu.8C.32G")]
FAST = {"inference": {"target_rps_per_replica": 0.05, "scale_up_delay_s": 10.0}}

create = st.tuples(st.just("create"), st.sampled_from(TYPES), st.integers(0, 4), st.integers(1, 9))
burst = st.tuples(st.just("predict"), st.integers(0, 5), st.integers(1, 12))
wait = st.tuples(st.just("advance"), st.floats(1, 4000))
delete = st.tuples(st.just("delete"), st.integers(0, 5))
bounds = st.tuples(st.just("update"), st.integers(0, 5), st.integers(0, 3), st.integers(0, 3))
failure = st.tuples(st.just("fail"), st.integers(0, 5))
commands = st.lists(
    st.one_of(create, burst, wait, wait, delete, bounds, failure), min_size=1, max_size=25
)


def check(w: World) -> None:
    for dep in w.list_deployments():
        lo, hi = dep.spec.min_replicas, dep.spec.max_replicas
        assert dep.target == len(dep.replicas)
        assert lo <= dep.target <= hi or (lo == 0 and dep.target == 0), dep.summary()
    held: dict[str, int] = {}
    for dep in w.list_deployments():
        placed = sum(r.placement is not None for r in dep.replicas)
        held[dep.pool.name] = held.get(dep.pool.name, 0) + placed * dep.itype.gpus
    for pool in w.pools_report():
        if "inference" in pool["serves"] and pool["resource"] == "gpu":
            down = sum(n["gpus"]["total"] for n in pool["nodes"] if n["down"])
            assert pool["gpus"]["used"] - down == held.get(pool["name"], 0)  # nothing leaks
        for node in pool["nodes"]:
            assert 0 <= node["gpus"]["used"] <= node["gpus"]["total"]
            assert 0 <= node["cpus"]["used"] <= node["cpus"]["total"] + 1e-9
    bill = w.billing_report()
    assert Decimal(bill["total"]) == sum((Decimal(ln["cost"]) for ln in bill["lines"]), Decimal(0))


@settings(max_examples=40, deadline=None)
@given(commands, st.integers(0, 3))
def test_replicas_capacity_and_bill_hold_under_random_load(cmds: list, seed: int) -> None:
    w = world(FAST, seed=seed)
    for cmd in cmds:
        note(repr(cmd))
        live = w.list_deployments()
        if cmd[0] == "create":
            (region, itype), lo, extra = cmd[1], cmd[2], cmd[3]
            spec = {"region": region, "instance_type": itype, "image": "img"}
            w.create_deployment(
                {**spec, "min_replicas": lo, "max_replicas": lo + extra},
                workspace=WS,
            )
        elif cmd[0] == "predict" and live:
            dep = live[cmd[1] % len(live)]
            for i in range(cmd[2]):
                if dep.status in ("Running", "ScaledToZero"):
                    w.predict(dep.name, "m", {"instances": [[i]]}, WS)
        elif cmd[0] == "advance":
            w.advance(cmd[1])
        elif cmd[0] == "delete" and live:
            w.delete_deployment(live[cmd[1] % len(live)].name, WS)
        elif cmd[0] == "update" and live:
            lo = cmd[2]
            w.update_deployment(
                live[cmd[1] % len(live)].name, WS, min_replicas=lo, max_replicas=lo + cmd[3] + 1
            )
        elif cmd[0] == "fail":
            busy = [
                n["name"]
                for p in w.pools_report()
                if "inference" in p["serves"]
                for n in p["nodes"]
                if n["cpus"]["used"] and not n["down"]
            ]
            if busy:
                w.fail_node(busy[cmd[1] % len(busy)])
        check(w)
