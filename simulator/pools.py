"""Pools of nodes and gang placement of whole workers onto nodes.

Resources are integers (GPUs, milli-CPUs, MiB of RAM) so that no float drift can ever let a
node look freer than it is. GPU pools keep their nodes in buckets by free GPUs, each a bit mask
of node indices, so a best-fit placement looks at a handful of buckets instead of every node and
takes the lowest set bits of one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from simulator.catalog import InstanceType

Placement = list[tuple[int, int]]
"""(node index, workers placed there) pairs."""


class Demand(NamedTuple):
    """What one worker needs (a tuple: hashed in C on the placement hot path)."""

    gpus: int
    mcpu: int
    mem_mi: int

    @classmethod
    def of(cls, itype: InstanceType) -> Demand:
        demand = _DEMANDS.get(itype)
        if demand is None:
            demand = _DEMANDS[itype] = cls(itype.gpus, itype.milli_cpu, itype.memory_mi)
        return demand


_DEMANDS: dict[InstanceType, Demand] = {}


class Node:
    """One machine: capacity and what is in use."""

    __slots__ = ("down", "free_gpus", "free_mcpu", "free_mem", "gpus", "mcpu", "mem_mi", "name")

    def __init__(self, name: str, gpus: int, mcpu: int, mem_mi: int) -> None:
        self.name = name
        self.gpus, self.mcpu, self.mem_mi = gpus, mcpu, mem_mi
        self.free_gpus, self.free_mcpu, self.free_mem = gpus, mcpu, mem_mi
        self.down = False  # failed: all of its capacity is unavailable until repaired

    def fits(self, d: Demand) -> int:
        """How many workers of ``d`` fit on this node now."""
        n = self.free_mcpu // d.mcpu if d.mcpu else 1 << 30
        if d.gpus:
            n = min(n, self.free_gpus // d.gpus)
        if d.mem_mi:
            n = min(n, self.free_mem // d.mem_mi)
        return n

    def holds(self, d: Demand, n_workers: int) -> bool:
        """Whether ``n_workers`` of ``d`` fit on this node now (``fits(d) >= n_workers``,
        without its divisions: best fit asks it of most placements)."""
        gpus, mcpu, mem_mi = d
        return (
            self.free_gpus >= gpus * n_workers
            and (not mcpu or self.free_mcpu >= mcpu * n_workers)
            and (not mem_mi or self.free_mem >= mem_mi * n_workers)
        )

    def capacity_for(self, d: Demand) -> int:
        """How many workers of ``d`` fit on this node when it is empty."""
        counts = [self.mcpu // d.mcpu if d.mcpu else 1 << 30]
        if d.gpus:
            counts.append(self.gpus // d.gpus)
        if d.mem_mi:
            counts.append(self.mem_mi // d.mem_mi)
        return min(counts)

    def report(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "gpus": {"total": self.gpus, "used": self.gpus - self.free_gpus},
            "cpus": {"total": self.mcpu / 1000, "used": (self.mcpu - self.free_mcpu) / 1000},
            "memory_gi": {
                "total": self.mem_mi / 1024,
                "used": (self.mem_mi - self.free_mem) / 1024,
            },
            "down": self.down,
        }


class Pool:
    """A set of nodes serving some kinds of requests (jobs, notebooks) of some regions."""

    def __init__(self, spec: dict[str, Any], placement: str = "best_fit") -> None:
        self.name: str = spec["name"]
        self.serves = frozenset(spec.get("serves", ["job"]))
        self.resource: str = spec.get("resource", "gpu")
        self.regions = frozenset(spec.get("regions") or [])
        self.gpu_models = frozenset(spec.get("gpu_models") or [])
        nodes: list[Node] = []
        for group in spec["nodes"]:
            for _ in range(int(group.get("count", 1))):
                nodes.append(
                    Node(
                        f"{group.get('prefix', self.name)}-{len(nodes):03d}.{self.name}",
                        int(group.get("gpus", 0)),
                        round(float(group.get("cpus", 0)) * 1000),
                        round(float(group.get("memory_gi", 0)) * 1024),
                    )
                )
        if placement == "count":
            nodes = [
                Node(
                    f"{self.name}-aggregate",
                    sum(n.gpus for n in nodes),
                    sum(n.mcpu for n in nodes),
                    sum(n.mem_mi for n in nodes),
                )
            ]
        self.nodes = nodes
        self.total_gpus = sum(n.gpus for n in nodes)
        self.free_gpus = self.total_gpus
        self._max_node_gpus = max((n.gpus for n in nodes), default=0)
        self._max_workers: dict[Demand, int] = {}
        # nodes by free GPUs: one bit mask of node indices per count (bit i: node i)
        self._by_free = [0] * (self._max_node_gpus + 1)
        for i, n in enumerate(nodes):
            self._by_free[n.free_gpus] |= 1 << i
        self.index = {n.name: i for i, n in enumerate(nodes)}
        self.dedicated: dict[int, Any] = {}  # node index -> the queue it was added to
        self._shared: frozenset[int] | None = None  # nodes of no queue, while some are dedicated

    def dedicate(self, i: int, owner: Any) -> None:
        """Node ``i`` now runs only ``owner``'s work (a queue it was added to)."""
        self.dedicated[i] = owner
        self._shared = frozenset(range(len(self.nodes))) - self.dedicated.keys()

    def allowed(self, owner: Any) -> frozenset[int] | None:
        """Nodes the work of ``owner`` may use: its dedicated nodes if it has any, else the
        nodes dedicated to no one (None: every node)."""
        if not self.dedicated:
            return None
        own = frozenset(i for i, o in self.dedicated.items() if o is owner)
        return own or self._shared

    def fits_ever_on(self, n_workers: int, d: Demand, allowed: frozenset[int] | None) -> bool:
        """Whether ``n_workers`` of ``d`` fit on the empty ``allowed`` nodes (None: all)."""
        if allowed is None:
            return self.can_ever_fit(n_workers, d)
        return sum(self.nodes[i].capacity_for(d) for i in allowed) >= n_workers

    def matches(self, kind: str, region: str, itype: InstanceType) -> bool:
        if kind not in self.serves:
            return False
        if (itype.gpus > 0) != (self.resource == "gpu"):
            return False
        if self.regions and region not in self.regions:
            return False
        return not (self.gpu_models and itype.gpu_model not in self.gpu_models)

    def can_ever_fit(self, n_workers: int, d: Demand) -> bool:
        """Whether ``n_workers`` of ``d`` fit on the empty pool (else: reject, never queue)."""
        most = self._max_workers.get(d)
        if most is None:
            most = self._max_workers[d] = sum(node.capacity_for(d) for node in self.nodes)
        return most >= n_workers

    def _candidates(self, d: Demand) -> Iterator[int]:
        """Node indices in best-fit order, lazily: fewest free GPUs first (CPU pools: fewest
        free CPUs first), lowest index first among equals."""
        if d.gpus:
            for free in range(d.gpus, self._max_node_gpus + 1):
                mask = self._by_free[free]
                while mask:
                    low = mask & -mask
                    yield low.bit_length() - 1
                    mask ^= low
        else:
            yield from sorted(range(len(self.nodes)), key=lambda i: (self.nodes[i].free_mcpu, i))

    def place(
        self, n_workers: int, d: Demand, allowed: frozenset[int] | None = None
    ) -> Placement | None:
        """Place all ``n_workers`` at once (gang) or nothing, on the ``allowed`` nodes (None:
        any); returns where they went."""
        gpus = d.gpus
        if gpus * n_workers > self.free_gpus:
            return None
        if gpus and allowed is None:  # most often the first candidate takes every worker
            by_free = self._by_free  # the first node _candidates gives, inline (hot path)
            for free in range(gpus, self._max_node_gpus + 1):
                mask = by_free[free]
                if mask:
                    i = (mask & -mask).bit_length() - 1
                    break
            else:
                return None
            if self.nodes[i].holds(d, n_workers):
                self._adjust(i, d, -n_workers)
                return [(i, n_workers)]
        plan: Placement = []
        left = n_workers
        for i in self._candidates(d):
            if allowed is not None and i not in allowed:
                continue
            k = self.nodes[i].fits(d)
            if k:
                take = min(k, left)
                plan.append((i, take))
                left -= take
                if not left:
                    break
        if left:
            return None
        for i, k in plan:
            self._adjust(i, d, -k)
        return plan

    def release(self, plan: Placement, d: Demand) -> None:
        for i, k in plan:
            self._adjust(i, d, k)

    def hold(self, plan: Placement, d: Demand) -> None:
        """Take exactly ``plan`` again (undoing a :meth:`release` while trying placements)."""
        for i, k in plan:
            self._adjust(i, d, -k)

    def take_down(self, i: int) -> None:
        """Node ``i`` failed: its capacity (all free, its holders evicted first) is unavailable."""
        node = self.nodes[i]
        assert node.free_gpus == node.gpus and not node.down, "evict a node's holders first"
        node.down = True
        self._adjust(i, Demand(node.gpus, node.mcpu, node.mem_mi), -1)

    def bring_up(self, i: int) -> None:
        """Node ``i`` is repaired: its capacity is free again."""
        node = self.nodes[i]
        node.down = False
        self._adjust(i, Demand(node.gpus, node.mcpu, node.mem_mi), 1)

    def _adjust(self, i: int, d: Demand, k: int) -> None:
        node = self.nodes[i]
        gpus, mcpu, mem_mi = d
        if gpus:
            by_free, bit = self._by_free, 1 << i
            by_free[node.free_gpus] ^= bit
            node.free_gpus += gpus * k
            by_free[node.free_gpus] |= bit
            self.free_gpus += gpus * k
        node.free_mcpu += mcpu * k
        node.free_mem += mem_mi * k

    def report(self) -> dict[str, Any]:
        nodes = [n.report() for n in self.nodes]
        return {
            "name": self.name,
            "serves": sorted(self.serves),
            "resource": self.resource,
            "regions": sorted(self.regions),
            "gpus": {"total": self.total_gpus, "used": self.total_gpus - self.free_gpus},
            "down_nodes": sum(n["down"] for n in nodes),
            "cpus": {
                "total": sum(n["cpus"]["total"] for n in nodes),
                "used": sum(n["cpus"]["used"] for n in nodes),
            },
            "nodes": nodes,
        }


def build_pools(specs: list[dict[str, Any]], placement: str) -> list[Pool]:
    return [Pool(spec, placement) for spec in specs]
