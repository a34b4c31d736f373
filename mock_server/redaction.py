"""Secrets out of the admin exports (``GET /_mock/state`` and ``GET /_mock/journal``).

Both exports carry what tenants sent: api keys, S3 access keys, connector passwords, tokens in
``env_variables``, and the configured key pairs. By default every value stored under a secret's
name (``api_key``, ``client_secret``, ``password``, ``security_key``, ``access_key_id``, any
``*_token`` or ``*_secret`` ...) is replaced by ``<redacted>``, and a request body that is not
JSON is withheld whole. ``?secrets=true`` exports them as they are: it passes the same guard as
every admin call, so it needs the admin token wherever one is set, and one is always set when
the server listens beyond loopback (``mock_server.security``).

A redacted state snapshot says so (``"redacted": true``) and cannot be imported: the world it
would rebuild has lost its keys.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

from mock_server.errors import validation_error
from mock_server.params import query_bool

REDACTED = "<redacted>"
SECRET_NAME = re.compile(
    r"(?:^|_)(?:secret|password|passwd|passphrase|token|api_key|apikey|security_key|"
    r"secret_key|access_key|access_key_id|private_key|authorization)$"
)
CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def is_secret_name(name: str) -> bool:
    """``client_secret``, ``x_api_key``, ``apiKey``, ``HF_TOKEN`` yes; ``token_ttl_s`` no."""
    return bool(SECRET_NAME.search(CAMEL.sub("_", name).lower()))


def redact(value: Any) -> Any:
    """A copy of a JSON value with every secret string or number replaced."""
    if isinstance(value, dict):
        return {k: _hidden(v) if is_secret_name(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _hidden(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return redact(value)
    plain = isinstance(value, bool) or value is None or value == ""
    return value if plain else REDACTED


def _query(text: str) -> str:
    pairs = parse_qsl(text, keep_blank_values=True)
    if not any(is_secret_name(k) and v for k, v in pairs):
        return text  # kept byte for byte
    return urlencode([(k, REDACTED if is_secret_name(k) and v else v) for k, v in pairs])


def _body(entry: dict[str, Any]) -> dict[str, Any]:
    out = {**entry, "query": _query(entry.get("query", ""))}
    if "body_base64" in out:
        out["body_base64"] = REDACTED
    raw = out.get("body")
    if raw:
        try:
            out["body"] = json.dumps(redact(json.loads(raw)), ensure_ascii=False)
        except ValueError:
            out["body"] = REDACTED
    return out


def snapshot(snap: dict[str, Any]) -> dict[str, Any]:
    """A ``GET /_mock/state`` snapshot without its secrets, marked as such."""
    meta = snap["meta"]
    return {
        **snap,
        "redacted": True,
        "meta": {**meta, "config": redact(meta["config"])},
        "workspaces": redact(snap["workspaces"]),
        "entries": [_body(e) for e in snap["entries"]],
    }


def journal(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``GET /_mock/journal`` entries without their secrets."""
    return [
        {
            **e,
            "query": _query(e["query"]),
            "params": redact(e["params"]),
            "extra": redact(e["extra"]),
        }
        for e in entries
    ]


def secrets_asked() -> bool:
    """Whether this export request asks for secrets as they are (``?secrets=true``)."""
    return query_bool("secrets", False)


def refuse_redacted(body: dict[str, Any]) -> None:
    """A 422 for a redacted snapshot offered to ``POST /_mock/state``."""
    if body.get("redacted") is True:
        raise validation_error(
            ["body", "redacted"],
            "A redacted snapshot cannot be imported: export it with ?secrets=true",
            "value_error",
            input=True,
        )
