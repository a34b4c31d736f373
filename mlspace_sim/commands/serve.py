"""``mlspace-sim serve``: the Public API v2 mock on a production WSGI server."""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

DEFAULT_SPEED = 20.0
HELP = "run the Public API v2 mock server"
ADMIN_TOKEN_ENV = "MLSPACE_SIM_ADMIN_TOKEN"


def _epoch(text: str) -> float:
    from mock_server.params import parse_datetime

    try:
        return (
            float(text) if text.replace(".", "", 1).isdigit() else parse_datetime(text).timestamp()
        )
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or epoch: {text!r}") from None


def _checked(kind: Callable[[str], Any], accept: Callable[[Any], bool], rule: str) -> Any:
    """An argparse type: ``kind(text)`` if ``accept`` allows it, else a usage error (exit 2)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{rule}: {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"{rule}: {text!r}")
        return value

    return parse


# refused before anything starts: a port past 65535 wraps around silently, no thread never
# answers, and a zero, infinite or NaN speed breaks the real-time clock
_port = _checked(int, lambda port: 0 <= port <= 65535, "a port is 0..65535 (0: any free port)")
_threads = _checked(int, lambda n: n >= 1, "at least 1 thread")
_speed = _checked(float, lambda v: math.isfinite(v) and v > 0, "a finite number above 0")


def add_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=_port, default=8080, help="port to bind (default 8080; 0 = any)")
    s.add_argument("--seed", type=int, default=None, help="world seed (default 0)")
    s.add_argument(
        "--start-time",
        type=_epoch,
        default=None,
        metavar="WHEN",
        help="virtual start: epoch seconds or ISO date (default: now)",
    )
    s.add_argument(
        "--clock",
        choices=("realtime", "manual"),
        default=None,
        help="realtime: virtual time = wall time x speed; manual: moves only through "
        "/_mock/clock/advance (default realtime)",
    )
    s.add_argument(
        "--speed",
        type=_speed,
        default=None,
        help=f"virtual seconds per wall second in realtime mode (default "
        f"{DEFAULT_SPEED:g}: the documented examples finish within about a "
        "minute)",
    )
    s.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="YAML overriding catalog, prices, pools, timings, auth, ...",
    )
    s.add_argument(
        "--tariff",
        choices=("per_second", "per_minute_ceil"),
        default=None,
        help="billing rounding (default per_second)",
    )
    s.add_argument("--threads", type=_threads, default=16, help="server threads (default 16)")
    s.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="keep the world in this SQLite file: every accepted command is journaled before "
        "its answer, and a restart replays it to the same world; once written, the file fixes "
        "seed, start, configuration and clock: --seed, --start-time, --config, --tariff, "
        "--clock or --speed saying otherwise are refused (default: in memory only)",
    )
    s.add_argument(
        "--admin-token",
        default=os.environ.get(ADMIN_TOKEN_ENV) or None,
        metavar="TOKEN",
        help="require this token (header x-admin-token or Authorization: Bearer) on /_mock/ "
        f"(default ${ADMIN_TOKEN_ENV}; none: open on loopback, made up and printed beyond it)",
    )
    s.add_argument(
        "--no-admin", action="store_true", help="disable the admin API (/_mock/ answers 404)"
    )
    s.add_argument(
        "--reports",
        default=None,
        metavar="DIR",
        help="let the web console (/_mock/ui) open the what-if reports in DIR and its "
        "subfolders (as written by mlspace-sim whatif --out)",
    )
    s.add_argument(
        "--quiet",
        action="store_true",
        help="no access log (by default one line per request: method, path, status, ms)",
    )
    s.add_argument("--tls-cert", metavar="PEM", help="serve https with this certificate chain")
    s.add_argument("--tls-key", metavar="PEM", help="private key of --tls-cert")
    s.add_argument(
        "--tls-self-signed",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="serve https with a new self-signed pair for localhost written to DIR (default a "
        "temporary directory); clients trust it with REQUESTS_CA_BUNDLE=DIR/cert.pem "
        "(or skip checks with MLS_SSL_VERIFY=false)",
    )


def _tls(args: argparse.Namespace) -> tuple[Any, str | None]:
    """The TLS context the flags ask for (None for plain http) and the certificate's path."""
    from mock_server.server import self_signed_pair, tls_context

    if args.tls_self_signed is not None:
        if args.tls_cert or args.tls_key:
            raise SystemExit("--tls-self-signed and --tls-cert/--tls-key exclude each other")
        where = args.tls_self_signed or tempfile.mkdtemp(prefix="mlspace-sim-tls-")
        try:
            cert, key = self_signed_pair(where, args.host)
        except ImportError:
            raise SystemExit(
                "--tls-self-signed needs the 'tls' extra: pip install 'mlspace-sim[tls]'"
            ) from None
        return tls_context(cert, key), str(cert)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise SystemExit("--tls-cert and --tls-key go together")
    if args.tls_cert:
        return tls_context(args.tls_cert, args.tls_key), args.tls_cert
    return None, None


