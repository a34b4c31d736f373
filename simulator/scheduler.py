"""Queueing and gang scheduling of requests on one pool.

Order: priority class (high > medium > low > shared-medium > shared-low), then arrival (FIFO).
Without backfill the queue is strict: nothing starts ahead of a waiting request of a higher or
equal class that arrived earlier. With backfill, requests behind a blocked head may start if they
fit now (first fit in queue order, no reservations). With preemption on, a request that does not
fit may make room by evicting lower-priority work (``preempt``, set by the engine's faults).

Queues add rules once any queue has a GPU limit or dedicated nodes (``gated``): a request whose
queue is at its limit waits without holding up other queues' requests (nor is it overtaken by
later requests of its own queue in strict mode), and it is placed only on the nodes its queue may
use. Such requests never preempt.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from simulator.pools import Demand, Placement, Pool

PRIORITY_CLASSES = ("high", "medium", "low", "shared-medium", "shared-low")
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITY_CLASSES)}


class Request(Protocol):
    """Anything waiting for capacity: a training job or a Jupyter Server."""

    n_workers: int
    demand: Demand
    priority_rank: int
    cancelled: bool
    queue: Any  # simulator.tenancy.Queue


class PoolScheduler:
    """The waiting line of one pool and the rule that lets requests in."""

    def __init__(
        self,
        pool: Pool,
        on_placed: Callable[[Request, Placement], None],
        backfill: bool = False,
    ) -> None:
        self.pool = pool
        self.backfill = backfill
        self._on_placed = on_placed
        self._queues: list[deque[Request]] = [deque() for _ in PRIORITY_CLASSES]
        self.waiting = 0
        self.gated = False  # some queue has a limit or dedicated nodes: apply queue rules
        # (this scheduler, a request that does not fit) -> where it was placed after evicting
        # others, or None; only asked on the blocked path, so it costs nothing when unset
        self.preempt: Callable[[PoolScheduler, Request], Placement | None] | None = None

    def submit(self, req: Request) -> None:
        """Queue ``req`` and start whatever may start now. With nothing else waiting (the common
        case), ``req`` is placed at once if it fits, as :meth:`dispatch` would place it."""
        if not self.waiting and not self.gated:
            plan = self.pool.place(req.n_workers, req.demand)
            if plan is not None:
                self._on_placed(req, plan)
                return
        self._queues[req.priority_rank].append(req)
        self.waiting += 1
        self.dispatch()

    def cancel(self, req: Request) -> None:
        """Forget a waiting request (it is skipped lazily) and let others move up."""
        req.cancelled = True
        self.waiting -= 1
        self.dispatch()

    def pending(self) -> list[Request]:
        """Waiting requests in launch order."""
        return [r for q in self._queues for r in q if not r.cancelled]

    def dispatch(self) -> None:
        """Start requests in queue order while they fit (all of them, with backfill)."""
        if not self.waiting:
            return
        if self.gated:
            self._dispatch_gated()
            return
        for q in self._queues:
            if self.backfill:
                self._scan(q)
                continue
            while q:
                head = q[0]
                if head.cancelled:
                    q.popleft()
                    continue
                plan = self.pool.place(head.n_workers, head.demand)
                if plan is None and self.preempt is not None:
                    plan = self.preempt(self, head)
                if plan is None:
                    return
                q.popleft()
                self.waiting -= 1
                self._on_placed(head, plan)

    def _scan(self, q: deque[Request]) -> None:
        kept: deque[Request] = deque()
        while q:
            req = q.popleft()
            if req.cancelled:
                continue
            plan = self.pool.place(req.n_workers, req.demand)
            if plan is None and self.preempt is not None:
                plan = self.preempt(self, req)
            if plan is None:
                kept.append(req)
                continue
            self.waiting -= 1
            self._on_placed(req, plan)
        q.extend(kept)

    def _dispatch_gated(self) -> None:
        """:meth:`dispatch` with each request's queue rules (see the module's docstring)."""
        stalled: set[Any] = set()  # strict mode: queues whose first waiting request must wait
        for q in self._queues:
            kept: deque[Request] = deque()
            blocked = False
            while q:
                req = q.popleft()
                if req.cancelled:
                    continue
                queue = req.queue
                if blocked or queue in stalled:
                    kept.append(req)
                    continue
                plan = None
                if queue.admits(req.n_workers * req.demand.gpus):
                    allowed = self.pool.allowed(queue)
                    plan = self.pool.place(req.n_workers, req.demand, allowed)
                    if plan is None and self.preempt is not None and allowed is None:
                        plan = self.preempt(self, req)
                    if plan is None and not self.backfill and not queue.nodes:
                        blocked = True  # the pool's own line is held up, as without queues
                if plan is None:
                    if not self.backfill:
                        stalled.add(queue)
                    kept.append(req)
                    continue
                self.waiting -= 1
                self._on_placed(req, plan)
            q.extend(kept)
            if blocked:  # lower classes wait behind the pool's blocked head
                return
