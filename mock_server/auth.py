"""Tokens, workspaces and the platform's 401s.

Permissive mode (default): any key pair gets a token, and a workspace comes into being on first
use, bound to the ``x-api-key`` it first presented. Strict mode (``auth.mode: strict`` in the
config): only the configured key pairs, workspaces and api keys are accepted. Tokens expire after
``expires_in`` seconds of *wall* time, as on the platform, so a long virtual run never logs out an
SDK object that does not re-authenticate (``mls_core``); ``auth: {token_clock: virtual}`` makes
them expire in virtual time instead, to rehearse expiry by advancing the clock.
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mock_server.errors import platform_error, validation_error
from simulator.randomness import derive_seed

TOKEN_TTL_S = 3600
TOKEN_CLOCKS = ("wall", "virtual")


@dataclass
class Workspace:
    """A workspace as the API shows it; its id is the ``x-workspace-id`` header."""

    id: str
    api_key: str
    name: str
    namespace: str
    project_id: str = ""
    project_name: str = "mlspace-sim"
    owner_email: str = "user@example.com"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Token:
    client_id: str
    expires_at: float


@functools.lru_cache(maxsize=1024)  # the same few ids come with every request
def _is_uuid(text: str) -> bool:
    """A workspace id is a UUID (an unbounded id would grow every workspace list)."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) <= 45  # the braced and urn: spellings uuid.UUID accepts, no more


def namespace_for(workspace_id: str) -> str:
    """A stable platform-style namespace (``ai<7 digits>-<5 digits>``) for a workspace id."""
    n = derive_seed(0, "namespace", workspace_id)
    return f"ai{n % 10**7:07d}-{(n // 10**7) % 10**5:05d}"


def _fake_jwt(client_id: str, expires_at: float) -> str:
    """An opaque token shaped like the platform's RS256 JWT (never verified as one)."""

    def part(obj: dict[str, Any]) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = part({"alg": "RS256", "typ": "JWT", "kid": "mlspace-sim"})
    body = part({"sub": client_id, "exp": int(expires_at), "jti": secrets.token_hex(8)})
    return f"{header}.{body}.{secrets.token_urlsafe(32)}"


class AuthRegistry:
    """Issues tokens and resolves every other request's headers to a workspace."""

    def __init__(
        self,
        config: dict[str, Any] | None,
        now: Callable[[], float],
        wall: Callable[[], float] = time.time,
    ) -> None:
        """``now`` is the virtual clock (epoch seconds), ``wall`` the real one."""
        config = config or {}
        self.strict = config.get("mode", "permissive") == "strict"
        self.ttl = int(config.get("token_ttl_s", TOKEN_TTL_S))
        token_clock = config.get("token_clock", "wall")
        if token_clock not in TOKEN_CLOCKS:
            raise ValueError(f"auth.token_clock must be wall or virtual, not {token_clock!r}")
        # YAML reads an unquoted numeric id or secret as a number; the SDK always sends strings
        self._keys = {str(k["client_id"]): str(k["client_secret"]) for k in config.get("keys", [])}
        self._now = now if token_clock == "virtual" else wall
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}
        self.workspaces: dict[str, Workspace] = {}
        for ws in config.get("workspaces", []):
            added = self._add_workspace(str(ws["id"]), str(ws["api_key"]), ws.get("name"))
            if ws.get("members"):  # client ids that may look it up with a token alone
                added.extra["members"] = [str(m) for m in ws["members"]]

    def _add_workspace(
        self, ws_id: str, api_key: str, name: str | None = None, project_id: str | None = None
    ) -> Workspace:
        ws = Workspace(
            ws_id,
            api_key,
            name or f"workspace-{ws_id[:8]}",
            namespace_for(ws_id),
            project_id=project_id or str(ws_id),
        )
        self.workspaces[ws_id] = ws
        return ws

    def enroll(
        self, ws_id: str, api_key: str, *, name: str, project_id: str, member: str | None
    ) -> Workspace:
        """Credentials for a workspace made through the API (the one kept if it already has
        them: a replayed bootstrap); ``member`` is the client id that made it."""
        with self._lock:
            ws = self.workspaces.get(ws_id)
            if ws is None:
                ws = self._add_workspace(ws_id, api_key, name, project_id)
                if member:
                    ws.extra["members"] = [member]
            return ws

    def first_use(self, ws_id: str, api_key: str) -> Workspace | None:
        """Permissive mode: the workspace ``ws_id``, made now with ``api_key`` if new (as a
        first request would make it); None in strict mode for an unknown one."""
        with self._lock:
            ws = self.workspaces.get(ws_id)
            if ws is None and not self.strict:
                ws = self._add_workspace(ws_id, api_key)
            return ws

    def issue(self, client_id: Any, client_secret: Any) -> tuple[str, int] | None:
        """A new token for a key pair, or None for bad credentials."""
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            return None
        if self.strict:
            if self._keys.get(client_id) != client_secret:
                return None
        elif not client_id or not client_secret:
            return None
        expires_at = self._now() + self.ttl
        token = _fake_jwt(client_id, expires_at)
        with self._lock:
            self._tokens[token] = Token(client_id, expires_at)
        return token, self.ttl

    def issued(self, token: str) -> Token | None:
        """What this registry knows of a token it issued (None: unknown)."""
        with self._lock:
            return self._tokens.get(token)

    def restore(self, token: str, record: Token) -> None:
        """Accept again a token issued before a restart (kept by the state file)."""
        with self._lock:
            self._tokens[token] = record

    def check_token(self, headers: Any) -> Token:
        """The caller's valid token (the only check ``workspaces/v3`` endpoints make)."""
        raw = headers.get("authorization")
        if not raw:
            raise platform_error(401, 19, "no authorization header, it is required")
        token_str = raw[7:].strip() if raw[:7].lower() == "bearer " else raw.strip()
        token = self._tokens.get(token_str)
        if token is None:
            raise platform_error(401, 21, "invalid access_token")
        if self._now() >= token.expires_at:
            raise platform_error(401, 20, "access_token expired")
        return token

    def authenticate(self, headers: Any) -> Workspace:
        """The caller's workspace, or the platform's 401 for the first thing that is wrong."""
        self.check_token(headers)
        return self.workspace_of(headers)

    def workspace_of(self, headers: Any) -> Workspace:
        """The workspace of a caller whose token :meth:`check_token` accepted, or the
        platform's 401 for the first thing that is wrong with its key pair."""
        api_key = headers.get("x-api-key")
        if not api_key:
            raise platform_error(401, 9, "No x-api-key header provided")
        ws_id = (headers.get("x-workspace-id") or "").strip()
        if ws_id and not _is_uuid(ws_id):
            raise validation_error(
                ["header", "x-workspace-id"],
                "Input should be a valid UUID",
                "uuid_parsing",
                input=ws_id[:64],
            )
        ws = self.first_use(ws_id, api_key) if ws_id else None
        if ws is None:
            raise platform_error(401, 2, "namespace not found")
        if ws.api_key != api_key:
            raise platform_error(401, 10, "Invalid api-key for workspace")
        return ws
