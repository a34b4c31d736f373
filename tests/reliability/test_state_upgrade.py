"""A state file written by the previous release (schema 1, ``tests/fixtures/state-v1.db``, made
by ``tests/fixtures/make_state_v1.py``) loads and rebuilds the world that release showed."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from mock_server import persistence
from mock_server.app import create_app

FIXTURES = Path(__file__).parent.parent / "fixtures"
WORKSPACES = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222")


def _headers(client: Any, ws: str) -> dict[str, str]:
    token = client.post("/public/v2/service_auth", json={"client_id": "k", "client_secret": "s"})
    return {
        "authorization": token.get_json()["token"]["access_token"],
        "x-workspace-id": ws,
        "x-api-key": "key-" + ws[:4],
    }


def _get(client: Any, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    resp = client.get(path, headers=headers or {}, **kw)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def observe(app: Any) -> dict[str, Any]:
    """The same view ``make_state_v1.py`` recorded: ids, statuses, bill, clock."""
    c, api = app.test_client(), "/public/v2"
    seen: dict[str, Any] = {"jobs": {}, "servers": {}, "builds": {}, "connectors": {}}
    seen["transfers"] = {}
    for ws in WORKSPACES:
        h = _headers(c, ws)
        for j in _get(c, f"{api}/jobs", h, query_string={"region": "DGX2-MT"})["jobs"]:
            seen["jobs"][j["job_name"]] = [ws, j["status"]]
        for n in _get(c, f"{api}/notebooks/v2/notebooks", h)["notebooks"]:
            seen["servers"][n["uuid"]] = [ws, n["status"]]
        for b in _get(c, f"{api}/build-image/jobs", h)["jobs"]:
            got = _get(c, f"{api}/build-image/jobs/{b['name']}", h)
            seen["builds"][b["name"]] = [ws, got["status"]]
        for conn in _get(c, f"{api}/data_transfer/v3/connectors", h):
            if not conn["system"]:
                seen["connectors"][conn["connector_id"]] = [ws, conn["name"]]
        for rule in _get(c, f"{api}/data_transfer/v4/transfer", h):
            seen["transfers"][rule["transfer_id"]] = [ws, rule["name"]]
    bill = _get(c, "/_mock/billing")
    seen["bill"] = {"total": bill["total"], "lines": len(bill["lines"])}
    clock = _get(c, "/_mock/clock")
    seen["clock"] = {"now_epoch": clock["now_epoch"], "seed": clock["seed"]}
    seen["commands"] = len(_get(c, "/_mock/state")["entries"])
    return seen


def expected_view() -> dict[str, Any]:
    """What ``make_state_v1.py`` recorded, with money as this release shows it: that release
    showed the exact total (54.41666...), this one kopecks (its 4 lines rounded add to 54.42)."""
    expected = json.loads((FIXTURES / "state-v1.expected.json").read_text())
    exact = Decimal(expected["bill"]["total"])
    expected["bill"]["total"] = str(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return expected


def test_the_previous_releases_state_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    shutil.copyfile(FIXTURES / "state-v1.db", path)
    app = create_app(state_file=path)
    assert persistence.resume(app) == 12
    expected = expected_view()
    assert observe(app) == expected
    persistence.of(app).close()

    with closing(sqlite3.connect(path)) as db:  # upgraded in place: chained, one file
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    again = create_app(state_file=path)  # and it replays as schema 2, effects checked
    assert persistence.resume(again) == 12
    assert observe(again) == expected


def test_a_snapshot_exported_by_the_previous_release_imports(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    shutil.copyfile(FIXTURES / "state-v1.db", path)
    source = create_app(state_file=path)
    persistence.resume(source)
    snapshot = source.test_client().get("/_mock/state?secrets=true").get_json()
    snapshot["schema"] = 1  # as that release wrote it: no effects, no versions
    for entry in snapshot["entries"]:
        del entry["effect"], entry["version"]

    target = create_app(seed=1)
    imported = target.test_client().post("/_mock/state", json=snapshot)
    assert imported.status_code == 200, imported.get_data(as_text=True)
    assert observe(target) == expected_view()
