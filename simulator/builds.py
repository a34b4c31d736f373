"""Custom image builds: ``FROM <from_image>`` plus ``pip install -r requirements.txt`` by kaniko.

Each build is a SimPy process on the engine's environment: it waits for its pod, then plays the
kaniko script step by step, so its status and log move only when virtual time does (``advance``,
``run_until_idle``, the real-time clock) and a reset drops it with everything else. Every random
draw (names, timings, digests) comes from a stream of (world seed, build name), so the same
commands at the same instants give the same builds. Timings follow the observed kaniko runs:
about 3-4 minutes unpacking the base image's root filesystem, then pip, then the push.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import simpy

from simulator.randomness import stream

PENDING, RUNNING, SUCCEEDED = "PENDING", "RUNNING", "SUCCEEDED"
FAILED, CANCELLED = "FAILED", "CANCELLED"
ACTIVE = (PENDING, RUNNING)
REGISTRY = "cr.ai.cloud.ru"
POD_START_S = (4.0, 12.0)  # pod scheduled and kaniko container started
EXIT_S = 0.5  # last log line -> the Job's terminal condition
RUN_PIP = (
    "RUN if [ -e /context/requirements.txt ]; then pip install --user --no-cache "
    "-r /context/requirements.txt; fi"
)
ALNUM = string.ascii_lowercase + string.digits
REQUIREMENT = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,\s-]*\])?"
    r"(\s*(===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+"
    r"(\s*,\s*(===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+)*)?\s*(;.*)?$"
)

Script = Generator[float | str, None, bool]  # waits (seconds) and log lines; returns "failed"


@dataclass
class Build:
    """One build job as it stands now (epoch seconds)."""

    name: str
    workspace: str
    from_image: str
    destination: str
    pod: str
    created_at: float
    status: str = PENDING
    started_at: float | None = None
    finished_at: float | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str | None:
        """The pushed image's ``sha256:`` digest, as kaniko printed it (None before the push)."""
        for line in reversed(self.lines):
            if f"Pushed {self.destination}@" in line:
                return line.rsplit("@", 1)[1]
        return None


