"""The Jupyter Server (and TensorBoard) lifecycle, mixed into the engine.

A server takes its GPUs from the pool that serves notebooks (the direct pool by default),
waiting in its queue while it is full; it is metered from the moment it holds capacity until it
is paused or deleted, idle or not. An autoshutdown timer pauses it a set time after each start.
A server whose node fails goes to ``error``: its capacity and meter stop, and it can be resumed
(on a healthy node) or deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from simulator import notebooks as nb
from simulator.billing import ZERO
from simulator.catalog import InstanceType
from simulator.errors import Conflict, NotFound, Refused
from simulator.notebooks import Notebook, Ticket
from simulator.pools import Demand
from simulator.randomness import stream, uuid4_str

if TYPE_CHECKING:
    from simulator.billing import Ledger
    from simulator.catalog import Catalog
    from simulator.prices import PriceBook
    from simulator.quotas import Holdings, Quotas
    from simulator.scheduler import PoolScheduler
    from simulator.tenancy import Queue, Tenancy


class ServerLifecycle:
    """Create, pause, resume, delete and meter servers (needs the engine's clock and pools)."""

    seed: int
    catalog: Catalog
    prices: PriceBook
    ledger: Ledger
    notebooks: dict[str, Notebook]
    max_notebook_gpus: int
    quotas: Quotas
    holdings: Holdings
    tenancy: Tenancy
    check_queue_fit: Callable[[Queue, PoolScheduler, int, InstanceType], None]
    _nb_start: tuple[float, float]
    _nb_pause: float
    _entity_bits: Callable[[str], int]
    now_epoch: Callable[[], float]
    _after: Callable[[float, Callable[[Any], None], Any], None]
    _next_seq: Callable[[], int]
    _scheduler_for: Callable[[str, str, InstanceType], PoolScheduler]
    _free: Callable[[Notebook], None]

    def _notebook_type(self, region: str, key: str, noun: str = "Notebook") -> InstanceType:
        itype = self.catalog.instance_type(region, key)
        if itype.gpus > self.max_notebook_gpus:
            raise Refused(
                f"A Jupyter Server may use at most {self.max_notebook_gpus} GPUs; "
                f"{key} has {itype.gpus}",
                reason=f"over the {self.max_notebook_gpus}-GPU Jupyter Server ceiling",
                value=key,
            )
        if not itype.jupyter:
            raise Refused(
                f"Instance type {key!r} is not available for {noun}s in region={region}",
                reason=f"not offered for {noun}s",
                value=f"{key} in {region}",
            )
        return itype

    def _server_scheduler(self, region: str, itype: InstanceType) -> PoolScheduler | None:
        """The queue a server of ``itype`` waits in; None when it needs no capacity."""
        if itype.gpus == 0 and self.prices.worker_hour(itype) == 0:
            return None
        sched = self._scheduler_for("notebook", region, itype)
        if not sched.pool.can_ever_fit(1, Demand.of(itype)):
            raise Refused(
                f"{itype.key} can never fit in pool {sched.pool.name!r}",
                reason=f"never fits pool {sched.pool.name} ({sched.pool.total_gpus} GPUs)",
                value=itype.key,
            )
        return sched

    def create_notebook(
        self,
        *,
        workspace: str,
        name: str,
        region: str,
        instance_type: str,
        image: str = "",
        author: str = "",
        kind: str = "notebook",
        extra: dict[str, Any] | None = None,
    ) -> Notebook:
        """Start a server: it takes its GPUs from the direct pool, waiting if that is full."""
        noun = "Tensorboard" if kind == "tensorboard" else "Notebook"
        itype = self._notebook_type(region, instance_type, noun)
        sched = self._server_scheduler(region, itype)
        extra = dict(extra or {})
        queue = self.tenancy.resolve(
            workspace, region, extra.get("allocation_name"), extra.get("queue_name"), "notebook"
        )
        if sched is not None:
            self.check_queue_fit(queue, sched, 1, itype)
        self.holdings.check(self.quotas, workspace, itype.gpus)
        uid = uuid4_str(
            self._entity_bits(f"{kind}\x1f{workspace}\x1f{name}\x1f{region}\x1f{instance_type}")
        )
        book = Notebook(
            uid=uid,
            seq=self._next_seq(),
            name=name,
            workspace=workspace,
            author=author,
            kind=kind,
            region=region,
            itype=itype,
            image=image,
            now=self.now_epoch(),
            extra=extra,
        )
        book.queue = queue
        queue.members += 1
        self.notebooks[uid] = book
        self.holdings.server_created(book)
        self._start_server(book, sched, nb.CREATING)
        return book

    def _start_server(self, book: Notebook, sched: PoolScheduler | None, status: str) -> None:
        book.pool = sched
        if sched is None:
            self._set_nb_status(book, status)
            self._server_holding(book)
            return
        self._set_nb_status(book, nb.WAITING)
        book.extra["_starting_status"] = status
        book.ticket = Ticket(book)
        sched.submit(book.ticket)

    def _ticket_placed(self, ticket: Ticket) -> None:
        book = ticket.book
        book.ticket, book.placement = None, ticket.placement
        self._set_nb_status(book, book.extra.pop("_starting_status", nb.CREATING))
        self._server_holding(book)

    def _server_holding(self, book: Notebook) -> None:
        """Capacity is held from here: meter it, arm its timer, running after start-up."""
        book.spans += 1
        book.line = self.ledger.open(
            workspace=book.workspace,
            kind=book.kind,
            item=book.uid,
            region=book.region,
            instance_type=book.itype.key,
            workers=1,
            price_per_hour=self.prices.worker_hour(book.itype),
            start=self.now_epoch(),
        )
        if book.timer_s is not None:
            self._arm_timer(book)
        rng = stream(self.seed, "server", book.uid, book.spans)
        self._after(rng.uniform(*self._nb_start), self._server_ready, (book, book.line))

    def _server_ready(self, arg: tuple[Notebook, Any]) -> None:
        book, line = arg
        if book.line is line and line.end is None and not book.deleted:
            self._set_nb_status(book, nb.RUNNING)

    def _set_nb_status(self, book: Notebook, status: str) -> None:
        book.status, book.status_updated_at = status, self.now_epoch()

    def _stop_server(self, book: Notebook) -> None:
        """Give back the capacity (or the place in the queue) and close the meter, now."""
        sched = book.pool
        if book.placement is not None and sched is not None:
            self._free(book)
            sched.dispatch()
        elif book.ticket is not None and sched is not None:
            sched.cancel(book.ticket)
            book.ticket = None
        if book.line is not None:
            self.ledger.close(book.line, self.now_epoch())
            book.line = None
        self.holdings.server_stopped(book)

    def server_lost(self, book: Notebook) -> None:
        """``book``'s node failed: capacity freed (the queue does not move yet), meter and timer
        stopped, status ``error``."""
        self._free(book)
        self.ledger.close(book.line, self.now_epoch())
        book.line = None
        book.timer_token += 1
        self._set_nb_status(book, nb.ERROR)
        self.holdings.server_stopped(book)

    def set_notebook_timer(
        self, uid: str, seconds: float | None, final_status: str = nb.TIMER_PAUSED
    ) -> None:
        """Autoshutdown by timer: pause ``seconds`` after each start (and, when the server is
        running now, ``seconds`` from now); None withdraws it."""
        book = self._live_notebook(uid)
        book.timer_s, book.timer_status = seconds, final_status
        book.timer_token += 1
        if seconds is not None and book.line is not None:
            self._arm_timer(book)

    def _arm_timer(self, book: Notebook) -> None:
        book.timer_token += 1
        token, line = book.timer_token, book.line

        def fire(_: Any) -> None:
            if book.timer_token == token and book.line is line and not book.deleted:
                self.pause_notebook(book.uid, book.timer_status)

        self._after(book.timer_s or 0.0, fire, None)

    def pause_notebook(self, uid: str, final_status: str = nb.PAUSED) -> Notebook:
        """Pause: frees the GPUs and stops billing at once; paused a few seconds later."""
        book = self._live_notebook(uid)
        if book.paused:
            return book
        self._refuse_if_deleting(book)
        self._stop_server(book)
        self._set_nb_status(book, nb.PAUSING)
        self._after(self._nb_pause, self._server_paused, (book, final_status))
        return book

    def _server_paused(self, arg: tuple[Notebook, str]) -> None:
        book, final_status = arg
        if book.status == nb.PAUSING:
            self._set_nb_status(book, final_status)

    def resume_notebook(self, uid: str, region: str, instance_type: str) -> Notebook:
        """Resume a paused (or failed) server, possibly on another type; a refusal changes
        nothing."""
        book = self._live_notebook(uid)
        if not book.paused and book.status != nb.ERROR:
            raise Conflict(
                f"{book.noun} status is '{book.status.capitalize()}'. Can't resume.",
                error_code=3,
            )
        itype = self._notebook_type(region, instance_type, book.noun)
        sched = self._server_scheduler(region, itype)
        queue = book.queue
        if queue.region != region:  # moved to another region: its default queue there
            queue = self.tenancy.default_queue(book.workspace, region)
        if sched is not None:
            self.check_queue_fit(queue, sched, 1, itype)
        self.holdings.check(self.quotas, book.workspace, itype.gpus)
        if queue is not book.queue:
            book.queue.members -= 1
            book.queue = queue
            queue.members += 1
        book.set_type(region, itype)
        self._start_server(book, sched, nb.RESUMING)
        return book

    def delete_notebook(self, uid: str) -> Notebook:
        """Delete: capacity and billing stop now; the server disappears a moment later."""
        book = self._live_notebook(uid)
        self._refuse_if_deleting(book)
        self._stop_server(book)
        book.timer_token += 1
        self._set_nb_status(book, nb.DELETING)
        self._after(self._nb_pause, self._server_gone, book)
        return book

    @staticmethod
    def _refuse_if_deleting(book: Notebook) -> None:
        if book.status == nb.DELETING:
            raise Conflict(f"{book.noun} deletion is already in progress.", error_code=2)

    def _server_gone(self, book: Notebook) -> None:
        book.deleted = True
        self.holdings.server_gone(book)
        book.queue.members -= 1

    def _live_notebook(self, uid: str) -> Notebook:
        book = self.notebooks.get(uid)
        if book is None or book.deleted:
            noun = book.noun if book is not None else "Notebook"
            raise NotFound(f"{noun} uuid='{uid}' does not found")
        return book

    def notebook_cost(self, book: Notebook) -> Decimal:
        now = self.now_epoch()
        return sum(
            (ln.cost(now, self.ledger.tariff) for ln in self.ledger.lines if ln.item == book.uid),
            ZERO,
        )
