"""The application factory: configuration in, a Flask app out, no import-time side effects."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

from mock_server import (
    admin,
    admin_faults,
    faults,
    inputs,
    persistence,
    ratelimit,
    routing,
    security,
    ui,
)
from mock_server.auth import AuthRegistry
from mock_server.errors import ApiError, json_response
from mock_server.operations import OPERATIONS
from mock_server.routing import AUTH_FULL, AUTH_NONE, AUTH_TOKEN
from mock_server.state import ServerState, install_instant
from simulator.config import load_config
from simulator.world import World

ADMIN_PREFIX = "/_mock"
MAX_BODY_BYTES = 1 << 20
DEFAULT_SETTINGS: dict[str, Any] = {
    "log_follow_max_s": 20.0,  # wall seconds a log stream is held open while its job runs
    "log_poll_s": 0.05,  # wall seconds between looks for new lines while following
}
log = logging.getLogger("mlspace_sim.server")


class CollapseSlashes:
    """WSGI middleware: ``//`` in a path routes like ``/`` (the SDK joins URLs naively)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        while "//" in path:
            path = path.replace("//", "/")
        environ["PATH_INFO"] = path
        return self.app(environ, start_response)


class MockFlask(Flask):
    """Flask that decides once per function whether it must be wrapped as a coroutine: Flask
    asks ``inspect`` on every call of every hook and view, 14 times a request here."""

    request_class = routing.OpRequest

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_of: dict[Any, Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        found = self._sync_of.get(func)
        if found is None:
            found = self._sync_of[func] = super().ensure_sync(func)
        return found


UUID_VERSION_MASK = 0xC000 << 48 | 0xF000 << 64  # RFC 4122 variant and version fields
UUID4_BITS = 0x8000 << 48 | 4 << 76
JOURNALED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CLOCK_PREFIX = "/_mock/clock"


def request_id() -> str:
    """``uuid.uuid4().hex`` without building a UUID object (a few microseconds a request)."""
    bits = int.from_bytes(os.urandom(16), "big") & ~UUID_VERSION_MASK | UUID4_BITS
    return f"{bits:032x}"


def record(st: ServerState, response: Any) -> None:
    """Journal an accepted command (operations that change state, clock moves) with its
    virtual time."""
    req = request._get_current_object()  # type: ignore[attr-defined]
    op = req.operation
    changed = op.mutating if op else req.path.startswith(CLOCK_PREFIX)
    if not changed or response.is_streamed:
        return
    ws = g.get("workspace")
    world = st.world
    epoch = world.now_epoch()
    st.journal.record(
        t=epoch - world.start_epoch,
        epoch=epoch,
        method=req.method,
        path=req.path,
        query=req.query_string.decode("latin-1"),
        workspace=ws.id if ws else "",
        author=ws.owner_email if ws else "",
        status=response.status_code,
        body=req.get_data(cache=True),
        response=response.get_data(),
        found=(op, req.view_args or {}) if op else None,  # routed once already
    )


def in_turn(hooks: list[Callable[[], Any]]) -> Callable[[], Any]:
    """One before-request hook running ``hooks`` in order until one answers (Flask dispatches
    each registered hook through its own calls; these run on every request)."""

    def before() -> Any:
        for hook in hooks:
            answer = hook()
            if answer is not None:
                return answer
        return None

    return before


def create_app(
    world: World | None = None,
    *,
    config_path: str | Path | None = None,
    seed: int = 0,
    start_epoch: float | None = None,
    clock: str = "manual",
    speed: float = 1.0,
    tariff: str | None = None,
    settings: dict[str, Any] | None = None,
    state_file: str | Path | None = None,
    given: Collection[str] = (),
) -> Flask:
    """Build the mock: a new World from the arguments unless one is given. With ``state_file``
    the file, once it has recorded a world, says what the World is made of (see persistence);
    a setting named in ``given`` (the flags set on the command line) that says otherwise is
    refused (:class:`persistence.FlagConflict`)."""
    overrides = {"billing": {"tariff": tariff}} if tariff else None
    config = world.config if world else load_config(config_path, overrides)
    store = persistence.StateFile(state_file) if state_file is not None else None
    config, seed, start_epoch, clock, speed = persistence.world_arguments(
        store, config, seed, start_epoch, clock, speed, given
    )
    if world is None:
        world = World(config, seed=seed, start_epoch=start_epoch, clock=clock, speed=speed)
    merged = {**DEFAULT_SETTINGS, **config.raw.get("server", {}), **(settings or {})}
    auth = AuthRegistry(config.raw.get("auth"), world.now_epoch)
    app = MockFlask("mock_server")
    app.config["MAX_CONTENT_LENGTH"] = security.body_limit(merged, MAX_BODY_BYTES)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    st = app.extensions["mlspace_sim"] = ServerState(world, auth, merged)

    # Routes: every operation of the table (one blueprint per area), then the admin API.
    for bp in routing.blueprints(OPERATIONS):
        app.register_blueprint(bp)
    app.register_blueprint(admin.bp, url_prefix=ADMIN_PREFIX)
    app.register_blueprint(admin_faults.bp, url_prefix=ADMIN_PREFIX)
    app.register_blueprint(ui.bp, url_prefix=f"{ADMIN_PREFIX}/ui")

    def identify() -> None:
        g.request_id = request_id()  # refused requests are stamped like the others

    def authenticate() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]
        op = req.operation
        if op is None or op.handler is None or op.auth == AUTH_NONE:
            return
        headers = req.headers
        g.token = st.auth.check_token(headers)  # who calls (notebook access)
        if op.auth != AUTH_TOKEN:
            g.workspace = st.auth.workspace_of(headers)  # token checked just above

    def stamp(response: Any) -> Any:
        response.headers["x-request-id"] = g.get("request_id", "")
        if response.status_code == 204:  # no content, so no content type
            response.headers.pop("Content-Type", None)
        if request.method in JOURNALED_METHODS and 200 <= response.status_code < 300:
            record(st, response)
        return response

    # What a request passes, in order. Outside Flask: "//" collapsed, then injected faults.
    app.wsgi_app = faults.middleware(app, config.raw.get("faults"))  # type: ignore[method-assign]
    app.wsgi_app = CollapseSlashes(app.wsgi_app)  # type: ignore[method-assign]
    # Inside: commands one at a time at one held instant (its after-hook runs last, so the
    # state file has the command before the answer leaves), then the hooks below in order.
    persistence.install(app, store)
    before = [
        identify,  # a request id, refused requests included
        inputs.check_headers,  # header sizes bounded
        security.guard(merged),  # body size, the admin switch and token
        ratelimit.hook(app, config.raw.get("rate_limits")),  # the platform's 429s
        authenticate,  # the operation's auth level: token, key pair, or nothing
        inputs.check_inputs,  # JSON depth, encodable and bounded strings, in body and query
        routing.validate_query,  # the operation's query model (FastAPI's 422)
        routing.validate_body,  # the operation's request model (FastAPI's 422)
    ]
    app.before_request(in_turn([hook for hook in before if hook is not None]))
    install_instant(app, routing.API_PREFIX)  # then the handler: one lock and one virtual instant
    app.after_request(stamp)  # request id on every answer; accepted commands journaled

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Any:
        return routing.in_own_shape(exc).response()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = exc.code or 500
        response = json_response(
            {
                "error_code": code,
                "error_message": f"{exc.name}: {request.method} {request.path}",
                "method": request.method,
                "path": request.path,
            },
            code,
        )
        for name, value in exc.get_headers():  # Allow on a 405, Retry-After, ...
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response(
            {"error_code": 500, "error_message": "Oops, something went wrong"}, 500
        )

    return app


__all__ = ["AUTH_FULL", "AUTH_NONE", "AUTH_TOKEN", "create_app"]
