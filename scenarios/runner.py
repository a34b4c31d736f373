"""Playing a scenario: its calls against a server, virtual time moved between them, every status
change recorded with its virtual timestamp, then the expectations checked.

The same code serves both modes: in-process (a fresh World with a manual clock behind a loopback
server, the scenario's config overrides applied) and ``--url`` (someone else's server; the clock is
advanced through ``/_mock/clock/advance`` when it is manual, waited for when it runs in real time).
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
import tempfile
import time
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

import client_lib
from client_lib._session import (
    ClientLibError,
    Settings,
    call,
    close_connections,
    read_text,
    use,
)
from mock_server.security import admin_headers
from mock_server.testing import DEFAULT_START_EPOCH, running_server
from simulator.config import SimConfig, load_config
from simulator.world import World

REF = re.compile(r"\$\{([a-z][a-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ")
ANY_STATUS = tuple(range(100, 600))
OTHER_TEAM = Settings().with_(
    workspace_id="22222222-2222-4222-8222-222222222222", api_key="sim-other-team-key"
)
FILLER_IMAGE = "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40"
FILLER_WORKERS = 100  # workers per filler job
JOB_STAMPS = (("created_at", "Pending"), ("running_at", "Running"))


class RunnerError(RuntimeError):
    """The scenario could not be played (server unreachable, wall timeout, a step failed)."""


@dataclass
class Subject:
    """A job, Jupyter Server, image build or inference deployment the scenario follows."""

    var: str
    kind: str
    ident: str
    events: list[tuple[float, str]] = field(default_factory=list)
    run_s: float | None = None
    log: list[str] = field(default_factory=list)
    bill: Decimal = Decimal(0)
    billed_s: int = 0

    @property
    def status(self) -> str:
        return self.events[-1][1] if self.events else ""

    def saw(self, at: float, status: str) -> None:
        if status != self.status:
            self.events.append((at, status))


@dataclass
class Report:
    """Everything a run shows: calls and their outputs, timeline, logs, bill, verdict."""

    name: str
    title: str
    source: str
    mode: str
    start_epoch: float
    transcript: list[dict[str, Any]] = field(default_factory=list)
    subjects: dict[str, Subject] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    checked: int = 0
    currency: str = "RUB"
    illustrative: bool = True
    contrast: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def bill_total(self) -> Decimal:
        return sum((s.bill for s in self.subjects.values()), Decimal(0))

    def timeline(self) -> list[dict[str, Any]]:
        rows = [
            {"at": at, "subject": s.var, "kind": s.kind, "id": s.ident, "status": status}
            for s in self.subjects.values()
            for at, status in s.events
        ]
        return sorted(rows, key=lambda r: r["at"])


class ServerClock:
    """Virtual time of the server: advanced on a manual clock, waited for on a real-time one."""

    def __init__(self, admin: str, wall_deadline: float) -> None:
        self.admin = admin
        self.deadline = wall_deadline
        self.http = requests.Session()
        self.http.headers.update(admin_headers())
        info = self._get("clock")
        self.mode, self.speed = info["mode"], float(info["speed"])

    def _get(self, what: str, **params: Any) -> Any:
        try:
            r = self.http.get(f"{self.admin}/{what}", params=params, timeout=30)
        except requests.RequestException as exc:
            raise RunnerError(f"cannot reach {self.admin}/{what}: {exc}") from None
        if r.status_code != 200:
            raise RunnerError(f"{self.admin}/{what} answered HTTP {r.status_code}")
        return r.json()

    def now(self) -> float:
        return float(self._get("clock")["now_epoch"])

    def pools(self) -> list[dict[str, Any]]:
        return self._get("pools")["pools"]

    def billing(self, workspace: str) -> dict[str, Any]:
        return self._get("billing", workspace=workspace)

    def advance(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.mode == "manual":
            self.http.post(f"{self.admin}/clock/advance", json={"seconds": seconds}, timeout=30)
            return
        target = self.now() + seconds
        while (now := self.now()) < target:
            if time.monotonic() > self.deadline:
                raise RunnerError("wall-clock timeout while waiting for virtual time to pass")
            time.sleep(min(0.25, max(0.01, (target - now) / self.speed)))


def _dig(body: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        body = body[int(part)] if isinstance(body, list) else body[part]
    return body


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 140 else text[:137] + "..."


class Runner:
    """One play of one scenario against the server ``settings`` point at."""

    def __init__(self, data: dict[str, Any], settings: Settings, *, mode: str, wall_s: float):
        self.data = data
        self.settings = settings
        self.clock = ServerClock(settings.url.rsplit("/public/", 1)[0] + "/_mock", 0.0)
        self.clock.deadline = time.monotonic() + wall_s
        self.report = Report(data["name"], data["title"], data["source"], mode, self.clock.now())
        self.vars: dict[str, Any] = {
            "workspace_id": settings.workspace_id,
            "client_id": settings.client_id,
            "client_secret": settings.client_secret,
            "api_key": settings.api_key,
        }

    # ---- values -------------------------------------------------------------------------------
    def lookup(self, path: str) -> Any:
        head, *rest = path.split(".")
        if head == "namespace" and head not in self.vars:
            self.vars[head] = self._namespace()
        value = self.vars[head]
        for part in rest:
            value = value[part] if isinstance(value, dict) else getattr(value, part)
        return value

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            whole = REF.fullmatch(value)
            if whole:
                return self.lookup(whole.group(1))
            return REF.sub(lambda m: str(self.lookup(m.group(1))), value)
        if isinstance(value, dict):
            if set(value) == {"enum"}:
                enum_name, member = value["enum"].split(".")
                return getattr(getattr(client_lib, enum_name), member)
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _namespace(self) -> str:
        body = call("GET", "workspaces/v3/").json()
        ws = self.settings.workspace_id
        return next(w["namespace"] for w in body["workspaces"] if w["id"] == ws)

    # ---- bookkeeping ----------------------------------------------------------------------------
    def fail(self, message: str) -> None:
        self.report.failures.append(message)

    def expect(self, ok: bool, message: str) -> None:
        self.report.checked += 1
        if not ok:
            self.fail(message)

    def log(self, kind: str, what: str, **extra: Any) -> dict[str, Any]:
        entry = {"at": self.clock.now(), "kind": kind, "call": what, **extra}
        self.report.transcript.append(entry)
        return entry

    def track(self, var: str, kind: str, ident: str) -> None:
        self.report.subjects[var] = Subject(var, kind, ident)
        self.refresh(self.report.subjects[var])

    def refresh(self, s: Subject) -> None:
        if s.kind == "job":
            body = call("GET", f"jobs/{s.ident}").json()
            events = [(float(body[k]), st) for k, st in JOB_STAMPS if body.get(k)]
            if body.get("completed_at"):
                events.append((float(body["completed_at"]), str(body["status"]).capitalize()))
                if body.get("running_at"):
                    s.run_s = float(body["completed_at"] - body["running_at"])
            s.events = events
        elif s.kind == "notebook":
            r = call("GET", f"notebooks/v2/notebook/{s.ident}", ok=ANY_STATUS)
            if r.status_code == 404:
                s.saw(self.clock.now(), "deleted")
            elif r.status_code == 200:
                body = r.json()
                s.saw(_epoch(body["status_updated_at"]), body["status"])
        elif s.kind == "deployment":
            s.saw(self.clock.now(), self._deployment_phase(s.ident))
        else:
            body = call("GET", f"build-image/jobs/{s.ident}").json()
            s.saw(self.clock.now(), body["status"])

    @staticmethod
    def _deployment_phase(name: str) -> str:
        """A deployment's status as its listing shows it (a deleted one is no longer listed;
        listing needs no region, which its GET does)."""
        listed = call("GET", "inference/v2/").json()["inferences"]
        found = next((d for d in listed if d["metadata"]["name"] == name), None)
        return "Deleted" if found is None else str(found["status"]["phase"])

    def refresh_all(self) -> None:
        for s in self.report.subjects.values():
            self.refresh(s)

    # ---- steps ---------------------------------------------------------------------------------
    def run(self) -> Report:
        with tempfile.TemporaryDirectory(prefix="mlspace-sim-nfs-") as nfs:
            for path, content in self.data.get("files", {}).items():
                local = Path(nfs, path.lstrip("/"))
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_text(content, encoding="utf-8")
            settings = (
                self.settings.with_(nfs_root=nfs) if self.data.get("files") else self.settings
            )
            with use(settings):
                try:
                    for i, step in enumerate(self.data["steps"]):
                        kind = next(
                            k
                            for k in ("call", "http", "advance", "wait", "sweep", "fill_pool")
                            if k in step
                        )
                        getattr(self, f"_{kind}")(i, step)
                        self.refresh_all()
                    self._finish()
                except (RunnerError, ClientLibError) as exc:
                    self.fail(str(exc))
                except requests.RequestException as exc:
                    self.fail(f"server unreachable: {exc}")
                finally:
                    close_connections()
                    self.clock.http.close()
        return self.report

    def _call(self, i: int, step: dict[str, Any]) -> None:
        target = step["call"]
        head, _, attr = target.rpartition(".")
        owner = self.vars[head] if head else client_lib
        fn = getattr(owner, attr)
        args = self.resolve(step.get("args", []))
        kwargs = self.resolve(step.get("kwargs", {}))
        shown = ", ".join(
            [*(_short(a) for a in args), *(f"{k}={_short(v)}" for k, v in kwargs.items())]
        )
        label = f"{target}({shown})" if callable(fn) else target
        buf, error, result = io.StringIO(), None, None
        with redirect_stdout(buf):
            try:
                result = fn(*args, **kwargs) if callable(fn) else fn
            except ClientLibError as exc:
                error = str(exc)
        printed = buf.getvalue().rstrip("\n")
        handles = (client_lib.Job, client_lib.ImageBuildJob, client_lib.S3CopyJob)
        returned = None if result is None or isinstance(result, handles) else str(result)
        self.log(
            "call",
            label,
            note=step.get("note", ""),
            printed=printed,
            returned=returned,
            error=error,
        )
        if "save" in step:
            self.vars[step["save"]] = result
        if error is None and attr == "submit":
            kind = "job" if isinstance(owner, client_lib.Job) else "build"
            if isinstance(owner, (client_lib.Job, client_lib.ImageBuildJob)):
                self.track(head, kind, owner.name or "")
        self._check_call(i, target, step.get("expect", {}), printed, result, error)

    def _check_call(
        self,
        i: int,
        target: str,
        want: dict[str, Any],
        printed: str,
        result: Any,
        error: str | None,
    ) -> None:
        where = f"step {i} ({target})"
        if error is not None:
            if "raises" not in want:
                raise RunnerError(f"{where} raised: {error}")
            raises = self.resolve(want["raises"])
            self.expect(raises in error, f"{where}: error {error!r} lacks {raises!r}")
            return
        self.expect("raises" not in want, f"{where}: expected an error, got none")
        text = "" if result is None else str(result)
        if "returns" in want:
            expected = self.resolve(want["returns"])
            self.expect(text == expected, f"{where}: returned {text!r}, expected {expected!r}")
        for part in self.resolve(want.get("returns_contains", [])):
            self.expect(part in text, f"{where}: return value lacks {part!r}")
        if "prints" in want:
            expected = self.resolve(want["prints"])
            self.expect(printed == expected, f"{where}: printed {printed!r}, expected {expected!r}")
        for part in self.resolve(want.get("prints_contains", [])):
            self.expect(part in printed, f"{where}: printed output lacks {part!r}")

    def _http(self, i: int, step: dict[str, Any]) -> None:
        spec = step["http"]
        method, path = spec["method"], self.resolve(spec["path"])
        query, body = self.resolve(spec.get("query")), self.resolve(spec.get("json"))
        if spec.get("auth", True):
            r = call(method, path, params=query, json=body, ok=ANY_STATUS)
        else:
            r = requests.request(
                method,
                f"{self.settings.url}/{path}",
                params=query,
                json=body,
                headers={"x-api-key": self.settings.api_key},
                timeout=30,
            )
        try:
            payload = r.json()
        except ValueError:
            payload = None
        label = f"{method} {path}" + (
            f"?{'&'.join(f'{k}={v}' for k, v in query.items())}" if query else ""
        )
        excerpt = r.text if len(r.text) <= 400 else r.text[:397] + "..."
        self.log("http", label, note=step.get("note", ""), status=r.status_code, returned=excerpt)
        where = f"step {i} ({method} {spec['path']})"
        want = step.get("expect", {})
        if "status" in want:
            self.expect(
                r.status_code == want["status"],
                f"{where}: HTTP {r.status_code}, expected {want['status']}: {excerpt}",
            )
        for dotted, expected in self.resolve(want.get("json", {})).items():
            try:
                got = _dig(payload, dotted)
            except (KeyError, IndexError, TypeError, ValueError):
                got = "<missing>"
            self.expect(got == expected, f"{where}: {dotted} is {got!r}, expected {expected!r}")
        for key in want.get("has_keys", []):
            self.expect(
                isinstance(payload, dict) and key in payload,
                f"{where}: no key {key!r} in the answer",
            )
        for part in self.resolve(want.get("text_contains", [])):
            self.expect(part in r.text, f"{where}: answer lacks {part!r}")
        for var, dotted in step.get("save", {}).items():
            try:
                self.vars[var] = _dig(payload, dotted)
            except (KeyError, IndexError, TypeError, ValueError):
                raise RunnerError(f"{where}: answer has no {dotted!r} to save as {var!r}") from None
        if "track" in step:
            self.track(
                step["track"]["var"], step["track"]["kind"], str(self.vars[step["track"]["var"]])
            )

    def _advance(self, i: int, step: dict[str, Any]) -> None:
        self.log(
            "advance", f"{step['advance']:g} s of virtual time pass", note=step.get("note", "")
        )
        self.clock.advance(float(step["advance"]))

    def _wait(self, i: int, step: dict[str, Any]) -> None:
        spec = step["wait"]
        s = self.report.subjects.get(spec["subject"])
        if s is None:
            raise RunnerError(
                f"step {i}: {spec['subject']!r} is not a tracked job, server, build or deployment"
            )
        until = {u.lower() for u in spec["until"]}
        max_s = float(spec["max_s"])
        step_s = float(spec.get("step_s", min(30.0, max_s / 10)))
        start = self.clock.now()
        for _ in range(math.ceil(max_s / step_s) + 2):
            self.refresh(s)
            elapsed = self.clock.now() - start
            if self._reached(s, until) or elapsed >= max_s:
                break
            self.clock.advance(min(step_s, max_s - elapsed))
        reached = self._reached(s, until)
        self.log(
            "wait",
            f"wait for {spec['subject']} to be {' or '.join(spec['until'])}",
            note=step.get("note", ""),
            returned=self._waited(s, until, start),
        )
        self.expect(
            reached,
            f"step {i}: {spec['subject']} is {s.status}, not {'/'.join(spec['until'])} "
            f"after {max_s:g} s",
        )

    @staticmethod
    def _reached(s: Subject, until: set[str]) -> bool:
        """Whether the subject has been in one of ``until`` (a short run may be over already)."""
        return any(status.lower() in until for _, status in s.events)

    def _waited(self, s: Subject, until: set[str], start: float) -> str:
        """The awaited status and when it came (not a later one the polling step ran into: a
        short job is Running and Completed within one step), else where the subject is now."""
        reached = [(at, status) for at, status in s.events if status.lower() in until]
        if not reached:
            return f"{s.status} after {self.clock.now() - start:.0f} s"
        when, status = reached[0]
        return f"{status} after {when - start:.0f} s" if when > start else f"{status} already"

    def _sweep(self, i: int, step: dict[str, Any]) -> None:
        """Submit ``count`` jobs one after another as a user's sweep script does: a refusal
        whose text has ``retry.error_contains`` is retried every ``retry.every_s`` of virtual
        time (each refusal and retry goes into the transcript), at most ``retry.max_s`` a job."""
        spec = step["sweep"]
        retry = spec["retry"]
        kwargs = self.resolve(spec["job"])
        for k in range(spec["count"]):
            var, waited = f"{spec['save']}_{k}", 0.0
            while True:
                handle = client_lib.Job(**kwargs)
                try:
                    with redirect_stdout(io.StringIO()):
                        returned = handle.submit()
                except ClientLibError as exc:
                    if retry["error_contains"] not in str(exc) or waited >= retry["max_s"]:
                        raise RunnerError(f"step {i}: {var} refused: {exc}") from None
                    self.log("refused", f"{var}: Job.submit()", error=str(exc))
                    self.clock.advance(retry["every_s"])
                    waited += retry["every_s"]
                    self.log("retry", f"{var}: retry after {retry['every_s']:g} s")
                    continue
                self.log("call", f"{var}: Job.submit()", returned=str(returned))
                self.vars[var] = handle
                self.track(var, "job", handle.name or "")
                break

    def _fill_pool(self, i: int, step: dict[str, Any]) -> None:
        """Another workspace takes every free GPU of the pool that would serve the region."""
        spec = step["fill_pool"]
        configs = call("GET", "configs", params={"cluster_type": "MT"}).json()
        region = next((r for r in configs["regions"] if r["key"] == spec["region"]), None)
        itype = next(
            (
                t
                for t in (region or {}).get("instances_types", [])
                if t["key"] == spec["instance_type"]
            ),
            None,
        )
        if itype is None:
            raise RunnerError(f"step {i}: no {spec['instance_type']} in region {spec['region']}")
        per_worker = int(float(itype["resource"]["limits"]["nvidia.com/gpu"]))
        pool = next(
            p
            for p in self.clock.pools()
            if "job" in p["serves"]
            and p["resource"] == "gpu"
            and (not p["regions"] or spec["region"] in p["regions"])
        )
        free = pool["gpus"]["total"] - pool["gpus"]["used"]
        workers = free // max(1, per_worker)
        jobs = 0
        with use(OTHER_TEAM.with_(url=self.settings.url)):
            while workers > 0:
                n = min(workers, FILLER_WORKERS)
                client_lib.Job(
                    base_image=FILLER_IMAGE,
                    script="/home/jovyan/other-team/busy.py",
                    instance_type=spec["instance_type"],
                    region=spec["region"],
                    n_workers=n,
                    type="pytorch2",
                    env_variables={"MLSPACE_SIM_RUNTIME_S": spec["runtime_s"]},
                ).submit()
                workers -= n
                jobs += 1
        total, default = pool["gpus"]["total"], default_pool_gpus().get(pool["name"])
        changed = default not in (None, total)
        size = f"{total} GPUs" + (f"; the default is {default}" if changed else "")
        self.log(
            "fill_pool",
            f"another workspace fills pool {pool['name']!r} ({size}): {jobs} job(s) hold "
            f"{free} GPUs for {spec['runtime_s']:g} s",
            note=step.get("note", ""),
        )

    # ---- the end ----------------------------------------------------------------------------
    def _finish(self) -> None:
        self.refresh_all()
        for s in self.report.subjects.values():
            if s.kind == "job":
                r = call("GET", f"jobs/{s.ident}/logs", params={"verbose": "true"}, stream=True)
                s.log = read_text(r).splitlines()
        bill = self.clock.billing(self.settings.workspace_id)
        self.report.currency = bill["currency"]
        self.report.illustrative = bill["illustrative_prices"]
        for s in self.report.subjects.values():
            lines = [ln for ln in bill["lines"] if ln["item"] == s.ident]
            s.bill = sum((Decimal(ln["cost"]) for ln in lines), Decimal(0))
            s.billed_s = sum(int(ln["seconds"]) for ln in lines)
        for item in self.data.get("contrast", []):
            s = self.report.subjects[item["subject"]]
            self.report.contrast.append(
                {"subject": s.var, "label": item["label"], "bill": s.bill, "seconds": s.billed_s}
            )
        self._check_subjects()

    def _check_subjects(self) -> None:
        want_all = self.data["expect"]
        for var, want in want_all["subjects"].items():
            s = self.report.subjects.get(var)
            if s is None:
                self.expect(False, f"{var}: was never submitted or tracked")
                continue
            seen = [status for _, status in s.events]
            if "statuses" in want:
                self.expect(
                    seen == want["statuses"], f"{var}: statuses {seen}, expected {want['statuses']}"
                )
            text = "\n".join(s.log)
            for marker in self.resolve(want.get("log_markers", [])):
                self.expect(marker in text, f"{var}: log lacks {marker!r}")
            if "log_span_s" in want:
                span = log_span(s.log)
                self._in_range(f"{var}: log span", span, want["log_span_s"], "s")
            if "run_s" in want:
                self._in_range(f"{var}: run time", s.run_s, want["run_s"], "s")
            if "bill" in want:
                self._in_range(f"{var}: bill", float(s.bill), want["bill"], self.report.currency)
        if "total_bill" in want_all:
            self._in_range(
                "total bill",
                float(self.report.bill_total),
                want_all["total_bill"],
                self.report.currency,
            )

    def _in_range(self, what: str, value: float | None, bounds: list[float], unit: str) -> None:
        lo, hi = bounds
        shown = "none" if value is None else f"{value:.2f} {unit}"
        self.expect(
            value is not None and lo <= value <= hi,
            f"{what} {shown}, expected {lo:g}..{hi:g} {unit}",
        )


def log_span(lines: list[str]) -> float | None:
    """Seconds from the first to the last timestamped log line."""
    stamps = [_epoch(m.group(1)) for ln in lines if (m := STAMP.match(ln))]
    return stamps[-1] - stamps[0] if stamps else None


def run(data: dict[str, Any], settings: Settings, *, mode: str, wall_s: float = 120.0) -> Report:
    """Play ``data`` against the server ``settings.url`` names."""
    return Runner(data, settings, mode=mode, wall_s=wall_s).run()


def _pool_gpus(pool: dict[str, Any]) -> int:
    return sum(int(n.get("count", 1)) * int(n.get("gpus", 0)) for n in pool.get("nodes", []))


def default_pool_gpus() -> dict[str, int]:
    """GPUs per pool of the packaged configuration, by pool name."""
    return {p["name"]: _pool_gpus(p) for p in _config("{}").pools}


def config_changes(overrides: dict[str, Any] | None) -> list[str]:
    """What a scenario's ``config`` changes against the packaged defaults, for the report."""
    if not overrides:
        return []
    defaults = default_pool_gpus()
    changes = [
        f"pool {p['name']!r} has {_pool_gpus(p)} GPUs (default {defaults[p['name']]})"
        for p in overrides.get("pools", [])
        if p["name"] in defaults and _pool_gpus(p) != defaults[p["name"]]
    ]
    changes += [f"{key}: {json.dumps(overrides[key])}" for key in overrides if key != "pools"]
    return [f"Changed by this scenario: {c}" for c in changes]


@functools.cache
def _config(overrides: str) -> SimConfig:
    """Packaged defaults plus a scenario's overrides, parsed once per process."""
    return load_config(None, json.loads(overrides) or None)


def run_in_process(data: dict[str, Any], *, seed: int = 0, wall_s: float = 120.0) -> Report:
    """Play ``data`` on a fresh World (manual clock, the scenario's config and start date) served
    on a loopback port, with every example's runtime model registered."""
    import scenarios

    start = _epoch(data["start"]) if "start" in data else DEFAULT_START_EPOCH
    config = _config(json.dumps(data.get("config", {}), sort_keys=True))
    world = World(config, seed=seed, start_epoch=start)
    scenarios.register_all(world, first=data)
    with running_server(world=world, settings={"log_follow_max_s": 0.0}) as srv:
        settings = Settings(url=srv.api_url, log_idle_s=1.0)
        report = run(data, settings, mode=f"in-process, seed {seed}", wall_s=wall_s)
    report.notes[:0] = config_changes(data.get("config"))
    return report


__all__ = ["Report", "RunnerError", "Subject", "log_span", "run", "run_in_process"]
