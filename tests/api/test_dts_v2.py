"""The older data-transfer versions (v2 connectors, rules and history; v3 and v4 rule writes;
re-run, status, favourites) as views over the same store as v3-v5: what one version makes, the
others show; every answer checked against the official spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mock_server import persistence
from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from tests.api.test_data_transfer import MAX_RUN_S, S3, WS_A, Api, reset
from tests.api.test_data_transfer import shared_app as shared_app  # the module's app fixture


@pytest.fixture
def api(shared_app: Any) -> Api:
    return Api(reset(shared_app), WS_A, "key-a")


def v2_rule(api: Api, **overrides: Any) -> dict[str, Any]:
    """A ``TransferInputViewModel``: the v5 body without the connector types."""
    body = api.rule(**overrides)
    del body["connector_type"], body["destination_connector_type"]
    return body


# ---- connectors -------------------------------------------------------------------------------
def test_a_connector_made_in_v3_shows_in_v2_and_back(api: Api) -> None:
    v3 = api.connector()
    listed = api.call("GET", "v2/connectors")
    mine = next(c for c in listed if c["connector_id"] == v3["connector_id"])
    assert "parameters" not in mine and mine["name"] == v3["name"]
    one = api.call("GET", f"v2/connectors/{v3['connector_id']}")
    assert one["parameters"] == v3["parameters"] and "security_key" not in one["parameters"]

    v2 = api.call(
        "POST", "v2/connectors", {"name": "old", "source_type": "s3amazon", "parameters": S3}
    )
    assert v2["status"] == "success" and v2["workspace_id"] is None
    shown = api.call("GET", f"v3/connectors/s3amazon/{v2['connector_id']}")
    assert (shown["name"], shown["uid"]) == ("old", v3["uid"])


def test_v2_update_replaces_the_connector_and_tests_it_again(api: Api) -> None:
    cid = api.connector()["connector_id"]
    body = {"name": "renamed", "source_type": "s3custom", "parameters": {**S3, "bucket": "X"}}
    updated = api.call("POST", f"v2/connectors/{cid}", body)
    assert (updated["name"], updated["status"]) == ("renamed", "failed")
    logs = api.call("GET", f"v2/connectors/{cid}/try/logs")
    assert logs["status"] == "failed" and "bucket name 'X'" in " ".join(logs["logs"])
    before = api.call("GET", f"v2/connectors/{cid}")
    api.call("POST", f"v2/connectors/{cid}", {**body, "source_type": "s3google"}, status=422)
    api.call("POST", f"v2/connectors/{cid}", {"name": "no parameters"}, status=422)
    assert api.call("GET", f"v2/connectors/{cid}") == before


def test_get_try_reports_a_test_without_changing_the_connector(api: Api) -> None:
    cid = api.connector()["connector_id"]
    api.call("POST", f"v2/connectors/{cid}/halt")
    for path in (f"v2/connectors/{cid}/try", f"v3/connectors/s3custom/{cid}/try"):
        assert api.call("GET", path)["status"] == "success"
    assert api.call("GET", f"v2/connectors/{cid}")["status"] == "inactive"
    assert "parameters" not in api.call("GET", f"v3/connectors/s3custom/{cid}/try")


def test_connector_favourites_persist_across_versions(api: Api) -> None:
    cid = api.connector()["connector_id"]
    assert api.call("POST", f"v2/connectors/{cid}/fav", {"favorite": True})["favorite"] is True
    assert api.call("GET", f"v3/connectors/s3custom/{cid}")["favorite"] is True
    off = api.call("POST", f"v3/connectors/s3custom/{cid}/fav", {"favorite": False})
    assert off["favorite"] is False
    assert (
        next(c for c in api.call("GET", "v2/connectors") if c["connector_id"] == cid)["favorite"]
        is False
    )
    bucket = api.system("s3mlspace")["connector_id"]  # a mark, not a change: system ones too
    assert api.call("POST", f"v2/connectors/{bucket}/fav", {"favorite": True})["favorite"]
    api.call("POST", f"v2/connectors/{cid}/fav", {"favorite": "yes please"}, status=422)
    api.call("POST", f"v3/connectors/s3custom/{cid}/fav", {}, status=422)
    assert api.call("GET", f"v2/connectors/{cid}")["favorite"] is False


def test_v2_halt_deactivates_the_rules_using_the_connector(api: Api) -> None:
    t = api.transfer()
    api.call("POST", f"v2/connectors/{t['connector_id']}/halt")
    assert api.call("GET", f"v2/transfer/{t['transfer_id']}")["active"] is False
    system = api.system("nfs")["connector_id"]
    api.call("POST", f"v2/connectors/{system}/halt", status=403)


# ---- transfer rules ---------------------------------------------------------------------------
def test_v2_rules_take_their_types_from_the_connectors(api: Api) -> None:
    made = api.call("POST", "v2/transfer", v2_rule(api, legacy=True))
    assert made["user_id"] and "uid" not in made
    v4 = api.call("GET", f"v4/transfer/{made['transfer_id']}")
    assert (v4["source_category"], v4["destination_source_category"]) == ("s3custom", "s3mlspace")
    assert v4["uid"] == made["user_id"]
    assert [t["transfer_id"] for t in api.call("GET", "v2/transfer")] == [made["transfer_id"]]


def test_v2_rule_refuses_a_destination_that_cannot_be_written(api: Api) -> None:
    database = api.connector("postgresql")["connector_id"]
    bad = v2_rule(api, destination_connector_id=database)
    detail = api.call("POST", "v2/transfer", bad, status=422)
    assert detail["detail"][0]["loc"] == ["body", "destination_connector_type"]
    missing = v2_rule(api)
    del missing["query"]
    api.call("POST", "v2/transfer", missing, status=422)
    assert api.call("GET", "v2/transfer") == []


def test_v3_and_v4_writes_take_the_legacy_flag_and_answer_their_shapes(api: Api) -> None:
    body = {**api.rule(), "legacy": True, "unknown": 1}
    v3 = api.call("POST", "v3/transfer", body)
    v4 = api.call("POST", "v4/transfer", body)
    assert "user_id" in v3 and "uid" in v4
    renamed = api.call("POST", f"v3/transfer/{v4['transfer_id']}", {**body, "name": "three"})
    assert renamed["name"] == "three"
    again = api.call("POST", f"v4/transfer/{v3['transfer_id']}", {**body, "name": "four"})
    assert again["name"] == "four"
    assert {t["name"] for t in api.call("GET", "v4/transfer")} == {"three", "four"}
    api.call("POST", "v5/transfer", body, status=422)  # v5 forbids what it does not know
    api.call("POST", f"v4/transfer/{v3['transfer_id']}", {**body, "strategy": "x"}, status=422)
    assert api.call("GET", f"v2/transfer/{v3['transfer_id']}")["name"] == "four"


def test_v2_update_and_switch_act_on_the_same_rule(api: Api) -> None:
    tid = api.transfer()["transfer_id"]
    updated = api.call("POST", f"v2/transfer/{tid}", {**v2_rule(api), "name": "v2 name"})
    assert updated["name"] == "v2 name"
    assert api.call("POST", f"v2/transfer/{tid}/switch", {"active": False})["active"] is False
    assert api.call("GET", f"v4/transfer/{tid}")["active"] is False
    api.call("POST", f"v2/transfer/{tid}/switch", {}, status=422)


def test_rule_favourites_persist_across_versions(api: Api) -> None:
    tid = api.transfer()["transfer_id"]
    assert api.call("POST", f"v4/transfer/{tid}/fav", {"favorite": True})["favorite"] is True
    assert api.call("GET", f"v2/transfer/{tid}")["favorite"] is True
    assert api.call("POST", f"v2/transfer/{tid}/fav", {"favorite": False})["favorite"] is False
    api.call("POST", f"v4/transfer/{tid}/fav", {"favorite": None}, status=422)
    assert api.call("GET", f"v4/transfer/{tid}")["favorite"] is False


# ---- history ----------------------------------------------------------------------------------
def test_v2_history_is_the_v3_history_with_user_id(api: Api) -> None:
    tid = api.transfer(source=["a/", "b.csv"])["transfer_id"]
    v3 = api.history()
    v2 = api.call("GET", f"v2/history?transfer_id={tid}&page_size=1")
    assert v2["total_count"] == 2 and len(v2["data"]) == 1
    row = v2["data"][0]
    assert row["history_id"] == v3[0]["history_id"] and row["user_id"] == v3[0]["uid"]


def test_rerun_copies_the_source_again_now(api: Api) -> None:
    tid = api.transfer(source=["a/", "b.csv"])["transfer_id"]
    api.world.advance(MAX_RUN_S)
    first = api.history()[0]
    [again] = api.call("POST", "v2/history/rerun", {"history_id": first["history_id"]})
    assert (again["source"], again["status"]) == (first["source"], "in_progress")
    assert again["history_id"] != first["history_id"]
    same = api.call("POST", "v3/history/rerun", {"history_id": first["history_id"]})
    assert [r["history_id"] for r in same["data"]] == [again["history_id"]]  # same instant
    assert len(api.history(f"?transfer_id={tid}")) == 3
    api.world.advance(MAX_RUN_S)
    [done] = api.call("GET", f"v3/history/status/stream?ids={again['history_id']}")
    assert done["status"] == "success"
    api.call("POST", "v2/history/rerun", {"history_id": "nope"}, status=422)
    api.call("POST", "v2/history/rerun", {}, status=422)
    assert len(api.history(f"?transfer_id={tid}")) == 3


def test_status_stream_answers_the_entries_asked_for_as_json(api: Api) -> None:
    api.transfer(source=["a/", "b/"])
    a, b = api.history()
    ids = f"ids={b['history_id']}&ids={a['history_id']}&ids=00000000-0000-4000-8000-000000000000"
    resp = api.client.get(
        f"/public/v2/data_transfer/v2/history/status/stream?{ids}", headers=api.headers
    )
    assert resp.content_type == "application/json"
    rows = api.call("GET", f"v2/history/status/stream?{ids}")
    assert [r["history_id"] for r in rows] == [b["history_id"], a["history_id"]]
    assert all(r["status"] == "in_progress" for r in rows)
    api.call("GET", "v2/history/status/stream", status=422)


def test_history_favourites_persist_and_need_a_boolean(api: Api) -> None:
    api.transfer()
    [row] = api.history()
    hid = row["history_id"]
    assert api.call("POST", f"v2/history/{hid}/fav", True)["favorite"] is True
    assert api.history()[0]["favorite"] is True
    assert api.call("GET", "v2/history")["data"][0]["favorite"] is True
    api.call("POST", f"v2/history/{hid}/fav", {"favorite": False}, status=422)
    api.call("POST", f"v2/history/{hid}/fav", status=422)
    assert api.history()[0]["favorite"] is True
    api.call("POST", f"v2/history/{hid}/fav", False)
    assert api.history()[0]["favorite"] is False


def test_delete_history_forgets_entries_but_keeps_the_rule(api: Api) -> None:
    tid = api.transfer(source=["a/", "b/"])["transfer_id"]
    a, b = api.history()
    gone = api.call("DELETE", f"v2/history?ids={a['history_id']}&ids={a['history_id']}")
    assert gone == [a["history_id"]]
    assert [r["history_id"] for r in api.history()] == [b["history_id"]]
    api.call("DELETE", f"v2/history?ids={b['history_id']}")
    assert api.history() == [] and api.call("GET", f"v4/transfer/{tid}")["execution_date"] is None
    api.call("DELETE", "v2/history?ids=not-a-uuid", status=422)


def test_favourites_reruns_and_deletions_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = create_app(state_file=path, start_epoch=DEFAULT_START_EPOCH)
    api = Api(app, WS_A, "key-a")
    cid = api.connector()["connector_id"]
    api.call("POST", f"v2/connectors/{cid}/fav", {"favorite": True})
    tid = api.call("POST", "v2/transfer", v2_rule(api, source=["a/", "b/"]))["transfer_id"]
    api.call("POST", f"v2/transfer/{tid}/fav", {"favorite": True})
    api.client.post("/_mock/clock/advance", json={"seconds": MAX_RUN_S})  # journaled
    a, b = api.history()
    api.call("POST", f"v2/history/{a['history_id']}/fav", True)
    api.call("POST", "v3/history/rerun", {"history_id": b["history_id"]})
    api.call("DELETE", f"v2/history?ids={b['history_id']}")

    def seen(on: Api) -> list[Any]:
        return [on.call("GET", p) for p in ("v2/connectors", "v2/transfer", "v2/history")]

    before = seen(api)
    persistence.of(app).close()
    again = create_app(state_file=path)
    persistence.resume(again)
    assert seen(Api(again, WS_A, "key-a")) == before
