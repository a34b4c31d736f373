"""Log followers on a frozen clock do not starve the server (issue 11, item 11).

A follow holds its request open while its job runs; followers get worker threads of their own
(``log_follow_slots``), a follow beyond them is refused with the platform's 429 at once, and a
follow sleeps until virtual time moves instead of polling. Latency figures live in
``benchmarks/log_follow.py``; here only what a user notices: answered or not, streamed or not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from mock_server.testing import MockServer, running_server
from tests.reliability import support

pytestmark = pytest.mark.timeout(120)
STARTED_S = 30
HELD_S = 60.0  # longer than any test here waits: a stream only ends because its job does
JOB = {**support.JOB, "env_variables": {"MLSPACE_SIM_RUNTIME_S": "36000"}}


def running_job(srv: MockServer, headers: dict[str, str]) -> str:
    name = requests.post(f"{srv.api_url}/jobs", json=JOB, headers=headers, timeout=10).json()
    srv.advance(STARTED_S)
    return name["job_name"]


class Follower(threading.Thread):
    """One client following a job's log: its status code and the text it got."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.url, self.headers = url, headers
        self.opened, self.ended = threading.Event(), threading.Event()
        self.epoch_seen = threading.Event()
        self.status = 0
        self.text = ""

    def run(self) -> None:
        with requests.get(self.url, headers=self.headers, stream=True, timeout=HELD_S) as r:
            self.status = r.status_code
            for chunk in r.iter_content(None, decode_unicode=True):
                self.text += chunk
                self.opened.set()
                if "Epoch 2/" in self.text:  # Keras prints it when the first epoch ends
                    self.epoch_seen.set()
        self.opened.set()
        self.ended.set()


@contextmanager
def followers(srv: MockServer, name: str, n: int, headers: dict[str, str]) -> Iterator[list[Any]]:
    started = [Follower(f"{srv.api_url}/jobs/{name}/logs", headers) for _ in range(n)]
    for f in started:
        f.start()
    for f in started:
        assert f.opened.wait(30), "a follower got no answer"
    try:
        yield started
    finally:
        requests.delete(f"{srv.api_url}/jobs/{name}", headers=headers, timeout=30)
        for f in started:
            f.join(30)


def test_followers_beyond_the_old_thread_count_leave_status_calls_answered() -> None:
    with running_server(settings={"log_follow_max_s": HELD_S}) as srv:
        headers = srv.headers()
        name = running_job(srv, headers)
        with followers(srv, name, 40, headers) as open_streams:
            assert all(f.status == 200 and not f.ended.is_set() for f in open_streams)
            # 40 streams held on a frozen clock; before, 16 threads were taken and this waited
            # until the streams let go (``log_follow_max_s``)
            r = requests.get(f"{srv.api_url}/jobs/{name}", headers=headers, timeout=5)
            assert r.json()["status"] == "running"
        assert all(f.ended.is_set() for f in open_streams)  # the kill ended every stream


def test_a_follow_beyond_the_slots_is_refused_with_429_until_one_frees() -> None:
    with running_server(settings={"log_follow_max_s": HELD_S, "log_follow_slots": 2}) as srv:
        headers = srv.headers()
        name = running_job(srv, headers)
        url = f"{srv.api_url}/jobs/{name}/logs"
        with followers(srv, name, 2, headers):
            r = requests.get(url, headers=headers, timeout=10)
            assert (r.status_code, r.headers["Content-Type"]) == (429, "application/json")
            assert r.headers["Retry-After"] == "1"
            assert r.json() == {
                "error_code": 429,
                "error_message": "Too many log streams open; retry later",
            }
            done = requests.get(f"{url}?tail=1", headers=headers, timeout=10)
            assert done.status_code == 429  # any follow of a running job needs a slot
        other = running_job(srv, headers)
        with followers(srv, other, 2, headers) as again:  # the kill gave both slots back
            assert [f.status for f in again] == [200, 200]


def test_a_follow_wakes_when_the_clock_moves_not_on_a_poll() -> None:
    slow_poll = {"log_follow_max_s": HELD_S, "log_poll_s": HELD_S}
    with running_server(settings=slow_poll) as srv:
        headers = srv.headers()
        name = running_job(srv, headers)
        with followers(srv, name, 1, headers) as (follower,):
            assert not follower.epoch_seen.wait(0.5)  # the clock is frozen: no epoch ends
            srv.advance(600)  # the first epoch ends at 360 s of training
            assert follower.epoch_seen.wait(10) and not follower.ended.is_set()


@pytest.mark.parametrize("bad", [0, -1, True, "8", 1.5])
def test_log_follow_slots_must_be_a_positive_integer(bad: Any) -> None:
    with (
        pytest.raises(ValueError, match="log_follow_slots"),
        running_server(settings={"log_follow_slots": bad}),
    ):
        pass
