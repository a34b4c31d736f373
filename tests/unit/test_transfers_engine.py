"""Data transfers run on the engine's clock: in-process through the World, no HTTP, their runs
start at their due instants and finish as virtual time passes, exactly like jobs."""

from __future__ import annotations

from types import SimpleNamespace

from simulator.transfers import Schedule, Transfer
from tests.unit.builders import START, world

WS = SimpleNamespace(id="ws-1", namespace="ns-1", owner_email="a@example.com")
HOUR = 3600


def rule(w, *, schedule: Schedule | None = None, source="data/") -> Transfer:
    store = w.data_transfers()
    conns = store.workspace_connectors(WS)
    nfs, s3 = conns[WS.id], next(c for c in conns.values() if c.source_type == "s3mlspace")
    now = w.now_epoch()
    schedule = schedule or Schedule(start_at=int(now))
    t = Transfer(
        transfer_id=store.new_id(WS.id, "transfer"),
        workspace_id=WS.id,
        uid="u",
        created=now,
        modified=now,
        body={
            "connector_id": nfs.connector_id,
            "destination_connector_id": s3.connector_id,
            "connector_type": "nfs",
            "strategy": "write_all",
            "query": {"source": [source], "destination": "/in"},
        },
        schedule=schedule,
        next_at=schedule.next_at(now) if schedule.periodic else int(now),
    )
    store.add(t)
    return t


def test_a_one_shot_rule_runs_at_once_and_run_until_idle_finishes_it():
    w = world()
    t = rule(w)
    (run,) = t.runs
    assert run.status(w.now_epoch()) == "in_progress"
    assert not w.engine.idle()
    now = w.run_until_idle()
    assert run.status(now) == "success"
    assert now == max(e.end for e in run.entries)  # stops where the copy ended
    assert w.engine.idle()


def test_periodic_runs_start_at_their_due_instants_as_time_advances():
    w = world()
    t = rule(w, schedule=Schedule(start_at=int(START) + HOUR, period=1.0))
    assert t.runs == [] and w.engine.idle()  # a schedule waiting is not work in flight
    w.advance(HOUR - 1)
    assert t.runs == []
    w.advance(1)
    assert [r.execution for r in t.runs] == [START + HOUR]
    w.advance(3 * HOUR)
    assert [r.execution - START for r in t.runs] == [HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR]


def test_run_until_idle_does_not_chase_a_schedule_forever():
    w = world()
    t = rule(w, schedule=Schedule(start_at=int(START), period=1.0))
    assert len(t.runs) == 1
    now = w.run_until_idle()
    assert now < START + HOUR and len(t.runs) == 1
    assert t.runs[0].status(now) == "success"


def test_a_run_sees_its_connectors_as_they_are_when_it_starts():
    w = world()
    t = rule(w, schedule=Schedule(start_at=int(START) + HOUR, period=1.0))
    store = w.data_transfers()
    nfs = store.workspace_connectors(WS)[WS.id]
    w.advance(HOUR)
    nfs.status = "failed"  # the NFS went bad after the first run
    w.advance(HOUR)
    first, second = t.runs
    assert first.status(w.now_epoch()) == "success"
    assert second.status(w.now_epoch()) == "failed"


def test_a_long_jump_skips_runs_missed_long_ago():
    w = world()
    t = rule(w, schedule=Schedule(start_at=int(START), period=1.0))
    w.advance(400 * 24 * HOUR)
    first, second, *rest = t.runs
    assert first.execution == START  # ran when the rule was made
    assert START + 400 * 24 * HOUR - second.execution <= 31 * 24 * HOUR
    assert len(rest) + 1 <= 500  # at most MAX_CATCH_UP missed runs replayed


def test_reset_drops_transfers_and_the_same_seed_replays_them_identically():
    def run(w):
        t = rule(w, schedule=Schedule(start_at=int(START) + 60, period=0.5))
        w.advance(5 * HOUR)
        return [(e.history_id, e.duration, e.objects) for r in t.runs for e in r.entries]

    w = world(seed=3)
    first = run(w)
    w.reset()
    assert w.data_transfers().transfers == {}
    assert run(w) == first == run(world(seed=3))