def run(args: argparse.Namespace) -> int:
    from mock_server import persistence
    from mock_server.app import create_app
    from mock_server.security import admin_token_for
    from mock_server.server import make_server
    from scenarios import register_all
    from simulator.config import ConfigError

    flags = {
        "--seed": args.seed,
        "--start-time": args.start_time,
        "--clock": args.clock,
        "--speed": args.speed,
        "--config": args.config,
        "--tariff": args.tariff,
    }
    admin: dict[str, Any] = {"admin": False} if args.no_admin else {}
    token, made = admin_token_for(args.host, args.admin_token, admin=not args.no_admin)
    if token:
        admin["admin_token"] = token
    if args.reports:
        admin["reports_dir"] = args.reports
    try:
        app = create_app(
            config_path=args.config,
            seed=0 if args.seed is None else args.seed,
            start_epoch=args.start_time,
            clock=args.clock or "realtime",
            speed=DEFAULT_SPEED if args.speed is None else args.speed,
            tariff=args.tariff,
            settings=admin,
            state_file=args.state,
            given={flag for flag, value in flags.items() if value is not None},
        )
        world = app.extensions["mlspace_sim"].world
        example_scripts = register_all(world)
        replayed = persistence.resume(app)  # after the runtime models: replayed jobs use them
    except persistence.FlagConflict as exc:
        print(f"mlspace-sim: {exc}", file=sys.stderr)
        return 2
    except ConfigError as exc:  # a misspelt key or a bad value in --config: say which, exit 2
        print(f"mlspace-sim: {exc}", file=sys.stderr)
        return 2
    except (persistence.StateFileError, ValueError) as exc:
        raise SystemExit(f"mlspace-sim: {exc}") from None
    tls, cert = _tls(args)
    access_log = None if args.quiet else sys.stdout
    server = make_server(app, args.host, args.port, args.threads, tls=tls, access_log=access_log)
    scheme = "https" if tls else "http"
    base = f"{scheme}://{args.host}:{server.effective_port}/public/v2"
    start = datetime.fromtimestamp(world.start_epoch, tz=timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    print(f"mlspace-sim serving {base}", flush=True)
    print(
        f"clock: {world.clock.mode}, speed x{world.clock.speed:g}, virtual start {start}, "
        f"seed {world.seed}, tariff {world.config.tariff}"
    )
    if args.state:
        print(f"state file: {args.state} ({replayed} commands replayed)")
    if cert:
        print(f"TLS certificate: {cert}")
    admin_url = base.replace("/public/v2", "/_mock")
    if args.no_admin:
        print("admin API: disabled")
    else:
        print(f"admin API: {admin_url}" + (" (x-admin-token required)" if token else ""))
        print(f"web console: {admin_url}/ui" + ("?token=TOKEN" if token else ""))
    if made:
        print(f"admin token (made up: {args.host} is beyond loopback): {token}")
    print(f"run-time models of the documented examples: {', '.join(example_scripts)}")
    print("\ncredentials (any non-empty pair works in the default permissive mode):")
    print(
        "  client_id=sim-key-id client_secret=sim-key-secret "
        "x_workspace_id=11111111-1111-4111-8111-111111111111 x_api_key=sim-api-key"
    )
    print("\nmls profile (pip install cloudru-ml-cli==1.3.0 for the mls command):")
    print("~/.mls/config:")
    print(f"  [default]\n  region = SR006\n  output = json\n  endpoint_url = {base}")
    print("~/.mls/credentials:")
    print(
        "  [default]\n  key_id = sim-key-id\n  key_secret = sim-key-secret\n"
        "  x_workspace_id = 11111111-1111-4111-8111-111111111111\n  x_api_key = sim-api-key",
        flush=True,
    )
    if not args.quiet:
        print("\naccess log (--quiet turns it off):", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0
