"""A server without ``--state`` keeps its journal in memory, not in a file: what it exports
through ``GET /_mock/state`` is the same as what a server with a file exports after the same
requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.reliability.test_persistence import WS_A, WS_B, Api, drive, new_app


def _exported(app: Any) -> dict[str, Any]:
    """The snapshot, less the boundary the test client draws for each multipart upload."""
    snapshot = json.loads(app.test_client().get("/_mock/state?secrets=true").get_data())
    for entry in snapshot["entries"]:
        if entry["content_type"].startswith("multipart/"):
            del entry["content_type"], entry["body"]
    return snapshot


def test_a_server_without_a_file_exports_what_one_with_a_file_does(tmp_path: Path) -> None:
    exported = []
    for path in (None, tmp_path / "state.db"):
        app = new_app(path, seed=7)
        a, b = Api(app, WS_A), Api(app, WS_B)
        drive(a, b)
        a.call("POST", "jobs", json={"bad": 1}, status=422)  # refused: not kept
        a.admin("POST", "reset", json={"seed": 8})
        drive(a, b)
        exported.append(_exported(app))
    assert len(exported[0]["entries"]) == 13
    assert exported[0] == exported[1]
