"""Where the server is, who we are, and one authenticated HTTP call.

Inside ML Space the library finds its gateway and keys in the Jupyter pod's environment; here they
come from ``MLSPACE_SIM_*`` variables (defaults: a local ``mlspace-sim serve`` and the mock's
default credentials) or from :func:`use` for code that drives several servers.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import requests

DEFAULT_URL = "http://127.0.0.1:8080/public/v2"
NFS_HOME = "/home/jovyan"


class ClientLibError(RuntimeError):
    """The server refused a call; the message is the server's own."""


@dataclass(frozen=True)
class Settings:
    """Server URL, keys and client-side knobs (see the README for the variables)."""

    url: str = DEFAULT_URL
    client_id: str = "sim-key-id"
    client_secret: str = "sim-key-secret"
    workspace_id: str = "11111111-1111-4111-8111-111111111111"
    api_key: str = "sim-api-key"
    nfs_root: str = ""  # local folder standing for the NFS root; "" = paths are used as given
    log_idle_s: float = 2.0  # a log stream silent this long is taken as complete
    timeout_s: float = 30.0

    @classmethod
    def from_env(cls) -> Settings:
        env, base = os.environ, cls()
        return cls(
            url=env.get("MLSPACE_SIM_URL", base.url).rstrip("/"),
            client_id=env.get("MLSPACE_SIM_KEY_ID", base.client_id),
            client_secret=env.get("MLSPACE_SIM_KEY_SECRET", base.client_secret),
            workspace_id=env.get("MLSPACE_SIM_WORKSPACE_ID", base.workspace_id),
            api_key=env.get("MLSPACE_SIM_API_KEY", base.api_key),
            nfs_root=env.get("MLSPACE_SIM_NFS_ROOT", base.nfs_root),
            log_idle_s=float(env.get("MLSPACE_SIM_LOG_IDLE_S", base.log_idle_s)),
            timeout_s=float(env.get("MLSPACE_SIM_TIMEOUT_S", base.timeout_s)),
        )

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


_local = threading.local()
_http = threading.local()
_tokens: dict[tuple[str, str, str], str] = {}
_tokens_lock = threading.Lock()


def current() -> Settings:
    """The settings in force: the innermost :func:`use`, else the environment."""
    stack = getattr(_local, "stack", None)
    return stack[-1] if stack else Settings.from_env()


@contextmanager
def use(settings: Settings) -> Iterator[Settings]:
    """Point every client_lib call in this thread at ``settings`` for the ``with`` block."""
    stack = _local.__dict__.setdefault("stack", [])
    stack.append(settings)
    try:
        yield settings
    finally:
        stack.pop()


def nfs_path(path: str) -> Path:
    """The local file behind an NFS path such as ``/home/jovyan/requirements.txt``."""
    root = current().nfs_root
    return Path(root, path.lstrip("/")) if root else Path(path)


def home_relative(path: str) -> str:
    """``/home/jovyan/a/b/`` → ``a/b``: the form the transfer API takes."""
    path = path.rstrip("/")
    prefix = NFS_HOME + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")


def _client() -> requests.Session:
    """This thread's connection pool (keep-alive makes a call about three times cheaper)."""
    session = getattr(_http, "session", None)
    if session is None:
        session = _http.session = requests.Session()
    return session


def close_connections() -> None:
    """Drop this thread's kept-alive connections (a server shutting down waits for them)."""
    session = getattr(_http, "session", None)
    if session is not None:
        session.close()
        _http.session = None


def _token(s: Settings, *, fresh: bool = False) -> str:
    key = (s.url, s.client_id, s.client_secret)
    with _tokens_lock:
        if not fresh and key in _tokens:
            return _tokens[key]
    r = _client().post(
        f"{s.url}/service_auth",
        json={"client_id": s.client_id, "client_secret": s.client_secret},
        headers={"x-api-key": s.api_key},
        timeout=s.timeout_s,
    )
    body = _json(r)
    token = (body.get("token") or {}).get("access_token") if isinstance(body, dict) else None
    if r.status_code != 200 or not token:
        raise ClientLibError(error_text(r))
    with _tokens_lock:
        _tokens[key] = token
    return token


def _json(r: requests.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def error_text(r: requests.Response) -> str:
    """The server's reason, whichever of the platform's error shapes it used."""
    body = _json(r)
    if isinstance(body, dict):
        for key in ("error_message", "detail", "details", "message"):
            value = body.get(key)
            if isinstance(value, list):
                return "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg', e)}"
                    if isinstance(e, dict)
                    else str(e)
                    for e in value
                )
            if value:
                return str(value)
    return f"HTTP {r.status_code}: {r.text.strip()[:300]}"


def call(
    method: str,
    path: str,
    *,
    params: dict[str, Any] | None = None,
    json: Any = None,
    data: dict[str, Any] | None = None,
    files: dict[str, Any] | None = None,
    stream: bool = False,
    ok: tuple[int, ...] = (200,),
) -> requests.Response:
    """One authenticated request (re-authenticating once on 401); a refusal raises."""
    s = current()
    r = _send(s, method, path, params, json, data, files, stream, fresh=False)
    if r.status_code == 401:
        r = _send(s, method, path, params, json, data, files, stream, fresh=True)
    if r.status_code not in ok:
        raise ClientLibError(error_text(r))
    return r


def _send(
    s: Settings,
    method: str,
    path: str,
    params: dict[str, Any] | None,
    json: Any,
    data: dict[str, Any] | None,
    files: dict[str, Any] | None,
    stream: bool,
    *,
    fresh: bool,
) -> requests.Response:
    headers = {
        "authorization": _token(s, fresh=fresh),
        "x-workspace-id": s.workspace_id,
        "x-api-key": s.api_key,
    }
    timeout = (s.timeout_s, s.log_idle_s) if stream else s.timeout_s
    return _client().request(
        method,
        f"{s.url}/{path.lstrip('/')}",
        params=params,
        json=json,
        data=data,
        files=files,
        headers=headers,
        stream=stream,
        timeout=timeout,
    )


def read_text(r: requests.Response, max_wall_s: float = 30.0) -> str:
    """A (possibly streamed) text body up to the first silence of ``log_idle_s`` seconds.

    The mock keeps a running job's log stream open while it waits for new lines; the notebook
    library prints what is there now, so a quiet stream counts as the end.
    """
    chunks: list[bytes] = []
    deadline = time.monotonic() + max_wall_s
    try:
        for chunk in r.iter_content(chunk_size=None):
            chunks.append(chunk)
            if time.monotonic() > deadline:
                break
    except requests.RequestException:
        pass
    finally:
        r.close()
    return b"".join(chunks).decode("utf-8", errors="replace")
