"""The API's requests take turns in the order they came: a command waiting for its turn is not
overtaken by reads that came after it (under load it was, for hundreds of milliseconds)."""

from __future__ import annotations

import threading
import time

from mock_server.turns import TurnLock


def test_waiters_get_the_lock_in_the_order_they_came() -> None:
    lock, order = TurnLock(), []

    def take(i: int) -> None:
        with lock:
            order.append(i)

    lock.acquire()
    threads = []
    for i in range(8):
        threads.append(threading.Thread(target=take, args=(i,)))
        threads[-1].start()
        while len(lock._waiting) <= i:  # queued before the next one comes
            time.sleep(0)
    lock.release()
    for thread in threads:
        thread.join()
    assert order == list(range(8))
    with lock:  # free again, and taken at once
        assert not lock._waiting
