"""What each layer of the mock costs a request: submit+status pairs called straight over WSGI
(no server, no socket, no client), the app as served and with layers switched off, against
``api.py``'s bare Flask route in the same run.

Switching a layer off is a diagnostic, not a setting: the two requests still get correct
answers, but what the layer guarantees is gone (the journal and state file, commands taken one
at a time at a held clock and undone when they fail, bounded inputs, ...). The figures say how
close to the bare route the app could come without each layer, and without all of them: what
the aim "ours/bare >= 0.8 on the same server" asks of the app (see the README's performance
notes). Each variant runs in a fresh process (the switches patch modules before the app is
built), the variants alternate ``--rounds`` times and each keeps its best round.

    python benchmarks/api_layers.py [--pairs 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from api import JOB, bare_app, our_app

from mock_server.testing import Credentials


def _journal_off() -> None:
    from mock_server.journal import Journal

    Journal.record = lambda self, **_kw: None  # type: ignore[method-assign,assignment,return-value]


def _turns_off() -> None:
    from mock_server import persistence

    persistence.install = lambda app, store: None


def _bounds_off() -> None:
    from mock_server import inputs, security

    inputs.check_headers = lambda: None
    inputs.check_inputs = lambda: None
    security.guard = lambda settings: None  # type: ignore[assignment,return-value]


def _catch_up_off() -> None:
    from simulator.world import World

    World._sync = lambda self: None  # type: ignore[method-assign]


# layer -> (what it does for a request, how to switch it off)
LAYERS: dict[str, tuple[str, Callable[[], None]]] = {
    "journal": ("the journal and the state store it feeds (sha256, effect, row)", _journal_off),
    "turns": ("commands one at a time, clock held, census for undo, checkpoint", _turns_off),
    "bounds": ("header, body and input bounds; the admin guard", _bounds_off),
    "catch-up": ("the engine caught up to the clock on each World call", _catch_up_off),
}
VARIANTS = ["bare", "ours", *(f"ours - {name}" for name in LAYERS), "ours - all four"]


def switch_off(variant: str) -> None:
    """Patch out the layers ``variant`` names (before the app is built: the app reads the
    patched names when it is built or called)."""
    names = list(LAYERS) if variant == "ours - all four" else [variant.removeprefix("ours - ")]
    for name in names:
        if name in LAYERS:
            LAYERS[name][1]()


def _environ(base: dict[str, Any], method: str, path: str, body: bytes = b"") -> dict[str, Any]:
    env = dict(base, REQUEST_METHOD=method, PATH_INFO=path)
    env["wsgi.input"] = io.BytesIO(body)
    if body:
        env.update(CONTENT_TYPE="application/json", CONTENT_LENGTH=str(len(body)))
    return env


def pair_caller(app: Any, token: str, credentials: Credentials) -> Callable[[], None]:
    """One submit+status pair through ``app(environ, start_response)``, answers checked."""
    base = {
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_ACCEPT": "*/*",
        "HTTP_AUTHORIZATION": token,
        "HTTP_X_WORKSPACE_ID": credentials.workspace_id,
        "HTTP_X_API_KEY": credentials.api_key,
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    body = json.dumps(JOB).encode()
    statuses: list[str] = []

    def start_response(status: str, _headers: Any, _exc_info: Any = None) -> None:
        statuses.append(status)

    def call(env: dict[str, Any]) -> Any:
        answer = b"".join(app(env, start_response))
        status = statuses.pop()
        if not status.startswith("20"):
            where = f"{env['REQUEST_METHOD']} {env['PATH_INFO']}"
            raise RuntimeError(f"{where}: {status} {answer!r}")
        return json.loads(answer)

    def pair() -> None:
        name = call(_environ(base, "POST", "/public/v2/jobs", body))["job_name"]
        if call(_environ(base, "GET", f"/public/v2/jobs/{name}"))["job_name"] != name:
            raise RuntimeError("status answered for another job")

    return pair


def app_of(variant: str) -> tuple[Any, str]:
    """The variant's WSGI app and a token it accepts."""
    if variant == "bare":
        return bare_app(), "token"
    switch_off(variant)
    return our_app()


def measure(variant: str, pairs: int) -> float:
    """CPU milliseconds per pair of ``variant`` in this process (after 200 unmeasured pairs)."""
    app, token = app_of(variant)
    pair = pair_caller(app, token, Credentials())
    for _ in range(200):
        pair()
    t0 = time.process_time()
    for _ in range(pairs):
        pair()
    return (time.process_time() - t0) / pairs * 1e3


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=int, default=3000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # one, in a child
    args = p.parse_args()
    if args.variant:
        print(measure(args.variant, args.pairs))
        return
    best: dict[str, float] = {}
    for r in range(args.rounds):
        for variant in VARIANTS:
            command = [sys.executable, __file__, "--variant", variant, "--pairs", str(args.pairs)]
            ms = float(subprocess.run(command, check=True, capture_output=True).stdout)
            best[variant] = min(best.get(variant, ms), ms)
            print(f"\rround {r + 1}/{args.rounds}: {variant:22s}", end="", file=sys.stderr)
    print(file=sys.stderr)
    full, bare = best["ours"], best["bare"]
    print(f"app CPU per submit+status pair over WSGI, best of {args.rounds} rounds")
    print(f"  {'variant':22s} {'ms/pair':>8s} {'saved':>7s} {'bare/this':>9s}")
    for variant in VARIANTS:
        ms = best[variant]
        saved = f"{full - ms:7.3f}" if variant.startswith("ours - ") else " " * 7
        print(f"  {variant:22s} {ms:8.3f} {saved} {bare / ms:8.2f}x")
    for name, (what, _) in LAYERS.items():
        print(f"  {name}: {what}")


if __name__ == "__main__":
    main()
