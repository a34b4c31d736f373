"""Random command sequences against the World: submit, kill, restart, Jupyter Servers, time.

Three worlds are driven: the observed one (invariants checked after every engine event), a twin
on the per_minute_ceil tariff that must behave identically except for the bill (and never bill
less), and at the end a fresh world that replays the recorded commands and must match exactly.
"""

from __future__ import annotations

from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from tests.property.invariants import (
    NOTEBOOK_TYPES,
    TERMINAL,
    Driver,
    can_ever_fit,
    small_world,
    snapshot,
    submit,
)
from tests.property.strategies import job_args, waits

WORKSPACES = ("ws-a", "ws-b")


class WorldMachine(RuleBasedStateMachine):
    """Bundles hold indices into the drivers' job and server lists (identical in all worlds)."""

    jobs = Bundle("jobs")
    books = Bundle("books")

    @initialize(seed=st.integers(0, 2**32))
    def start(self, seed):
        self.seed = seed
        self.main = Driver(small_world(seed), observe=True)
        self.twin = Driver(small_world(seed, billing={"tariff": "per_minute_ceil"}))
        self.log: list[tuple] = []

    def run(self, cmd):
        self.log.append(cmd)
        seen = self.main.apply(cmd)
        assert self.twin.apply(cmd) == seen, cmd
        return seen

    @rule(target=jobs, args=job_args(), workspace=st.sampled_from(WORKSPACES))
    def submit_job(self, args, workspace):
        seen = self.run(submit(args, workspace))
        fits = can_ever_fit(
            self.main.world, args["region"], args["instance_type"], args["n_workers"]
        )
        assert (seen != "rejected:Refused") == fits, (args, seen)
        return len(self.main.jobs) - 1 if fits else multiple()

    @rule(i=jobs)
    def kill(self, i):
        job = self.main.jobs[i]
        before = job.status
        after = self.run(("kill", i))
        assert after == (before if before in TERMINAL else "Deleted")
        if before not in TERMINAL:
            assert job.completed_at == self.main.world.now_epoch()

    @rule(target=jobs, i=jobs)
    def restart(self, i):
        assert self.run(("restart", i)) in ("Pending", "Running")
        new, old = self.main.jobs[-1], self.main.jobs[i]
        assert new.spec.params == old.spec.params and new.name != old.name
        return len(self.main.jobs) - 1

    @rule(target=books, kind=st.sampled_from(NOTEBOOK_TYPES), ws=st.sampled_from(WORKSPACES))
    def create(self, kind, ws):
        assert self.run(("create", *kind, ws)) in ("creating", "waiting")
        return len(self.main.books) - 1

    @rule(i=books)
    def pause(self, i):
        before = self.live_status(i)
        after = self.run(("pause", i))
        if before is None or before == "deleting":
            assert after.startswith("rejected:")
        elif before.startswith("paused"):
            assert after == before
        else:
            assert after == "pausing"

    @rule(i=books, kind=st.sampled_from(NOTEBOOK_TYPES))
    def resume(self, i, kind):
        before = self.live_status(i)
        after = self.run(("resume", i, *kind))
        if before is None or not (before == "pausing" or before.startswith("paused")):
            assert after.startswith("rejected:")
        else:
            assert after in ("resuming", "waiting")

    @rule(i=books)
    def delete(self, i):
        before = self.live_status(i)
        after = self.run(("delete", i))
        if before in (None, "deleting"):
            assert after.startswith("rejected:")
        else:
            assert after == "deleting"

    @rule(seconds=waits())
    def advance(self, seconds):
        self.run(("advance", seconds))

    @rule()
    def run_until_idle(self):
        self.run(("idle",))
        assert all(j.status in TERMINAL for j in self.main.jobs)

    def live_status(self, i):
        book = self.main.books[i]
        return None if self.main.world.get_notebook(book.uid) is None else book.status

    @invariant()
    def twin_differs_only_in_the_bill(self):
        assert snapshot(self.twin, with_bill=False) == snapshot(self.main, with_bill=False)
        pairs = zip(
            self.main.world.billing_report()["lines"],
            self.twin.world.billing_report()["lines"],
            strict=True,
        )
        for per_second, per_minute in pairs:
            assert per_minute["item"] == per_second["item"]
            assert per_minute["seconds"] >= per_second["seconds"]

    def teardown(self):
        if not hasattr(self, "main"):
            return
        for i in range(len(self.main.books)):
            if self.live_status(i) not in (None, "deleting"):
                self.run(("delete", i))
        self.run(("idle",))
        w = self.main.world
        assert all(j.status in TERMINAL for j in self.main.jobs)
        assert w.pending() == []
        for rep in w.pools_report():
            assert rep["gpus"]["used"] == 0 and rep["cpus"]["used"] == 0, rep["name"]
            assert rep["waiting"] == 0, rep["name"]
        assert not any(line["running"] for line in w.billing_report()["lines"])
        replay = Driver(small_world(self.seed))
        for cmd in self.log:
            replay.apply(cmd)
        assert snapshot(replay) == snapshot(self.main)
        for mine, theirs in zip(self.main.jobs, replay.jobs, strict=True):
            assert w.job_logs(mine, tail=5) == replay.world.job_logs(theirs, tail=5)


WorldMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
TestWorld = WorldMachine.TestCase
