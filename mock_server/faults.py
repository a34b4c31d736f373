"""Seeded API fault injection: 5xx, 429, added latency and dropped connections per route.

Rules come from the config file (``faults: {rules: [...]}``) or ``/_mock/faults``. Each rule
matches requests under ``/public/v2`` by method and path (a glob where ``*`` stays within one
segment and ``**`` crosses them, or a regex), relative to ``/public/v2`` without the leading
slash. Whether a rule fires on its n-th matching request is a pure function of the world seed,
the rule's name and n, so the same request sequence meets the same faults on every run. Every
matching rule counts a request; their latencies add up (at most 10 s) and the first error, 429
or drop that fires is the answer.

Phase ``before`` (default) answers before the API sees the request: nothing happens on the
platform. Phase ``after`` lets the API act first (a job is created, the journal records it) and
then replaces the answer: the client cannot tell that it succeeded, which is what makes a
retried POST create a duplicate.

A dropped connection is closed with nothing written: ``requests`` raises ``ConnectionError``
('Connection aborted.', RemoteDisconnected('Remote end closed connection without response')).
It needs waitress (``mlspace-sim serve`` and the test servers); the werkzeug test client sees
the exception instead.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from waitress.channel import ClientDisconnected

from mock_server.errors import json_response
from mock_server.state import ServerState

API_PREFIX = "/public/v2"
KINDS = ("error", "rate_limit", "latency", "drop")
PHASES = ("before", "after")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_LATENCY_S = 10.0  # wall seconds one request can be held back, all rules together
RATE_LIMIT_MESSAGE = "Rate limit exceeded: 1000 per 1 minute"
JOBS_MESSAGE = "Oops, something went wrong"
BACKEND_MESSAGE = "Oops. Backend error."
COUNTERS_AREA = "faults"  # an area store, so /_mock/reset starts every rule's count again
log = logging.getLogger("mlspace_sim.faults")


class RuleError(ValueError):
    """A rule that cannot be used; ``loc`` points at the offending key."""

    def __init__(self, loc: list[Any], msg: str, value: Any = None) -> None:
        super().__init__(f"{'.'.join(map(str, loc))}: {msg}")
        self.loc = loc
        self.msg = msg
        self.value = value


def glob_regex(pattern: str) -> re.Pattern[str]:
    """``*`` within a path segment, ``**`` across segments, ``?`` one character."""
    parts = re.split(r"(\*\*|\*|\?)", pattern.strip("/"))
    wild = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wild.get(p) or re.escape(p) for p in parts))


@dataclass(frozen=True)
class FaultRule:
    """One validated rule; :meth:`public` gives it back in the form it is configured in."""

    name: str
    fault: str
    method: tuple[str, ...] = ("*",)
    path: str | None = None
    path_regex: str | None = None
    probability: float = 1.0
    skip: int = 0
    times: int | None = None
    phase: str = "before"
    status: int | None = None
    message: str | None = None
    body: Any = None
    latency_s: float | tuple[float, float] | None = None
    _rx: re.Pattern[str] = field(default=re.compile(".*"), repr=False, compare=False)

    def matches(self, method: str, rel_path: str) -> bool:
        if "*" not in self.method and method not in self.method:
            return False
        return self._rx.fullmatch(rel_path.strip("/")) is not None

    def public(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if v is not None and not k.startswith("_")}
        out["method"] = list(self.method)
        if isinstance(self.latency_s, tuple):
            out["latency_s"] = list(self.latency_s)
        return out


def _number(loc: list[Any], value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RuleError(loc, "Input should be a valid number", value)
    if not lo <= value <= hi:
        raise RuleError(loc, f"Input should be between {lo:g} and {hi:g}", value)
    return float(value)


def _integer(loc: list[Any], value: Any, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError(loc, "Input should be a valid integer", value)
    if value < lo or (hi is not None and value > hi):
        bounds = f"between {lo} and {hi}" if hi is not None else f"greater than or equal to {lo}"
        raise RuleError(loc, f"Input should be {bounds}", value)
    return value


def _text(loc: list[Any], value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise RuleError(loc, "Input should be a non-empty string", value)
    return value


def _choice(loc: list[Any], value: Any, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise RuleError(loc, f"Input should be one of {', '.join(choices)}", value)
    return value


def _methods(loc: list[Any], value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise RuleError(loc, "Input should name at least one method", value)
    return tuple(
        _choice([*loc, i], str(m).upper() if isinstance(m, str) else m, ("*", *METHODS))
        for i, m in enumerate(items)
    )


def _latency(loc: list[Any], value: Any) -> float | tuple[float, float]:
    if isinstance(value, list):
        if len(value) != 2:
            raise RuleError(loc, "Input should be a number or a [min, max] pair", value)
        lo, hi = (_number([*loc, i], v, 0.0, MAX_LATENCY_S) for i, v in enumerate(value))
        if lo > hi:
            raise RuleError(loc, "min should not exceed max", value)
        return (lo, hi)
    return _number(loc, value, 0.0, MAX_LATENCY_S)


def parse_rule(raw: Any, loc: list[Any]) -> FaultRule:
    """A validated rule; raises :class:`RuleError` naming the first bad key."""
    if not isinstance(raw, dict):
        raise RuleError(loc, "Input should be a valid dictionary", raw)
    known = {f for f in FaultRule.__dataclass_fields__ if not f.startswith("_")}
    for key in raw:
        if key not in known:
            raise RuleError([*loc, key], "Extra inputs are not permitted", raw[key])

    def at(key: str) -> list[Any]:
        return [*loc, key]

    kind = _choice(at("fault"), raw.get("fault"), KINDS)
    methods = _methods(at("method"), raw.get("method", "*"))
    if "path" in raw and "path_regex" in raw:
        raise RuleError(at("path_regex"), "Give path or path_regex, not both", raw["path_regex"])
    if "path_regex" in raw:
        pattern = _text(at("path_regex"), raw["path_regex"])
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            raise RuleError(at("path_regex"), f"Invalid regex: {exc}", pattern) from None
    else:
        pattern = _text(at("path"), raw.get("path", "**"))
        rx = glob_regex(pattern)
    # the name seeds the rule's draws: by default it depends on what the rule is, not where
    # it stands in the list, so adding or removing other rules leaves its faults unchanged
    default = f"{kind} {','.join(methods)} {pattern}"
    name = _text(at("name"), raw["name"]) if "name" in raw else default
    status = raw.get("status")
    if kind == "error":
        status = _integer(at("status"), raw.get("status", 500), 500, 599)
    elif status is not None:
        raise RuleError(at("status"), "Only an error fault has a status", status)
    latency = raw.get("latency_s")
    if kind == "latency":
        latency = _latency(at("latency_s"), latency)
    elif latency is not None:
        raise RuleError(at("latency_s"), "Only a latency fault has latency_s", latency)
    for key in ("message", "body"):
        if raw.get(key) is not None and kind not in ("error", "rate_limit"):
            raise RuleError(at(key), "Only error and rate_limit faults have a body", raw[key])
    return FaultRule(
        name=name,
        fault=kind,
        method=methods,
        path=None if "path_regex" in raw else pattern,
        path_regex=raw.get("path_regex"),
        probability=_number(at("probability"), raw.get("probability", 1.0), 0.0, 1.0),
        skip=_integer(at("skip"), raw.get("skip", 0), 0),
        times=_integer(at("times"), raw["times"], 1) if raw.get("times") is not None else None,
        phase=_choice(at("phase"), raw.get("phase", "before"), PHASES),
        status=status,
        message=_text(at("message"), raw["message"]) if raw.get("message") is not None else None,
        body=raw.get("body"),
        latency_s=latency,
        _rx=rx,
    )


def parse_rules(raw: Any, loc: list[Any]) -> list[FaultRule]:
    """A list of rules with distinct names (a rule's name seeds its stream of draws)."""
    if not isinstance(raw, list):
        raise RuleError(loc, "Input should be a valid list", raw)
    rules = [parse_rule(r, [*loc, i]) for i, r in enumerate(raw)]
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.name in seen:
            raise RuleError([*loc, i, "name"], "Rule names should be unique: name it", rule.name)
        seen.add(rule.name)
    return rules


def draw(seed: int, name: str, n: int, salt: str = "fire") -> float:
    """A uniform number in [0, 1) fixed by (world seed, rule name, n-th matching request)."""
    digest = hashlib.blake2b(f"{seed}\x00{name}\x00{n}\x00{salt}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") / 2**64


@dataclass
class Decision:
    """What the rules decided for one request: a delay per phase and at most one answer."""

    delay: dict[str, float] = field(default_factory=lambda: {"before": 0.0, "after": 0.0})
    rule: FaultRule | None = None  # the first error, rate_limit or drop rule that fired


class FaultPlan:
    """The active rules and their per-rule counts (matched, fired), safe across threads."""

    def __init__(self, st: ServerState, rules: list[FaultRule]) -> None:
        self._st = st
        self._lock = threading.Lock()
        self.rules = rules

    def _counts(self) -> dict[str, list[int]]:
        return self._st.area(COUNTERS_AREA, dict)

    def replace(self, rules: list[FaultRule]) -> None:
        with self._lock:
            self.rules = rules
            self._counts().clear()

    def add(self, rules: list[FaultRule]) -> None:
        with self._lock:
            names = {r.name for r in self.rules}
            clash = next((r.name for r in rules if r.name in names), None)
            if clash is not None:
                raise RuleError(["body", "rules"], "Rule names should be unique: name it", clash)
            self.rules = [*self.rules, *rules]

    def describe(self) -> dict[str, Any]:
        with self._lock:
            counts = self._counts()
            rules = []
            for rule in self.rules:
                matched, fired = counts.get(rule.name, (0, 0))
                rules.append({**rule.public(), "matched": matched, "fired": fired})
        return {"seed": self._st.world.seed, "rules": rules}

    def decide(self, method: str, rel_path: str) -> Decision:
        """Count the request against every matching rule and draw whether each fires."""
        decision = Decision()
        seed = self._st.world.seed
        with self._lock:
            counts = self._counts()
            for rule in self.rules:
                if not rule.matches(method, rel_path):
                    continue
                c = counts.setdefault(rule.name, [0, 0])
                c[0] += 1
                if c[0] <= rule.skip or (rule.times is not None and c[1] >= rule.times):
                    continue
                if draw(seed, rule.name, c[0]) >= rule.probability:
                    continue
                if rule.fault == "latency":
                    c[1] += 1
                    decision.delay[rule.phase] += _latency_of(rule, seed, c[0])
                elif decision.rule is None:
                    c[1] += 1
                    decision.rule = rule
        return decision


def _latency_of(rule: FaultRule, seed: int, n: int) -> float:
    if isinstance(rule.latency_s, tuple):
        lo, hi = rule.latency_s
        return lo + (hi - lo) * draw(seed, rule.name, n, "latency")
    return float(rule.latency_s or 0.0)


def error_body(rule: FaultRule, rel_path: str) -> tuple[int, Any]:
    """The platform's body for an injected 5xx or 429 on ``rel_path`` (per the spec's areas)."""
    if rule.body is not None:
        return rule.status or 429, rule.body
    if rule.fault == "rate_limit":
        return 429, {"error_code": 429, "error_message": rule.message or RATE_LIMIT_MESSAGE}
    status = rule.status or 500
    path = rel_path.strip("/")
    if path.startswith(("notebooks/", "tensorboards/")):
        return status, {"error_code": 1, "error_message": rule.message or BACKEND_MESSAGE}
    if path.startswith("nodes/") or re.fullmatch(r"instance_types/[^/]+/available", path):
        return status, {"detail": rule.message or BACKEND_MESSAGE}
    return status, {"error_code": status, "error_message": rule.message or JOBS_MESSAGE}


StartResponse = Callable[..., Any]


def _run_to_end(app: Any, environ: dict[str, Any]) -> tuple[str, list[Any], bytes]:
    """Call the app and read its whole answer (the API acts; the client sees none of it yet)."""
    head: list[Any] = []
    chunks: list[bytes] = []

    def start(status: str, headers: list[Any], exc_info: Any = None) -> Callable[[bytes], None]:
        head[:] = [status, headers]
        return chunks.append

    body = app(environ, start)
    try:
        chunks.extend(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return head[0], head[1], b"".join(chunks)


class FaultMiddleware:
    """WSGI middleware applying the plan to requests under ``/public/v2``."""

    def __init__(self, app: Any, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        path = environ.get("PATH_INFO", "")
        if not self.plan.rules or not path.startswith(API_PREFIX + "/"):
            return self.app(environ, start_response)
        rel = path[len(API_PREFIX) :]
        method = environ.get("REQUEST_METHOD", "GET")
        decision = self.plan.decide(method, rel)
        rule = decision.rule
        before = min(decision.delay["before"], MAX_LATENCY_S)
        after = min(decision.delay["after"], MAX_LATENCY_S - before)
        time.sleep(before)
        if rule is not None and rule.phase == "before":
            return self._answer(rule, method, rel, environ, start_response)
        if rule is None and not after:
            return self.app(environ, start_response)
        status, headers, body = _run_to_end(self.app, environ)
        time.sleep(after)
        if rule is not None:
            return self._answer(rule, method, rel, environ, start_response)
        start_response(status, headers)
        return [body]

    @staticmethod
    def _answer(
        rule: FaultRule,
        method: str,
        rel: str,
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> Any:
        log.info("fault %s (%s, %s) on %s %s", rule.name, rule.fault, rule.phase, method, rel)
        if rule.fault == "drop":
            raise ClientDisconnected(f"fault {rule.name}: connection dropped")
        status, body = error_body(rule, rel)
        response = json_response(body, status)
        response.headers["x-request-id"] = uuid.uuid4().hex
        return response(environ, start_response)


EXTENSION = "mlspace_sim.faults"


def plan_of(app: Any) -> FaultPlan:
    return app.extensions[EXTENSION]


def middleware(app: Any, section: Any) -> FaultMiddleware:
    """The WSGI middleware that injects the configured (and later admin-set) faults."""
    section = section or {}
    if not isinstance(section, dict):
        raise ValueError("faults: expected a mapping with a 'rules' list")
    try:
        rules = parse_rules(section.get("rules", []), ["faults", "rules"])
    except RuleError as exc:
        raise ValueError(str(exc)) from None
    plan = FaultPlan(app.extensions["mlspace_sim"], rules)
    app.extensions[EXTENSION] = plan
    return FaultMiddleware(app.wsgi_app, plan)
