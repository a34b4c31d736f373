"""Allocations and queues: the units a workspace's jobs and servers are placed through.

Every workspace has one pay-as-you-go allocation per catalog region, with one default queue; it
may add custom queues to an allocation. A queue may have a GPU limit (its placed work never holds
more) and nodes of its own (dedicated: its work runs only there, and no other queue's work lands
there). Work naming no queue goes to the allocation's default queue for its kind (job or
notebook): the default queue unless a custom one was chosen. Ids are stable: derived from
(workspace, region) or (workspace, queue name), so the same names give the same ids in every run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from simulator.catalog import Catalog
from simulator.errors import Conflict, NotFound, Refused

NAMESPACE = uuid.UUID("5f1c1d64-1d0e-4c1b-9a36-6d2b8b8f5e11")
DEFAULT, CUSTOM = "default", "custom"
KINDS = ("job", "notebook")


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class Allocation:
    id: str
    name: str
    workspace: str
    region: str


@dataclass(eq=False)
class Queue:
    """A queue of an allocation; ``held_gpus`` is what its placed jobs and servers hold now."""

    id: str
    name: str
    description: str
    allocation: Allocation
    type: str = DEFAULT
    gpu_limit: int | None = None
    nodes: tuple[str, ...] = ()
    held_gpus: int = 0
    members: int = field(default=0)  # live jobs and servers that name it

    @property
    def workspace(self) -> str:
        return self.allocation.workspace

    @property
    def region(self) -> str:
        return self.allocation.region

    @property
    def constrained(self) -> bool:
        return self.gpu_limit is not None or bool(self.nodes)

    def admits(self, gpus: int) -> bool:
        """Whether ``gpus`` more may be placed under the queue's limit now."""
        return self.gpu_limit is None or self.held_gpus + gpus <= self.gpu_limit


def allocation_name(region: str) -> str:
    return f"payg-{region.lower()}"


