"""``mlspace-sim serve``: the Public API v2 mock on a production WSGI server."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

DEFAULT_SPEED = 20.0
HELP = "run the Public API v2 mock server"


def _epoch(text: str) -> float:
    from mock_server.params import parse_datetime

    try:
        return (
            float(text) if text.replace(".", "", 1).isdigit() else parse_datetime(text).timestamp()
        )
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date or epoch: {text!r}") from None


def add_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="port to bind (default 8080; 0 = any)")
    s.add_argument("--seed", type=int, default=0, help="world seed (default 0)")
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
        default="realtime",
        help="realtime: virtual time = wall time x speed; manual: moves only through "
        "/_mock/clock/advance (default realtime)",
    )
    s.add_argument(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
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
    s.add_argument("--threads", type=int, default=16, help="server threads (default 16)")


def run(args: argparse.Namespace) -> int:
    from mock_server.app import create_app
    from mock_server.server import make_server
    from scenarios import register_all

    app = create_app(
        config_path=args.config,
        seed=args.seed,
        start_epoch=args.start_time,
        clock=args.clock,
        speed=args.speed,
        tariff=args.tariff,
    )
    server = make_server(app, args.host, args.port, args.threads)
    world = app.extensions["mlspace_sim"].world
    example_scripts = register_all(world)
    base = f"http://{args.host}:{server.effective_port}/public/v2"
    start = datetime.fromtimestamp(world.start_epoch, tz=timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    print(f"mlspace-sim serving {base}", flush=True)
    print(
        f"clock: {args.clock}, speed x{args.speed:g}, virtual start {start}, seed {args.seed}, "
        f"tariff {world.config.tariff}"
    )
    print("admin API: " + base.replace("/public/v2", "/_mock"))
    print(f"run-time models of the documented examples: {', '.join(example_scripts)}")
    print("\ncredentials (any non-empty pair works in the default permissive mode):")
    print(
        "  client_id=sim-key-id client_secret=sim-key-secret "
        "x_workspace_id=11111111-1111-4111-8111-111111111111 x_api_key=sim-api-key"
    )
    print("\nmls profile (~/.mls/config and ~/.mls/credentials):")
    print(f"  [default]\n  region = SR006\n  output = json\n  endpoint_url = {base}\n")
    print(
        "  [default]\n  key_id = sim-key-id\n  key_secret = sim-key-secret\n"
        "  x_workspace_id = 11111111-1111-4111-8111-111111111111\n  x_api_key = sim-api-key",
        flush=True,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0
