"""Contract-test fixtures: one live mock server per module, and the real ``mls`` CLI.

Each test gets the module's server reset to a fresh world (same seed, clock back at the fixed
virtual start), so tests stay independent without paying for a new server each time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mock_server.testing import MockServer, running_server


def _mls_executable() -> str:
    """The ``mls`` installed next to this interpreter (skips any shim on PATH)."""
    beside = Path(sys.executable).with_name("mls")
    return str(beside) if beside.exists() else shutil.which("mls") or "mls"


MLS = _mls_executable()
CLI_TIMEOUT_S = 60.0
SERVER_SETTINGS = {"log_follow_max_s": 10.0, "log_poll_s": 0.02}


def wait_until(predicate: Callable[[], object], limit_s: float = 20.0) -> None:
    """Bounded poll for something another thread or process prints (never for the simulation:
    virtual time only moves when a test advances it)."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def advance_until(
    server: MockServer, done: Callable[[], object], step_s: float = 1.0, limit_s: float = 600.0
) -> float:
    """Step the virtual clock until ``done()``; returns the virtual seconds it took. For tests
    that must catch a moment (e.g. just after a job starts) whatever the seeded timings."""
    spent = 0.0
    while not done():
        assert spent < limit_s, "the condition never came true"
        server.advance(step_s)
        spent += step_s
    return spent


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    """A live server shared by the module (manual clock, seed 0)."""
    with running_server(seed=0, settings=SERVER_SETTINGS) as srv:
        yield srv


@pytest.fixture
def srv(server: MockServer) -> MockServer:
    """The module's server with a fresh world: no jobs, clock at the fixed start."""
    server.reset()
    return server


@dataclass
class Cli:
    """Runs the installed ``mls`` with ``HOME`` holding a profile and a clean working dir."""

    home: Path
    cwd: Path
    env: dict[str, str]

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        return {**self.env, **extra}

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [MLS, *args],
            cwd=self.cwd,
            env=self._env(env or {}),
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_S,
            check=False,
        )

    def ok(self, *args: str, env: dict[str, str] | None = None) -> str:
        """stdout of a command that must exit 0 (rc 0 alone proves nothing: check the body)."""
        done = self.run(*args, env=env)
        assert done.returncode == 0, (args, done.returncode, done.stdout, done.stderr)
        return done.stdout

    def json(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return json.loads(self.ok(*args, env=env))

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [MLS, *args],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


def make_cli(server: MockServer, root: Path, *, region: str = "SR006") -> Cli:
    home, cwd = root / "home", root / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    server.write_mls_profile(home, region=region)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLS_")}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", NO_COLOR="1")
    return Cli(home, cwd, env)


@pytest.fixture
def mls(srv: MockServer, tmp_path: Path) -> Cli:
    """The ``mls`` CLI pointed at the (freshly reset) module server, profile region SR006."""
    return make_cli(srv, tmp_path)
