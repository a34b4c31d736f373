"""Workspace GPU quotas over random workloads: at no event does a workspace hold or await more
GPUs than its limit, and a refusal names exactly what the limit left free."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine import Engine
from tests.property.invariants import NOTEBOOK_TYPES, TERMINAL, Driver, small_world, submit
from tests.property.strategies import job_args, waits

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WORKSPACES = ("ws-a", "ws-b", "ws-c")
SERVER_HOLDING = frozenset({"creating", "resuming", "running", "waiting"})


def counted_gpus(e: Engine) -> Counter:
    """Oracle from the engine's tables: live jobs' GPUs and servers holding or awaiting GPUs."""
    use: Counter = Counter()
    for j in e.jobs.values():
        if j.status not in TERMINAL:
            use[j.workspace] += j.n_workers * j.itype.gpus
    for b in e.notebooks.values():
        if not b.deleted and b.status in SERVER_HOLDING:
            use[b.workspace] += b.itype.gpus
    return use


@dataclass
class QuotaDriver(Driver):
    """Also checks every workspace against its limit after every engine event and command."""

    refusals: int = 0

    def check_instant(self, before: list) -> None:
        super().check_instant(before)
        e = self.world.engine
        for ws, used in counted_gpus(e).items():
            limit = e.quotas.limit(ws)
            assert limit is None or used <= limit, f"{ws} holds {used} GPUs over {limit}"

    def apply(self, cmd: tuple):
        """A quota refusal only when what was asked exceeds what the limit left free."""
        e = self.world.engine
        asked = self._asked(cmd)
        ws = self._workspace(cmd)
        free = None
        if asked is not None and e.quotas.limit(ws) is not None:
            free = e.quotas.limit(ws) - counted_gpus(e)[ws]
        result = super().apply(cmd)
        if result == "rejected:OverQuota":
            assert free is not None and asked > free, (cmd, asked, free)
            self.refusals += 1
        return result

    def _asked(self, cmd: tuple) -> int | None:
        """GPUs the command asks for (None: it asks for none)."""
        kind, *args = cmd
        if kind == "submit":
            region, key, workers = args[0]["region"], args[0]["instance_type"], args[0]["n_workers"]
        elif kind == "create":
            (region, key, _), workers = args, 1
        elif kind == "resume":
            (_, region, key), workers = args, 1
        else:
            return None
        return workers * self.world.config.catalog.instance_type(region, key).gpus

    def _workspace(self, cmd: tuple) -> str:
        kind, *args = cmd
        if kind == "resume":
            return self.books[args[0]].workspace
        return args[-1] if kind in ("submit", "create") else ""

    def play(self, cmd: tuple) -> None:
        """``cmd``, its "n-th job/server" taken modulo how many exist (skipped if none)."""
        if cmd[0] in ("kill", "pause", "resume"):
            made = self.jobs if cmd[0] == "kill" else self.books
            if not made:
                return
            cmd = (cmd[0], cmd[1] % len(made), *cmd[2:])
        self.apply(cmd)


@st.composite
def workloads(draw: st.DrawFn) -> list[tuple]:
    cmds: list[tuple] = []
    for _ in range(draw(st.integers(1, 20))):
        cmds.append(("advance", draw(waits())))
        ws = draw(st.sampled_from(WORKSPACES))
        action = draw(st.sampled_from(["submit", "submit", "create", "pause", "resume", "kill"]))
        if action == "submit":
            cmds.append(submit(draw(job_args()), ws))
        elif action == "create":
            cmds.append(("create", *draw(st.sampled_from(NOTEBOOK_TYPES)), ws))
        elif action == "resume":
            cmds.append(
                ("resume", draw(st.integers(0, 40)), *draw(st.sampled_from(NOTEBOOK_TYPES)))
            )
        else:
            cmds.append((action, draw(st.integers(0, 40))))
    return cmds


@BOUNDED
@given(
    cmds=workloads(),
    limits=st.fixed_dictionaries(
        {
            "workspace_gpus": st.integers(0, 24),
            "workspaces": st.fixed_dictionaries({"ws-a": st.integers(0, 8)}),
        }
    ),
    seed=st.integers(0, 2**32),
)
def test_no_workspace_ever_holds_or_awaits_more_gpus_than_its_quota(cmds, limits, seed):
    driver = QuotaDriver(small_world(seed, quotas=limits), observe=True)
    for cmd in cmds:
        driver.play(cmd)
    driver.apply(("idle",))
    assert all(j.status in TERMINAL for j in driver.jobs)
    counted = counted_gpus(driver.world.engine)
    for ws in WORKSPACES:
        assert driver.world.workspace_gpus(ws)["used"] == counted[ws]
