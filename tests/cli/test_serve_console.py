"""What ``mlspace-sim serve`` prints for a newcomer: where each half of the ``mls`` profile goes,
and one access-log line per request (``--quiet`` turns it off). A real process, as a user runs
it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from mock_server.access_log import AccessLog

ROOT = Path(__file__).resolve().parents[2]
START_BOUND_S = 60.0


@contextmanager
def serving(*flags: str) -> Iterator[tuple[str, list[str]]]:
    """A ``serve`` process on a free port: its base URL and the lines it has printed so far."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlspace_sim.cli", "serve", "--port", "0", "--clock", "manual",
         *flags],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("  x_api_key"):  # the banner's last line
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(START_BOUND_S), lines
        url = re.match(r"mlspace-sim serving (\S+)", lines[0])
        assert url, lines
        yield url.group(1), lines
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def two_requests(base: str) -> None:
    assert requests.get(f"{base}/jobs?region=SR006", timeout=10).status_code == 401
    assert requests.get(f"{base.removesuffix('/public/v2')}/_mock/clock", timeout=10).ok


def logged(lines: list[str]) -> list[str]:
    return [line for line in lines if line.endswith(" ms")]


def wait_for(lines: list[str], count: int) -> None:
    """Bounded poll: a line is written once its answer has closed, just after the client has it."""
    deadline = time.monotonic() + START_BOUND_S
    while len(logged(lines)) < count:
        assert time.monotonic() < deadline, lines
        time.sleep(0.02)


def test_the_profile_says_which_block_goes_in_which_file() -> None:
    with serving() as (base, lines):
        text = "\n".join(lines)
    config = text.index("~/.mls/config")
    credentials = text.index("~/.mls/credentials")
    assert config < text.index(f"endpoint_url = {base}") < credentials
    assert credentials < text.index("key_secret = sim-key-secret")


def test_each_request_gets_one_access_log_line() -> None:
    with serving() as (base, lines):
        two_requests(base)
        wait_for(lines, 2)
    # each line is written as its answer closes, so two quick answers may log in either order
    shapes = sorted(re.sub(r"\d+\.\d ms$", "<ms> ms", line) for line in logged(lines))
    assert shapes == [
        "GET /_mock/clock 200 <ms> ms",
        "GET /public/v2/jobs?region=SR006 401 <ms> ms",
    ]


def test_quiet_turns_the_access_log_off() -> None:
    with serving("--quiet") as (base, lines):
        two_requests(base)
    assert logged(lines) == [] and "access log" not in "\n".join(lines)


def test_a_streamed_answer_is_logged_when_it_ends() -> None:
    out: list[str] = []

    def app(environ: dict, start_response) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"one"
        out.append("streamed")
        yield b"two"

    class Sink:
        def write(self, text: str) -> None:
            out.append(text.strip())

        def flush(self) -> None:
            pass

    logged = AccessLog(app, Sink())
    body = logged({"REQUEST_METHOD": "POST", "PATH_INFO": "/logs", "QUERY_STRING": ""},
                  lambda status, headers, exc_info=None: None)  # fmt: skip
    assert b"".join(body) == b"onetwo" and out == ["streamed"]
    body.close()
    assert out[0] == "streamed" and re.fullmatch(r"POST /logs 200 \d+\.\d ms", out[1])