class Tenancy:
    """Every workspace's allocations and queues (created on first use)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._defaults: dict[tuple[str, str], Queue] = {}
        self._custom: dict[str, Queue] = {}  # by id
        self._chosen: dict[tuple[str, str], Queue] = {}  # (allocation id, kind) -> default

    # ---- allocations --------------------------------------------------------------------------
    def allocation(self, workspace: str, region: str) -> Allocation:
        return self.default_queue(workspace, region).allocation

    def allocations(self, workspace: str) -> list[Allocation]:
        return [self.allocation(workspace, key) for key in self.catalog.regions]

    def find_allocation(self, workspace: str, allocation_id: str) -> Allocation:
        for alloc in self.allocations(workspace):
            if alloc.id == allocation_id:
                return alloc
        raise NotFound(f"Allocation {allocation_id} not found")

    # ---- queues -------------------------------------------------------------------------------
    def default_queue(self, workspace: str, region: str) -> Queue:
        queue = self._defaults.get((workspace, region))
        if queue is None:
            self.catalog.region(region)  # an unknown region is refused here
            alloc = Allocation(
                stable_uuid(workspace, region, "allocation"),
                allocation_name(region),
                workspace,
                region,
            )
            queue = self._defaults[workspace, region] = Queue(
                stable_uuid(workspace, region, "queue"),
                f"default-{region.lower()}",
                f"Default queue of {alloc.name}",
                alloc,
            )
        return queue

    def queues(self, workspace: str, allocation: Allocation | None = None) -> list[Queue]:
        """The workspace's queues (of one allocation if given): defaults first."""
        allocs = [allocation] if allocation is not None else self.allocations(workspace)
        out = [self.default_queue(workspace, a.region) for a in allocs]
        out += [
            q
            for q in self._custom.values()
            if q.workspace == workspace and (allocation is None or q.allocation == allocation)
        ]
        return out

    def all_queues(self) -> Iterable[Queue]:
        yield from self._defaults.values()
        yield from self._custom.values()

    def queue(self, workspace: str, queue_id: str) -> Queue:
        for q in self.queues(workspace):
            if q.id == queue_id:
                return q
        raise NotFound(f"Queue {queue_id} not found")

    def default_for(self, allocation: Allocation, kind: str) -> Queue:
        """The queue ``kind`` work (job, notebook) naming no queue goes to in ``allocation``."""
        chosen = self._chosen_default(allocation, kind)
        return chosen or self.default_queue(allocation.workspace, allocation.region)

    def _chosen_default(self, allocation: Allocation, kind: str) -> Queue | None:
        """The custom queue chosen as ``allocation``'s default for ``kind`` work, if any."""
        return self._chosen.get((allocation.id, kind))

    def choose_default(self, queue: Queue, kind: str, chosen: bool = True) -> None:
        """Make ``queue`` its allocation's default for ``kind`` work (``chosen=False``: stop
        being it, so the allocation's default queue is again)."""
        key = (queue.allocation.id, _kind(kind))
        if queue.type != CUSTOM:
            if chosen:  # the allocation's default queue is the default again
                self._chosen.pop(key, None)
        elif chosen:
            self._chosen[key] = queue
        elif self._chosen.get(key) is queue:
            del self._chosen[key]

    def resolve(
        self,
        workspace: str,
        region: str,
        allocation: str | None,
        queue: str | None,
        kind: str = "job",
    ) -> Queue:
        """The queue ``kind`` work naming ``allocation``/``queue`` (None: the defaults) in
        ``region`` is placed through; an unknown name is refused."""
        default = self.default_queue(workspace, region)
        if allocation and allocation != default.allocation.name:
            raise Refused(f"Allocation {allocation!r} not found in region {region}", error_code=1)
        if not queue:  # default_for, with the default queue already at hand
            if not self._chosen:  # no queue was chosen as any default (per-job path)
                return default
            return self._chosen_default(default.allocation, kind) or default
        if queue == default.name:
            return default
        for q in self.queues(workspace, default.allocation):
            if q.name == queue:
                return q
        raise Refused(
            f"Queue {queue!r} not found in allocation {default.allocation.name}", error_code=1
        )

    def create_queue(
        self,
        workspace: str,
        allocation_id: str,
        name: str,
        description: str = "",
        gpu_limit: int | None = None,
    ) -> Queue:
        alloc = self.find_allocation(workspace, allocation_id)
        self._check_name(workspace, name)
        _check_limit(gpu_limit)
        queue = Queue(stable_uuid(workspace, name), name, description, alloc, CUSTOM, gpu_limit)
        self._custom[queue.id] = queue
        return queue

    def update_queue(
        self,
        queue: Queue,
        *,
        name: str | None = None,
        description: str | None = None,
        gpu_limit: int | None = None,
        unlimited: bool = False,
    ) -> Queue:
        """Rename, describe or (re)limit ``queue``; ``unlimited`` lifts its GPU limit."""
        if queue.type != CUSTOM:
            raise Conflict(f"Queue {queue.name} is a default queue and cannot be changed")
        if name is not None and name != queue.name:
            self._check_name(queue.workspace, name)
            queue.name = name
        if description is not None:
            queue.description = description
        if gpu_limit is not None or unlimited:
            _check_limit(gpu_limit)
            queue.gpu_limit = gpu_limit
        return queue

    def delete_queue(self, queue: Queue) -> None:
        if queue.type != CUSTOM:
            raise Conflict(f"Queue {queue.name} is a default queue and cannot be deleted")
        if queue.members:
            raise Conflict(f"Queue {queue.name} has {queue.members} jobs or servers in it")
        if queue.nodes:
            raise Conflict(f"Queue {queue.name} has nodes added; it cannot be deleted")
        del self._custom[queue.id]
        for kind in KINDS:
            self.choose_default(queue, kind, chosen=False)

    def _check_name(self, workspace: str, name: str) -> None:
        if not name:
            raise Refused("A queue needs a name")
        if any(q.name == name for q in self.queues(workspace)):
            raise Conflict(f"Queue {name} already exists")


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise Refused(f"default_for must be one of {KINDS}, not {kind!r}")
    return kind


def _check_limit(gpu_limit: int | None) -> None:
    if gpu_limit is not None and (isinstance(gpu_limit, bool) or gpu_limit < 0):
        raise Refused(f"gpu_limit must be 0 or more, not {gpu_limit!r}")
