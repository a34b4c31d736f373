"""The workspace's S3 credentials (``s3/credentials``), used by the public-API notebook.

Not in the spec v2.8.1; the shape is the notebook's POST body. Until a workspace stores its own,
it reads fake keys that stay the same for that workspace and world seed. Nothing ever checks
them: the mock has no object storage behind the endpoint.
"""

from __future__ import annotations

import string
from typing import Any

from mock_server import routing
from mock_server.errors import json_response
from mock_server.state import state, workspace
from simulator.randomness import stream

S3_ENDPOINT = "https://s3.mlspace-sim.local"


def _store() -> dict[str, dict[str, str]]:
    return state().area("s3_credentials", dict)


def _generated(ws: Any) -> dict[str, str]:
    rng = stream(state().world.seed, "s3-credentials", ws.id)
    return {
        "s3_namespace": ws.namespace,
        "s3_endpoint": S3_ENDPOINT,
        "access_key_id": "".join(rng.choices(string.ascii_uppercase + string.digits, k=20)),
        "security_key": "".join(rng.choices(string.ascii_letters + string.digits + "+/", k=40)),
    }


def get_credentials() -> Any:
    ws = workspace()
    st = state()
    with st.lock:
        stored = _store().get(ws.id)
    return json_response(dict(stored) if stored else _generated(ws))


def set_credentials() -> Any:
    """Replace the workspace's credentials; unknown keys are ignored, as pydantic does."""
    creds: dict[str, str] = routing.body().model_dump()
    st = state()
    with st.lock:
        _store()[workspace().id] = creds
    return json_response(dict(creds))
