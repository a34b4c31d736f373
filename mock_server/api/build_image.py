"""Custom image builds: ``FROM <from_image>`` plus ``pip install -r requirements.txt`` by kaniko.

The engine does not model builds. Each build is a record whose whole timeline (start delay, kaniko
log lines with their offsets, outcome) is drawn once at submit from (world seed, job name); its
status and visible log are worked out from the virtual clock on every read, so a build advances
exactly like jobs do when a test moves time. Timings follow the observed kaniko runs: about 3-4
minutes unpacking the base image's root filesystem, then pip, then the push (~4 minutes in all).
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

from flask import Response, request

from mock_server.errors import ApiError, json_response, platform_error, validation_errors
from mock_server.state import state, workspace
from simulator.logs import format_ts
from simulator.randomness import stream

PENDING, RUNNING, SUCCEEDED = "PENDING", "RUNNING", "SUCCEEDED"
FAILED, CANCELLED = "FAILED", "CANCELLED"
REGISTRY = "cr.ai.cloud.ru"
BASE_IMAGES = f"{REGISTRY}/aicloud-base-images/"
RUN_PIP = (
    "RUN if [ -e /context/requirements.txt ]; then pip install --user --no-cache "
    "-r /context/requirements.txt; fi"
)
TEXT = "text/plain; charset=utf-8"
FINAL_CONDITIONS = {
    SUCCEEDED: ("Complete", ""),
    FAILED: ("Failed", "BackoffLimitExceeded"),
    CANCELLED: ("Failed", "Cancelled"),
}
POD_PHASES = {PENDING: "Pending", RUNNING: "Running", SUCCEEDED: "Succeeded", FAILED: "Failed"}
ALNUM = string.ascii_lowercase + string.digits
REQUIREMENT = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,\s-]*\])?"
    r"(\s*(===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+"
    r"(\s*,\s*(===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+)*)?\s*(;.*)?$"
)


@dataclass
class Build:
    """One build job: what was asked and its predrawn timeline (epoch seconds)."""

    name: str
    workspace: str
    from_image: str
    destination: str
    pod: str
    created_at: float
    started_at: float
    ends_at: float
    failed: bool
    lines: list[tuple[float, str]] = field(default_factory=list)  # (epoch, text)
    cancelled_at: float | None = None

    def status(self, now: float) -> str:
        if self.cancelled_at is not None:
            return CANCELLED
        if now < self.started_at:
            return PENDING
        if now < self.ends_at:
            return RUNNING
        return FAILED if self.failed else SUCCEEDED

    def finished_at(self, now: float) -> float | None:
        if self.cancelled_at is not None:
            return self.cancelled_at
        return self.ends_at if now >= self.ends_at else None

    def log(self, now: float) -> list[str]:
        until = now if self.cancelled_at is None else min(now, self.cancelled_at)
        return [text for at, text in self.lines if at <= until]


class Timeline:
    """Kaniko output in the making: each line at ``t`` seconds after the build pod started."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.t = 0.0
        self.lines: list[tuple[float, str]] = []

    def wait(self, low: float, high: float) -> None:
        self.t += self.rng.uniform(low, high)

    def info(self, text: str) -> None:
        self.lines.append((self.t, f"\x1b[36mINFO\x1b[0m[{int(self.t):04d}] {text}"))

    def error(self, text: str) -> None:
        self.lines.append((self.t, f"\x1b[31mERRO\x1b[0m[{int(self.t):04d}] {text}"))

    def raw(self, text: str) -> None:
        self.lines.append((self.t, text))


def _requirements(text: str) -> tuple[list[str], tuple[int, str] | None]:
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


