"""The application factory: configuration in, a Flask app out, no import-time side effects."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

from mock_server import admin, faults, persistence, ratelimit, security, ui
from mock_server.api import BLUEPRINTS
from mock_server.auth import AuthRegistry
from mock_server.errors import ApiError, json_response
from mock_server.routing import AUTH_FULL, AUTH_NONE, AUTH_TOKEN, classify
from mock_server.state import ServerState, install_instant
from simulator.config import load_config
from simulator.world import World

API_PREFIX = "/public/v2"
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


JOURNALED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNJOURNALED_PATHS = frozenset({f"{API_PREFIX}/service_auth", "/_mock/reset"})


def record(st: ServerState, response: Any) -> None:
    """Journal an accepted command (API changes and clock moves) with its virtual time."""
    path = request.path
    if path in UNJOURNALED_PATHS or response.is_streamed:
        return
    if not path.startswith((API_PREFIX, "/_mock/clock")):
        return
    ws = g.get("workspace")
    world = st.world
    epoch = world.now_epoch()
    st.journal.record(
        t=epoch - world.start_epoch,
        epoch=epoch,
        method=request.method,
        path=path,
        query=request.query_string.decode("latin-1"),
        workspace=ws.id if ws else "",
        author=ws.owner_email if ws else "",
        status=response.status_code,
        body=request.get_data(cache=True),
        response=response.get_data(),
    )


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

    app = Flask("mock_server")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["mlspace_sim"] = ServerState(world, auth, merged)
    persistence.install(app, store)  # the journal on disk (or in memory), commands serialized
    security.install(app, merged)  # body limit, admin switch and token (before authentication)
    ratelimit.install(app, config.raw.get("rate_limits"))
    faults.install(app, config.raw.get("faults"))
    install_instant(app, API_PREFIX)  # one lock and one virtual instant per API request
    app.wsgi_app = CollapseSlashes(app.wsgi_app)  # type: ignore[method-assign]

    for bp in BLUEPRINTS:
        app.register_blueprint(bp, url_prefix=API_PREFIX)
    app.register_blueprint(admin.bp, url_prefix="/_mock")
    app.register_blueprint(ui.bp, url_prefix="/_mock/ui")

    @app.route(f"{API_PREFIX}/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @app.route(f"{API_PREFIX}/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "DELETE"])
    def not_implemented(rest: str) -> Any:
        path = "/" + rest
        status = classify(request.method, path)
        what = {501: "Not implemented in mlspace-sim", 405: "Method Not Allowed", 404: "Not Found"}[
            status
        ]
        return json_response(
            {
                "error_code": status,
                "error_message": f"{what}: {request.method} {API_PREFIX}{path}",
                "method": request.method,
                "path": f"{API_PREFIX}{path}",
            },
            status,
        )

    not_implemented._mlspace_auth = AUTH_NONE  # type: ignore[attr-defined]

    @app.before_request
    def authenticate() -> None:
        g.request_id = uuid.uuid4().hex
        if not request.path.startswith(API_PREFIX) or request.endpoint is None:
            return
        view = app.view_functions.get(request.endpoint)
        level = getattr(view, "_mlspace_auth", AUTH_FULL)
        if level == AUTH_NONE:
            return
        st: ServerState = app.extensions["mlspace_sim"]
        if level == AUTH_TOKEN:
            g.token = st.auth.check_token(request.headers)
        else:
            g.workspace = st.auth.authenticate(request.headers)

    @app.after_request
    def stamp(response: Any) -> Any:
        response.headers["x-request-id"] = g.get("request_id", "")
        if request.method in JOURNALED_METHODS and 200 <= response.status_code < 300:
            record(app.extensions["mlspace_sim"], response)
        return response

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Any:
        return exc.response()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = exc.code or 500
        return json_response(
            {
                "error_code": code,
                "error_message": f"{exc.name}: {request.method} {request.path}",
                "method": request.method,
                "path": request.path,
            },
            code,
        )

    @app.errorhandler(Exception)
    def crash(exc: Exception) -> Any:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_response(
            {"error_code": 500, "error_message": "Oops, something went wrong"}, 500
        )

    return app


__all__ = ["AUTH_FULL", "AUTH_NONE", "AUTH_TOKEN", "create_app"]