class Kaniko:
    """Kaniko's output in the making: waits drawn from ``rng``, lines stamped with the seconds
    since the build pod started."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.t = 0.0

    def wait(self, low: float, high: float) -> float:
        step = self.rng.uniform(low, high)
        self.t += step
        return step

    def info(self, text: str) -> str:
        return f"\x1b[36mINFO\x1b[0m[{int(self.t):04d}] {text}"

    def error(self, text: str) -> str:
        return f"\x1b[31mERRO\x1b[0m[{int(self.t):04d}] {text}"


def requirements_of(text: str) -> tuple[list[str], tuple[int, str] | None]:
    """Requirement lines pip would collect, and the first line it would refuse (number, text)."""
    wanted = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-") or "://" in line:
            continue  # pip options and URL requirements: accepted, nothing to show
        if not REQUIREMENT.match(line):
            return wanted, (n, line)
        wanted.append(line)
    return wanted, None


def _installed_name(req: str) -> str:
    name = re.split(r"[\[<>=!~;\s]", req, maxsplit=1)[0]
    pinned = re.search(r"==\s*([A-Za-z0-9.+!_-]+)", req)
    return f"{name}-{pinned.group(1)}" if pinned else name


def kaniko_script(k: Kaniko, from_image: str, destination: str, requirements: str) -> Script:
    """The build pod's life: yields seconds to wait and lines to print; returns whether it
    fails (pip refuses a requirement line)."""
    registry = from_image.split("/", 1)[0]
    yield k.wait(3, 6)
    yield k.info(f"Resolved base name {from_image} to builder")
    yield k.info(f"Retrieving image manifest {from_image}")
    yield k.info(f"Retrieving image {from_image} from registry {registry}")
    yield k.wait(1, 3)
    yield k.info("Built cross stage deps: map[]")
    yield k.info(f"Retrieving image manifest {from_image}")
    yield k.info("Returning cached image manifest")
    yield k.info("Executing 0 build triggers")
    yield k.info(f"Building stage '{from_image}' [idx: '0', base-idx: '-1']")
    yield k.info(f"Checking for cached layer {destination}/cache:{k.rng.getrandbits(256):064x}...")
    yield k.wait(0.5, 1.5)
    yield k.info(f"No cached layer found for cmd {RUN_PIP}")
    yield k.info(f"Unpacking rootfs as cmd {RUN_PIP} requires it.")
    yield k.wait(180, 225)
    yield k.info("Taking snapshot of full filesystem...")
    yield k.wait(5, 9)
    yield k.info(RUN_PIP)
    yield k.info("Cmd: /bin/sh")
    yield k.info(f"Args: [-c {RUN_PIP[4:]}]")
    yield k.info(f"Running: [/bin/sh -c {RUN_PIP[4:]}]")
    wanted, refused = requirements_of(requirements)
    yield k.wait(0.5, 1.5)
    if refused is not None:
        n, line = refused
        yield f"ERROR: Invalid requirement: '{line}' (from line {n} of /context/requirements.txt)"
        yield k.error(
            "error building image: error building stage: failed to execute command: "
            "waiting for process to exit: exit status 1"
        )
        return True
    for req in wanted:
        yield f"Collecting {req}"
        yield k.wait(1, 4)
    if wanted:
        names = [_installed_name(r) for r in wanted]
        yield "Installing collected packages: " + ", ".join(n.split("-")[0] for n in names)
        yield k.wait(2, 2 + 3 * len(wanted))
        yield "Successfully installed " + " ".join(names)
    yield k.info("Taking snapshot of full filesystem...")
    yield k.wait(4, 8)
    yield k.info(f"Pushing image to {destination}")
    yield k.wait(3, 8)
    yield k.info(f"Pushed {destination}@sha256:{k.rng.getrandbits(256):064x}")
    return False


class Builds:
    """Every workspace's image builds, run on the engine's environment."""

    def __init__(
        self,
        env: simpy.Environment,
        seed: int,
        now_epoch: Callable[[], float],
        on_success: Callable[[Build], None] | None = None,
    ) -> None:
        """``on_success`` hears of each build that succeeded, at that instant (the registry
        receives its image)."""
        self.env = env
        self.seed = seed
        self.now_epoch = now_epoch
        self.on_success = on_success
        self.by_workspace: dict[str, dict[str, Build]] = {}

    def start(
        self, workspace: str, from_image: str, requirements: str, image: str | None = None
    ) -> Build:
        """Accept a build now; it runs as time passes. ``image`` names the pushed image in the
        workspace's registry (an inference image's user-defined name); by default a
        ``job-custom-image-*`` name is drawn."""
        taken = self.by_workspace.setdefault(workspace, {})
        name = self._new_name(workspace, taken)
        rng = stream(self.seed, "image-build", name)
        drawn = f"job-custom-image-{rng.getrandbits(24):06x}"
        destination = f"{REGISTRY}/{workspace}/{image or drawn}"
        pod = f"{name}-{''.join(rng.choices(ALNUM, k=5))}"
        build = Build(name, workspace, from_image, destination, pod, self.now_epoch())
        script = kaniko_script(Kaniko(rng), from_image, destination, requirements)
        self.env.process(self._run(build, rng.uniform(*POD_START_S), script))
        taken[name] = build
        return build

    def _new_name(self, workspace: str, taken: dict[str, Build]) -> str:
        rng = stream(self.seed, "image-build-name", workspace, len(taken))
        while True:
            name = "image-build-job-" + "".join(rng.choices(ALNUM, k=5))
            if name not in taken:
                return name

    def _run(self, build: Build, pod_start_s: float, script: Script) -> Generator[simpy.Event]:
        """Wait for the pod, play the script, exit; a cancel stops it at its next step."""
        yield self.env.timeout(pod_start_s)
        if build.status == CANCELLED:
            return
        build.status, build.started_at = RUNNING, self.now_epoch()
        try:
            while True:
                step = next(script)
                if isinstance(step, str):
                    build.lines.append(step)
                    continue
                yield self.env.timeout(step)
                if build.status == CANCELLED:
                    return
        except StopIteration as end:
            failed = end.value
        yield self.env.timeout(EXIT_S)
        if build.status == RUNNING:
            build.status = FAILED if failed else SUCCEEDED
            build.finished_at = self.now_epoch()
            if build.status == SUCCEEDED and self.on_success is not None:
                self.on_success(build)

    def get(self, workspace: str, name: str) -> Build | None:
        return self.by_workspace.get(workspace, {}).get(name)

    def listing(self, workspace: str) -> list[Build]:
        """The workspace's builds, oldest first."""
        builds = self.by_workspace.get(workspace, {}).values()
        return sorted(builds, key=lambda b: (b.created_at, b.name))

    def cancel(self, build: Build) -> None:
        """Stop a build that has not finished; a finished one keeps its outcome."""
        if build.status not in ACTIVE:
            return
        build.status, build.finished_at = CANCELLED, self.now_epoch()

    def images(self, workspace: str) -> list[str]:
        """Images this workspace has built successfully so far (its custom images)."""
        builds = self.by_workspace.get(workspace, {}).values()
        return [b.destination for b in builds if b.status == SUCCEEDED]
