"""Virtual time: a manual clock moved only when told, and a real-time clock driven by a fake
wall clock (never by sleeping)."""

from __future__ import annotations

import pytest

from simulator.clock import Clock
from tests.unit.builders import START, job, world


class FakeWall:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_manual_time_moves_only_when_told():
    w = world()
    assert w.now_epoch() == START
    w.submit_job(job(runtime_s=5), workspace="ws")
    assert w.now_epoch() == START
    assert w.advance(12.5) == START + 12.5
    assert w.now_epoch() == START + 12.5


def test_time_never_moves_backwards():
    w = world()
    with pytest.raises(ValueError):
        w.advance(-1)


def test_events_due_exactly_at_the_target_are_included():
    w = world()
    book = w.create_notebook(workspace="ws", name="nb", region="DGX2-MT", instance_type="free.0gpu")
    w.pause_notebook(book.uid)
    w.advance(4.999)
    assert book.status == "pausing"
    w.advance(0.001)
    assert w.now_epoch() == START + 5
    assert book.status == "paused"


def test_run_until_idle_jumps_to_the_last_event_and_stays_there():
    w = world()
    j = w.submit_job(job(runtime_s=100), workspace="ws")
    end = w.run_until_idle()
    assert j.status == "Completed"
    assert end == j.completed_at == w.now_epoch()
    assert w.clock_info()["idle"] is True
    assert w.now_epoch() == end


def test_run_until_idle_can_be_bounded():
    w = world()
    j = w.submit_job(job(runtime_s=10_000), workspace="ws")
    assert w.run_until_idle(max_seconds=60) == START + 60
    assert j.status == "Running"


def test_realtime_follows_the_wall_clock_times_speed():
    wall = FakeWall()
    w = world(clock="realtime", speed=60, wall=wall)
    j = w.submit_job(job(runtime_s=300), workspace="ws")
    wall.t += 1
    assert w.now_epoch() == START + 60
    assert j.status == "Running"
    wall.t += 5
    assert w.now_epoch() == START + 360
    assert j.status == "Completed"
    info = w.clock_info()
    assert (info["mode"], info["speed"], info["elapsed_s"]) == ("realtime", 60, 360)


def test_realtime_stands_still_while_the_wall_does():
    wall = FakeWall()
    w = world(clock="realtime", wall=wall)
    w.submit_job(job(runtime_s=30), workspace="ws")
    assert w.now_epoch() == w.now_epoch() == START


def test_advance_and_run_until_idle_also_work_in_realtime():
    wall = FakeWall()
    w = world(clock="realtime", speed=2, wall=wall)
    assert w.advance(100) == START + 100
    wall.t += 10
    assert w.now_epoch() == START + 120
    j = w.submit_job(job(runtime_s=50), workspace="ws")
    end = w.run_until_idle()
    assert end == j.completed_at
    wall.t += 1
    assert w.now_epoch() == end + 2


@pytest.mark.parametrize(("mode", "speed"), [("fast", 1.0), ("realtime", 0), ("manual", -1)])
def test_bad_clock_settings_are_refused(mode, speed):
    with pytest.raises(ValueError):
        Clock(mode, speed)


def test_clock_target_and_catch_up():
    wall = FakeWall()
    clock = Clock("realtime", 10, wall)
    wall.t += 3
    assert clock.target() == 30
    clock.catch_up_to(45)
    assert clock.target() == 45
    clock.catch_up_to(10)
    assert clock.target() == 45


# ---- one request, one instant ----------------------------------------------------------------
def test_real_time_stands_still_inside_an_instant_and_moves_after():
    wall = FakeWall()
    w = world(clock="realtime", speed=1.0, wall=wall)
    wall.t += 10
    with w.instant() as now:
        assert now == START + 10
        wall.t += 15
        assert w.now_epoch() == now
        assert w.clock_info()["now_epoch"] == now
    assert w.now_epoch() == START + 25


def test_moves_made_inside_an_instant_move_it():
    w = world()
    with w.instant() as now:
        assert w.advance(30) == now + 30
        assert w.now_epoch() == now + 30
        w.reset()
        assert w.now_epoch() == START


def test_an_instant_taken_inside_another_leaves_the_outer_one_held():
    wall = FakeWall()
    w = world(clock="realtime", speed=1.0, wall=wall)
    with w.instant():
        wall.t += 20
        token = w.hold()  # what a request's hook takes, without a generator
        assert w.now_epoch() == START + 20  # the inner one catches up to the clock
        w.let_go(token)
        wall.t += 5
        assert w.now_epoch() == START + 20  # held again: the outer request's time stands still
    assert w.now_epoch() == START + 25