def _kaniko(tl: Timeline, from_image: str, destination: str, requirements: str) -> bool:
    """Write the build's log into ``tl``; returns whether it fails."""
    rng = tl.rng
    registry = from_image.split("/", 1)[0]
    tl.wait(3, 6)
    tl.info(f"Resolved base name {from_image} to builder")
    tl.info(f"Retrieving image manifest {from_image}")
    tl.info(f"Retrieving image {from_image} from registry {registry}")
    tl.wait(1, 3)
    tl.info("Built cross stage deps: map[]")
    tl.info(f"Retrieving image manifest {from_image}")
    tl.info("Returning cached image manifest")
    tl.info("Executing 0 build triggers")
    tl.info(f"Building stage '{from_image}' [idx: '0', base-idx: '-1']")
    tl.info(f"Checking for cached layer {destination}/cache:{rng.getrandbits(256):064x}...")
    tl.wait(0.5, 1.5)
    tl.info(f"No cached layer found for cmd {RUN_PIP}")
    tl.info(f"Unpacking rootfs as cmd {RUN_PIP} requires it.")
    tl.wait(180, 225)
    tl.info("Taking snapshot of full filesystem...")
    tl.wait(5, 9)
    tl.info(RUN_PIP)
    tl.info("Cmd: /bin/sh")
    tl.info(f"Args: [-c {RUN_PIP[4:]}]")
    tl.info(f"Running: [/bin/sh -c {RUN_PIP[4:]}]")
    wanted, refused = _requirements(requirements)
    tl.wait(0.5, 1.5)
    if refused is not None:
        n, line = refused
        tl.raw(f"ERROR: Invalid requirement: '{line}' (from line {n} of /context/requirements.txt)")
        tl.error(
            "error building image: error building stage: failed to execute command: "
            "waiting for process to exit: exit status 1"
        )
        return True
    for req in wanted:
        tl.raw(f"Collecting {req}")
        tl.wait(1, 4)
    if wanted:
        names = [_installed_name(r) for r in wanted]
        tl.raw("Installing collected packages: " + ", ".join(n.split("-")[0] for n in names))
        tl.wait(2, 2 + 3 * len(wanted))
        tl.raw("Successfully installed " + " ".join(names))
    tl.info("Taking snapshot of full filesystem...")
    tl.wait(4, 8)
    tl.info(f"Pushing image to {destination}")
    tl.wait(3, 8)
    tl.info(f"Pushed {destination}@sha256:{rng.getrandbits(256):064x}")
    return False


def _store() -> dict[str, dict[str, Build]]:
    """Builds per workspace id, then per job name."""
    return state().area("build_image", dict)


def _new_name(seed: int, ws_id: str, taken: dict[str, Build]) -> str:
    rng = stream(seed, "image-build-name", ws_id, len(taken))
    while True:
        name = "image-build-job-" + "".join(rng.choices(ALNUM, k=5))
        if name not in taken:
            return name


def start_build(ws_id: str, from_image: str, requirements: str) -> Build:
    """Accept a build now; its timeline depends only on the world seed and its name."""
    st = state()
    now = st.world.now_epoch()
    with st.lock:
        builds = _store().setdefault(ws_id, {})
        name = _new_name(st.world.seed, ws_id, builds)
        rng = stream(st.world.seed, "image-build", name)
        destination = f"{REGISTRY}/{ws_id}/job-custom-image-{rng.getrandbits(24):06x}"
        pod = f"{name}-{''.join(rng.choices(ALNUM, k=5))}"
        started = now + rng.uniform(4, 12)  # pod scheduled, kaniko container started
        tl = Timeline(rng)
        failed = _kaniko(tl, from_image, destination, requirements)
        build = Build(
            name=name,
            workspace=ws_id,
            from_image=from_image,
            destination=destination,
            pod=pod,
            created_at=now,
            started_at=started,
            ends_at=started + tl.t + 0.5,
            failed=failed,
            lines=[(started + t, text) for t, text in tl.lines],
        )
        builds[name] = build
        return build


def built_images(ws_id: str) -> list[str]:
    """Images this workspace has built successfully so far (its custom images)."""
    st = state()
    now = st.world.now_epoch()
    with st.lock:
        builds = list(_store().get(ws_id, {}).values())
    return [b.destination for b in builds if b.status(now) == SUCCEEDED]


def _go_duration(seconds: float) -> str:
    """Kubernetes-style age/duration, as Go prints a duration of whole seconds (``2h2m49s``)."""
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h}h{m}m{s}s"
    return f"{m}m{s}s" if m else f"{s}s"


def _find(name: str) -> Build | None:
    st = state()
    with st.lock:
        return _store().get(workspace().id, {}).get(name)


def _not_found(name: str) -> ApiError:
    return platform_error(500, 500, f"Job={name} not found")


def _pods(build: Build, now: float) -> list[dict[str, Any]]:
    """The build's pod as ``kubectl get pods`` sees it; a cancelled build's pod is gone."""
    status = build.status(now)
    if status == CANCELLED:
        return []
    return [
        {
            "name": build.pod,
            "ready": "1/1" if status == RUNNING else "0/1",
            "status": POD_PHASES[status],
            "restarts": 0,
            "age": _go_duration(now - build.created_at),
        }
    ]


