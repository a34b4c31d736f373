"""One request reads the world at one virtual instant, even on the real-time clock."""

from __future__ import annotations

from tests.unit.builders import START, world


class Wall:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_real_time_stands_still_inside_an_instant_and_moves_after():
    wall = Wall()
    w = world(clock="realtime", speed=1.0, wall=wall)
    wall.t = 10
    with w.instant() as now:
        assert now == START + 10
        wall.t = 25
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
