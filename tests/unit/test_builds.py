"""Image builds are engine processes: in-process through the World, no HTTP, they move only when
virtual time does, exactly as jobs do."""

from __future__ import annotations

from simulator.builds import CANCELLED, FAILED, PENDING, RUNNING, SUCCEEDED
from tests.unit.builders import IMAGE, world

REQS = "numpy==1.26.4\npandas\n"


def test_a_build_advances_with_the_clock_like_a_job():
    w = world()
    build = w.start_build("ws", IMAGE, REQS)
    assert build.status == PENDING and build.lines == []
    w.advance(3)  # the pod takes 4-12 s to start
    assert build.status == PENDING
    w.advance(10)
    assert build.status == RUNNING and build.started_at is not None
    w.advance(60)
    assert build.lines and "Unpacking rootfs" in build.lines[-1]
    assert w.built_images("ws") == []
    w.advance(600)
    assert build.status == SUCCEEDED
    assert build.lines[-1].endswith(build.destination + "@sha256:" + build.lines[-1][-64:])
    # about four minutes from submit to success (observed kaniko runs: ~4 min)
    assert 180 < build.finished_at - build.created_at < 300
    assert w.built_images("ws") == [build.destination]
    assert w.built_images("other") == []


def test_run_until_idle_finishes_a_build_at_its_own_end():
    w = world()
    build = w.start_build("ws", IMAGE, REQS)
    now = w.run_until_idle()
    assert build.status == SUCCEEDED
    assert now == build.finished_at  # idle means nothing left: the clock stops where it ended
    assert w.engine.idle()


def test_pip_refusing_a_line_fails_the_build():
    w = world()
    build = w.start_build("ws", IMAGE, "numpy\nnot a requirement!\n")
    w.run_until_idle()
    assert build.status == FAILED
    assert any("Invalid requirement: 'not a requirement!' (from line 2" in x for x in build.lines)
    assert w.built_images("ws") == []


def test_cancel_freezes_the_log_and_a_finished_build_keeps_its_outcome():
    w = world()
    build = w.start_build("ws", IMAGE, REQS)
    w.advance(60)
    seen = list(build.lines)
    w.cancel_build("ws", build.name)
    assert build.status == CANCELLED and build.finished_at == w.now_epoch()
    w.run_until_idle()
    assert build.status == CANCELLED and build.lines == seen
    done = w.start_build("ws", IMAGE, REQS)
    w.run_until_idle()
    w.cancel_build("ws", done.name)
    assert done.status == SUCCEEDED
    assert w.cancel_build("ws", "image-build-job-nope0") is None


def test_a_reset_drops_builds_and_the_same_seed_rebuilds_them_identically():
    def run(w):
        b = w.start_build("ws", IMAGE, REQS)
        w.advance(7)
        c = w.start_build("ws", IMAGE, "torch\n")
        w.run_until_idle()
        return [(x.name, x.destination, x.status, x.finished_at, x.lines) for x in (b, c)]

    w = world(seed=5)
    first = run(w)
    w.reset()
    assert w.list_builds("ws") == []
    assert run(w) == first == run(world(seed=5))
    assert run(world(seed=6)) != first


def test_builds_are_listed_per_workspace_oldest_first():
    w = world()
    a = w.start_build("ws", IMAGE, REQS)
    w.advance(1)
    b = w.start_build("ws", IMAGE, REQS)
    w.start_build("other", IMAGE, REQS)
    assert [x.name for x in w.list_builds("ws")] == [a.name, b.name]
    assert w.get_build("other", a.name) is None
