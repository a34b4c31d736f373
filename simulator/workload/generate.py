"""Synthetic workloads: Poisson arrivals with a daily and weekly rhythm, seeded end to end.

Arrivals form a non-homogeneous Poisson process whose rate is constant within each hour: the
count in hour ``h`` of day ``d`` is Poisson with mean ``per_day x weekly[d] / mean(weekly) x
daily[h] / sum(daily)``, and the arrivals inside the hour are uniform. So ``jobs_per_day`` is the
mean over a whole week, busier on working days and working hours. Jobs and Jupyter sessions draw
from separate streams: changing one mix never moves the other's records. Names (workspaces,
authors, job descriptions) come from Faker seeded by ``people_seed`` alone, so workloads drawn
with different seeds belong to the same team and their per-workspace costs compare.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np
from faker import Faker

from simulator.workload.model import (
    DEFAULT_SCRIPT,
    FAILURE,
    JOB,
    NOTEBOOK,
    SUCCESS,
    WorkloadError,
    WorkloadItem,
)

# Relative arrival rate per hour of the day (00-23), peaking in working hours.
OFFICE_HOURS = (
    *(0.2, 0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 1.2, 2.0, 2.4, 2.4),  # 00-11
    *(2.0, 2.2, 2.4, 2.4, 2.2, 1.8, 1.2, 0.8, 0.6, 0.5, 0.4, 0.3),  # 12-23
)
WORKING_WEEK = (1.0, 1.0, 1.0, 1.0, 0.9, 0.3, 0.2)  # Monday .. Sunday
DESCRIPTIONS = 64  # job descriptions drawn once per workload, then reused


@dataclass
class GeneratorSpec:
    """Everything that shapes a synthetic workload; same spec and seed, same records."""

    seed: int = 0
    people_seed: int = 0  # workspaces, authors, descriptions: the same team whatever ``seed``
    days: float = 30.0
    jobs_per_day: float = 200.0
    notebooks_per_day: float = 3.0
    workspaces: int = 3
    authors_per_workspace: int = 4
    region: str = "A100-MT"
    instance_types: dict[str, float] = field(
        default_factory=lambda: {
            "a100.1gpu": 0.5,
            "a100.2gpu": 0.2,
            "a100.4gpu": 0.15,
            "a100.8gpu": 0.15,
        }
    )
    workers: dict[int, float] = field(default_factory=lambda: {1: 0.8, 2: 0.12, 4: 0.06, 8: 0.02})
    priorities: dict[str, float] = field(
        default_factory=lambda: {"medium": 0.8, "high": 0.1, "low": 0.1}
    )
    runtime_median_s: float = 1800.0
    runtime_sigma: float = 1.0
    failure_p: float = 0.05
    notebook_types: dict[str, float] = field(
        default_factory=lambda: {"a100.1gpu": 0.5, "a100.2gpu": 0.3, "a100.4gpu": 0.2}
    )
    active_median_s: float = 2 * 3600.0
    active_sigma: float = 0.6
    idle_median_s: float = 5 * 3600.0
    idle_sigma: float = 0.8
    daily: tuple[float, ...] = OFFICE_HOURS
    weekly: tuple[float, ...] = WORKING_WEEK

    def __post_init__(self) -> None:
        if len(self.daily) != 24 or len(self.weekly) != 7:
            raise WorkloadError("daily needs 24 hourly weights and weekly 7 daily weights")
        if min(self.daily) < 0 or min(self.weekly) < 0 or not sum(self.daily):
            raise WorkloadError("rhythm weights must be >= 0, not all zero")
        if self.days <= 0 or self.jobs_per_day < 0 or self.notebooks_per_day < 0:
            raise WorkloadError("days must be > 0 and rates >= 0")
        self.workers = {int(k): float(v) for k, v in self.workers.items()}
        self.daily, self.weekly = tuple(self.daily), tuple(self.weekly)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["workers"] = {str(k): v for k, v in self.workers.items()}
        out["daily"], out["weekly"] = list(self.daily), list(self.weekly)
        return out

    def hourly_means(self, per_day: float) -> np.ndarray:
        """Expected arrivals in each hour of the horizon."""
        hours = np.arange(int(self.days * 24))
        week = np.asarray(self.weekly) / np.mean(self.weekly)
        day = np.asarray(self.daily) / np.sum(self.daily)
        return per_day * week[(hours // 24) % 7] * day[hours % 24]


def _arrivals(rng: np.random.Generator, means: np.ndarray) -> np.ndarray:
    counts = rng.poisson(means)
    starts = np.repeat(np.arange(len(means), dtype=float) * 3600.0, counts)
    return np.sort(starts + rng.random(len(starts)) * 3600.0)


def _pick(rng: np.random.Generator, mix: dict[Any, float], n: int) -> list[Any]:
    keys = list(mix)
    weights = np.asarray([mix[k] for k in keys], dtype=float)
    if not len(keys) or weights.min() < 0 or not weights.sum():
        raise WorkloadError(f"a mix needs non-negative weights, not all zero: {mix}")
    return [keys[i] for i in rng.choice(len(keys), size=n, p=weights / weights.sum()).tolist()]


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(math.log(median), sigma, n)


class _People:
    """Workspaces, their authors and job descriptions, from Faker seeded by the spec."""

    def __init__(self, spec: GeneratorSpec) -> None:
        fake = Faker("en_US")
        fake.seed_instance(spec.people_seed)
        self.workspaces = [
            f"{fake.unique.word()}-{fake.unique.word()}" for _ in range(max(1, spec.workspaces))
        ]
        self.authors = [
            [fake.unique.email() for _ in range(max(1, spec.authors_per_workspace))]
            for _ in self.workspaces
        ]
        self.descriptions = [fake.catch_phrase() for _ in range(DESCRIPTIONS)]

    def draw(self, rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
        ws = rng.integers(len(self.workspaces), size=n).tolist()
        who = rng.integers(len(self.authors[0]), size=n).tolist()
        return [(self.workspaces[w], self.authors[w][a]) for w, a in zip(ws, who, strict=True)]


def generate(spec: GeneratorSpec) -> list[WorkloadItem]:
    """The workload of ``spec``: jobs and Jupyter sessions in submission order."""
    jobs, notebooks = _draw(spec)
    items = list(jobs)
    items += notebooks
    items.sort(key=lambda it: it.submit_s)
    return items


def stream_workload(spec: GeneratorSpec) -> Iterator[WorkloadItem]:
    """:func:`generate`'s records one at a time, in the same order: every draw is made now (as
    columns) but each record is built only when reached, so a replay holds the columns and the
    records still in use rather than every record (a million of them are ~380 MB)."""
    jobs, notebooks = _draw(spec)
    if not spec.notebooks_per_day:  # nothing to merge with (the merge costs ~0.5 us a record)
        return jobs
    return heapq.merge(jobs, notebooks, key=attrgetter("submit_s"))  # stable: jobs first


def _draw(spec: GeneratorSpec) -> tuple[Iterator[WorkloadItem], Iterator[WorkloadItem]]:
    """Jobs and sessions, each in submission order; the records are built lazily."""
    people = _People(spec)
    jobs = _jobs(spec, people, np.random.default_rng([spec.seed, 1]))
    return jobs, _notebooks(spec, people, np.random.default_rng([spec.seed, 2]))


def _jobs(spec: GeneratorSpec, people: _People, rng: np.random.Generator) -> Iterator[WorkloadItem]:
    times = _arrivals(rng, spec.hourly_means(spec.jobs_per_day)).tolist()
    n = len(times)
    who = people.draw(rng, n)
    types = _pick(rng, spec.instance_types, n)
    workers = _pick(rng, spec.workers, n)
    prios = _pick(rng, spec.priorities, n)
    runs = _lognormal(rng, spec.runtime_median_s, spec.runtime_sigma, n).tolist()
    failed = (rng.random(n) < spec.failure_p).tolist()
    desc = rng.integers(DESCRIPTIONS, size=n).tolist()
    outcomes = [FAILURE if f else SUCCESS for f in failed]
    names = people.descriptions
    return (  # fields by position, half the cost of keywords (a what-if builds ~10^6 of them)
        WorkloadItem(
            times[i],  # submit_s
            who[i][0],  # workspace
            who[i][1],  # author
            JOB,  # kind
            spec.region,
            types[i],  # instance_type
            workers[i],  # n_workers
            prios[i],  # priority
            runs[i],  # run_s
            0.0,  # active_s
            0.0,  # idle_s
            outcomes[i],
            None,  # kill_s
            names[desc[i]],  # name
            DEFAULT_SCRIPT,  # script
        )
        for i in range(n)
    )


def _notebooks(
    spec: GeneratorSpec, people: _People, rng: np.random.Generator
) -> Iterator[WorkloadItem]:
    times = _arrivals(rng, spec.hourly_means(spec.notebooks_per_day)).tolist()
    n = len(times)
    who = people.draw(rng, n)
    types = _pick(rng, spec.notebook_types, n)
    active = _lognormal(rng, spec.active_median_s, spec.active_sigma, n).tolist()
    idle = _lognormal(rng, spec.idle_median_s, spec.idle_sigma, n).tolist()
    return (
        WorkloadItem(
            submit_s=times[i],
            workspace=who[i][0],
            author=who[i][1],
            kind=NOTEBOOK,
            region=spec.region,
            instance_type=types[i],
            active_s=active[i],
            idle_s=idle[i],
            name=f"jupyter-{i:05d}",
        )
        for i in range(n)
    )