def _conditions(build: Build, now: float) -> list[dict[str, Any]]:
    """The Job's terminal condition, once it has one."""
    condition = FINAL_CONDITIONS.get(build.status(now))
    if condition is None:
        return []
    kind, reason = condition
    when = build.finished_at(now) or now
    return [
        {
            "type": kind,
            "status": "True",
            "reason": reason,
            "last_transition_time": format_ts(int(when)),
        }
    ]


def _missing(name: str) -> dict[str, Any]:
    return {"type": "missing", "loc": ["body", name], "msg": "Field required", "input": None}


def _form_errors(ws_id: str) -> list[dict[str, Any]]:
    """FastAPI-style problems of the multipart body (``requirements`` file, ``from_image``)."""
    errors: list[dict[str, Any]] = []
    if "requirements" in request.form:
        errors.append(
            {
                "type": "value_error",
                "loc": ["body", "requirements"],
                "msg": "Value error, Expected UploadFile, received: <class 'str'>",
                "input": request.form["requirements"],
                "ctx": {"error": {}},
            }
        )
    elif "requirements" not in request.files:
        errors.append(_missing("requirements"))
    image = request.form.get("from_image")
    if image is None:
        errors.append(_missing("from_image"))
    elif not image.startswith((BASE_IMAGES, f"{REGISTRY}/{ws_id}/")) or image.endswith("/"):
        errors.append(
            {
                "type": "value_error",
                "loc": ["body", "from_image"],
                "msg": f"Value error, The image='{image}' does not exist. The image must come "
                f"from {BASE_IMAGES.rstrip('/')} or from {REGISTRY}/{ws_id}.",
                "input": image,
            }
        )
    return errors


def submit() -> Any:
    ws = workspace()
    errors = _form_errors(ws.id)
    if errors:
        raise validation_errors(errors)
    requirements = request.files["requirements"].read().decode("utf-8", errors="replace")
    build = start_build(ws.id, request.form["from_image"], requirements)
    return json_response(
        {
            "job_name": build.name,
            "status": PENDING,
            "created_at": format_ts(int(build.created_at)),
            "destination": build.destination,
        }
    )


def list_builds() -> Any:
    st = state()
    now = st.world.now_epoch()
    with st.lock:
        builds = sorted(
            _store().get(workspace().id, {}).values(), key=lambda b: (b.created_at, b.name)
        )
    return json_response(
        {
            "jobs": [
                {
                    "name": b.name,
                    "completions": "1/1" if b.status(now) == SUCCEEDED else "0/1",
                    "duration": _go_duration((b.finished_at(now) or now) - b.created_at),
                    "age": _go_duration(now - b.created_at),
                }
                for b in builds
            ]
        }
    )


def status(job_name: str) -> Any:
    """Kubernetes Job status, plus the build's ``status`` (the enum POST answers with)."""
    build = _find(job_name)
    if build is None:
        raise _not_found(job_name)
    now = state().world.now_epoch()
    current = build.status(now)
    return json_response(
        {
            "job_name": build.name,
            "status": current,
            "active": int(current in (PENDING, RUNNING)),
            "succeeded": int(current == SUCCEEDED),
            "failed": int(current == FAILED),
            "conditions": _conditions(build, now),
            "pod_info": _pods(build, now),
            "scheduling_issue": "",
        }
    )


def cancel(job_name: str) -> Any:
    """Cancel a build that has not finished; a finished one keeps its outcome."""
    st = state()
    now = st.world.now_epoch()
    with st.lock:
        build = _store().get(workspace().id, {}).get(job_name)
        if build is None:
            return json_response({"success": False})
        if build.status(now) in (PENDING, RUNNING):
            build.cancelled_at = now
    return json_response({"success": True})


def pods(job_name: str) -> Any:
    build = _find(job_name)
    now = state().world.now_epoch()
    return json_response({"pods": [] if build is None else _pods(build, now)})


def logs(job_name: str) -> Any:
    """Kaniko output so far; before the pod starts, the platform's "not ready yet" text."""
    build = _find(job_name)
    if build is None:
        raise _not_found(job_name)
    now = state().world.now_epoch()
    if build.status(now) == PENDING:
        return Response(
            f'"Job={build.name} is not ready yet, try again in 10 seconds"', content_type=TEXT
        )
    return Response("".join(line + "\n" for line in build.log(now)), content_type=TEXT)
