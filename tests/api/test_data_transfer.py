"""Data transfer (connectors, transfer rules, runs) over HTTP with the Flask test client and a
manual virtual clock: shapes checked against the official spec, runs that progress with virtual
time, validation, and isolation between workspaces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from simulator.transfers import Schedule
from tests.support.openapi import validate_response

WS_A = "11111111-1111-4111-8111-111111111111"
WS_B = "22222222-2222-4222-8222-222222222222"
START = "2025-02-26T10:00:00Z"  # DEFAULT_START_EPOCH
S3 = {
    "endpoint": "https://s3.cloud.ru",
    "bucket": "my-bucket",
    "access_key_id": "AKID",
    "security_key": "SECRET",
}
PG = {"host": "db.example.com", "port": 5432, "user": "u", "database": "d", "password": "p"}
MAX_RUN_S = 900  # the longest a source takes to copy


def epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Api:
    """One workspace's view of an in-process mock; 200 bodies are checked against the spec."""

    def __init__(self, app: Any, ws_id: str, api_key: str) -> None:
        self.client = app.test_client()
        self.world = app.extensions["mlspace_sim"].world
        self.ws = ws_id
        self.api_key = api_key

    @property
    def headers(self) -> dict[str, str]:
        """Fresh credentials: tokens expire after an hour of virtual time."""
        auth = self.client.post(
            "/public/v2/service_auth", json={"client_id": "k", "client_secret": "s"}
        )
        token = auth.get_json()["token"]["access_token"]
        return {"authorization": token, "x-workspace-id": self.ws, "x-api-key": self.api_key}

    def call(self, method: str, path: str, body: Any = None, *, status: int = 200) -> Any:
        resp = self.client.open(
            f"/public/v2/data_transfer/{path}", method=method, json=body, headers=self.headers
        )
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert resp.content_type == "application/json"
        data = resp.get_json()
        if status == 200:
            validate_response(method, f"/data_transfer/{path}", status, data)
        return data

    # ---- shortcuts --------------------------------------------------------------------------
    def connectors(self) -> list[dict[str, Any]]:
        return self.call("GET", "v3/connectors")

    def system(self, kind: str) -> dict[str, Any]:
        return next(c for c in self.connectors() if c["source_type"] == kind)

    def connector(self, source_type: str = "s3custom", **params: Any) -> dict[str, Any]:
        base = PG if source_type == "postgresql" else S3
        body = {"name": f"my-{source_type}", "source_type": source_type}
        return self.call("POST", "v3/connectors", {**body, "parameters": {**base, **params}})

    def rule(self, source: Any = "data/", **overrides: Any) -> dict[str, Any]:
        """A valid v5 body from a fresh s3custom connector to the workspace bucket."""
        src = overrides.pop("connector_id", None) or self.connector()["connector_id"]
        return {
            "name": "rule",
            "connector_id": src,
            "destination_connector_id": self.system("s3mlspace")["connector_id"],
            "query": {"source": source, "destination": "/in"},
            "connector_type": "s3custom",
            "destination_connector_type": "s3mlspace",
            "cluster_name": "christofari-1",
            "strategy": "write_all",
            "favorite": False,
            "description": "",
            "crontab": {"start_at": START},
            **overrides,
        }

    def transfer(self, **overrides: Any) -> dict[str, Any]:
        return self.call("POST", "v5/transfer", self.rule(**overrides))

    def history(self, query: str = "") -> list[dict[str, Any]]:
        body = self.call("GET", f"v3/history{query}")
        assert body["total_count"] >= len(body["data"])
        return body["data"]

    def events(self, query: str) -> list[dict[str, Any]]:
        body = self.call("GET", f"v2/events/list?offset=0&limit=100&{query}")
        assert body["count"] >= len(body["items"])
        return body["items"]


@pytest.fixture(scope="module")
def shared_app() -> Any:
    """One app for the module (building one loads the whole catalog)."""
    return create_app(seed=0, start_epoch=DEFAULT_START_EPOCH)


def reset(app: Any, seed: int = 0) -> Any:
    """A fresh world and empty stores: clock back at the fixed start, with this seed."""
    app.extensions["mlspace_sim"].reset(seed)
    return app


@pytest.fixture
def app(shared_app: Any) -> Any:
    return reset(shared_app)


@pytest.fixture
def api(app: Any) -> Api:
    return Api(app, WS_A, "key-a")


# ---- connectors -------------------------------------------------------------------------------
def test_sources_describe_the_parameters_of_every_creatable_type(api: Api) -> None:
    sources = {s["source_type"]: s for s in api.call("GET", "v2/connectors/sources")}
    assert set(sources) == {
        *("s3amazon", "s3custom", "s3google"),
        *("postgresql", "mssql", "mysql", "clickhouse", "oracledb"),
    }
    s3 = sources["s3custom"]["parameters_schema"]
    assert s3["required"] == ["endpoint", "bucket", "access_key_id", "security_key"]
    assert sources["mysql"]["parameters_schema"]["properties"]["port"]["type"] == "integer"


def test_a_workspace_starts_with_its_bucket_and_nfs_connectors(api: Api) -> None:
    listed = api.connectors()
    assert [(c["source_type"], c["system"], c["status"]) for c in listed] == [
        ("s3mlspace", True, "success"),
        ("nfs", True, "success"),
    ]
    nfs = listed[1]
    assert nfs["connector_id"] == WS_A and nfs["workspace_id"] == WS_A  # as copy_from_nfs shows
    assert set(nfs["parameters"]) == {"namespace"}
    assert listed[0]["parameters"]["bucket"].startswith("b-ai")


def test_created_connector_is_tested_at_once_and_never_shows_its_secrets(api: Api) -> None:
    made = api.connector()
    assert (made["status"], made["type_status"], made["system"]) == (
        "success",
        "Test: success",
        False,
    )
    assert made["parameters"] == {"endpoint": "https://s3.cloud.ru", "bucket": "my-bucket"}
    assert made["workspace_id"] is None and made["created"] == START
    got = api.call("GET", f"v3/connectors/s3custom/{made['connector_id']}")
    assert got == made
    assert made in api.connectors()
    api.call("GET", f"v3/connectors/s3amazon/{made['connector_id']}", status=404)
    sql = api.connector("postgresql")
    assert sql["parameters"] == {
        "host": "db.example.com",
        "port": 5432,
        "user": "u",
        "database": "d",
    }


def test_public_connector_is_shared_with_the_workspace(api: Api) -> None:
    body = {"name": "shared", "source_type": "s3amazon", "parameters": S3, "workspace_id": WS_A}
    assert api.call("POST", "v3/connectors", body)["workspace_id"] == WS_A
    body["workspace_id"] = WS_B
    err = api.call("POST", "v3/connectors", body, status=422)
    assert err["detail"][0]["loc"] == ["body", "workspace_id"]


def test_connection_test_fails_on_unusable_parameters_and_logs_why(api: Api) -> None:
    bad = api.connector(endpoint="", bucket="Not_A_Bucket")
    assert (bad["status"], bad["type_status"]) == ("failed", "Test: failed")
    path = f"v3/connectors/s3custom/{bad['connector_id']}"
    tried = api.call("POST", f"{path}/try")  # no body at all, answered with an object
    assert tried["status"] == "failed"
    logs = api.call("GET", f"{path}/try/logs")
    assert logs["status"] == "failed" and logs["logs"][-1] == "Connection test failed"
    assert any("endpoint" in line for line in logs["logs"])
    assert any("bucket name 'Not_A_Bucket'" in line for line in logs["logs"])
    fixed = api.call("POST", path, {"name": "fixed", "parameters": S3})
    assert (fixed["name"], fixed["status"]) == ("fixed", "success")
    assert api.call("GET", f"{path}/try/logs")["logs"][-1] == "Connection test passed"
    assert api.connector("postgresql", host="no such host")["status"] == "failed"


def test_create_connector_rejects_bad_bodies_with_fastapi_422s(api: Api) -> None:
    missing = api.call(
        "POST", "v3/connectors", {"name": "x", "source_type": "mysql", "parameters": {}}, status=422
    )
    assert {tuple(e["loc"]) for e in missing["detail"]} == {
        ("body", "parameters", k) for k in ("host", "port", "user", "database", "password")
    }
    system_type = {"name": "x", "source_type": "nfs", "parameters": S3}
    err = api.call("POST", "v3/connectors", system_type, status=422)
    assert err["detail"][0]["type"] == "enum"
    assert api.call("POST", "v3/connectors", {}, status=422)["detail"][0]["type"] == "missing"


def test_update_keeps_what_is_null_and_system_connectors_are_read_only(api: Api) -> None:
    made = api.connector()
    path = f"v3/connectors/s3custom/{made['connector_id']}"
    kept = api.call("POST", path, {"name": None, "favorite": True})
    assert (kept["name"], kept["favorite"], kept["parameters"]) == (
        made["name"],
        True,
        made["parameters"],
    )
    api.call("POST", path, {"parameters": S3}, status=422)  # name is required (may be null)
    bucket = api.system("s3mlspace")
    api.call("POST", f"v3/connectors/s3mlspace/{bucket['connector_id']}/halt", status=403)
    assert api.call("POST", f"v3/connectors/s3mlspace/{bucket['connector_id']}/try")["system"]


def test_halt_deactivates_the_connector_and_every_rule_using_it(api: Api) -> None:
    src = api.connector()
    rule = api.transfer(connector_id=src["connector_id"], crontab={"start_at": START, "period": 1})
    other = api.transfer()
    halted = api.call("POST", f"v3/connectors/s3custom/{src['connector_id']}/halt")
    assert (halted["status"], halted["type_status"]) == ("inactive", "Halt: success")
    active = {t["transfer_id"]: t["active"] for t in api.call("GET", "v4/transfer")}
    assert active == {rule["transfer_id"]: False, other["transfer_id"]: True}
    api.world.advance(3 * 3600)
    assert len(api.history(f"?transfer_id={rule['transfer_id']}")) == 1  # only the first run


def test_delete_connectors_answers_what_it_deleted(api: Api) -> None:
    a, b = api.connector()["connector_id"], api.connector()["connector_id"]
    unknown = "33333333-3333-4333-8333-333333333333"
    gone = api.call("DELETE", f"v2/connectors?ids={a}&ids={WS_A}&ids={unknown}&ids={b}")
    assert gone == [a, b]  # the nfs system connector (id = workspace id) stays
    assert [c["source_type"] for c in api.connectors()] == ["s3mlspace", "nfs"]
    assert api.call("DELETE", "v2/connectors?ids=nope", status=422)["detail"][0]["loc"] == [
        "query",
        "ids",
        0,
    ]
    api.call("DELETE", "v2/connectors", status=422)


# ---- transfer rules ---------------------------------------------------------------------------
def test_create_returns_the_rule_with_a_five_key_crontab(api: Api) -> None:
    body = api.rule(source=["data/", "model.pt"], description="nightly")
    body["crontab"] = {"start_at": "2025-02-26T10:00:00", "unknown": 1}
    made = api.call("POST", "v5/transfer", body)
    assert made["crontab"] == {
        "start_at": START,
        "time": None,
        "weekdays": None,
        "monthdays": None,
        "period": None,
    }
    assert (made["source_category"], made["destination_source_category"]) == (
        "s3custom",
        "s3mlspace",
    )
    assert (made["active"], made["system"], made["description"]) == (True, False, "nightly")
    assert made["query"] == {"source": ["data/", "model.pt"], "destination": "/in"}
    assert made["execution_date"] == START  # a one-shot rule runs at once
    assert api.call("GET", "v4/transfer") == [made]
    assert api.call("GET", f"v4/transfer/{made['transfer_id']}") == made
    api.call("GET", "v4/transfer/33333333-3333-4333-8333-333333333333", status=404)


def test_create_validates_the_body_like_the_platform(api: Api) -> None:
    body = api.rule()
    assert api.call("POST", "v5/transfer", {**body, "cluster_name": "sr006->sr005"})
    bad = {
        **body,
        "name": None,
        "strategy": "copy",
        "cluster_name": "sr006->sr006",
        "connector_id": "not-a-uuid",
        "extra": 1,
        "crontab": {"start_at": "soon", "time": "25:00", "weekdays": [8]},
    }
    del bad["favorite"]
    errors = api.call("POST", "v5/transfer", bad, status=422)["detail"]
    by_loc = {tuple(e["loc"]): e["type"] for e in errors}
    assert by_loc == {
        ("body", "name"): "string_type",
        ("body", "strategy"): "enum",
        ("body", "favorite"): "missing",
        ("body", "extra"): "extra_forbidden",
        ("body", "connector_id"): "uuid_parsing",
        ("body", "cluster_name"): "enum",
        ("body", "crontab", "start_at"): "datetime_parsing",
        ("body", "crontab", "time"): "string_pattern_mismatch",
        ("body", "crontab", "weekdays", 0): "less_than_equal",
    }


def test_create_needs_this_workspaces_connectors_of_the_named_types(api: Api) -> None:
    body = api.rule()
    unknown = "33333333-3333-4333-8333-333333333333"
    api.call("POST", "v5/transfer", {**body, "connector_id": unknown}, status=404)
    err = api.call("POST", "v5/transfer", {**body, "connector_type": "s3amazon"}, status=422)
    assert err["detail"][0]["loc"] == ["body", "connector_type"]


def test_update_replaces_the_rule_and_restarts_the_schedule(api: Api) -> None:
    made = api.transfer(crontab={"start_at": START, "period": 6})
    api.world.advance(60)
    body = api.rule(name="renamed", strategy="sync_all", crontab={"start_at": START, "period": 1})
    updated = api.call("POST", f"v5/transfer/{made['transfer_id']}", body)
    assert (updated["name"], updated["strategy"], updated["crontab"]["period"]) == (
        "renamed",
        "sync_all",
        1,
    )
    assert updated["modified"] != updated["created"]
    api.world.advance(3600)
    runs = {h["execution_date"] for h in api.history(f"?transfer_id={made['transfer_id']}")}
    assert runs == {START, "2025-02-26T11:00:00Z"}
    api.call("POST", f"v5/transfer/{made['transfer_id']}", api.rule(crontab=None))  # one-shot
    api.world.advance(3 * 3600)
    assert len(api.history(f"?transfer_id={made['transfer_id']}")) == 2  # no more runs
    api.call("POST", "v5/transfer/33333333-3333-4333-8333-333333333333", body, status=404)


def test_switch_stops_new_runs_and_resumes_without_replaying_missed_ones(api: Api) -> None:
    tid = api.transfer(crontab={"start_at": START, "period": 1})["transfer_id"]
    off = api.call("POST", f"v4/transfer/{tid}/switch", {"active": False})
    assert off["active"] is False
    api.world.advance(4.5 * 3600)
    assert len(api.history(f"?transfer_id={tid}")) == 1
    on = api.call("POST", f"v4/transfer/{tid}/switch", {"active": True})  # at 14:30
    assert on["active"] is True
    api.world.advance(3600)
    dates = sorted(h["execution_date"] for h in api.history(f"?transfer_id={tid}"))
    assert dates == [START, "2025-02-26T15:00:00Z"]
    api.call("POST", f"v4/transfer/{tid}/switch", {}, status=422)


def test_delete_transfers_answers_what_it_deleted_and_drops_their_history(api: Api) -> None:
    a, b = api.transfer()["transfer_id"], api.transfer()["transfer_id"]
    assert api.call("DELETE", f"v2/transfer?ids={a}&ids={a}") == [a]
    assert [t["transfer_id"] for t in api.call("GET", "v4/transfer")] == [b]
    assert {h["transfer_id"] for h in api.history()} == {b}


# ---- runs -------------------------------------------------------------------------------------
def test_one_shot_transfer_progresses_with_virtual_time_and_succeeds(api: Api) -> None:
    tid = api.transfer(source=["data/", "weights.bin"])["transfer_id"]
    rows = api.history(f"?transfer_id={tid}")
    assert [(r["source"], r["source_type"], r["status"], r["progress"]) for r in rows] == [
        ("data/", "folder", "in_progress", 0),
        ("weights.bin", "file", "in_progress", 0),
    ]
    folder = rows[0]
    assert (folder["source_name"], folder["destination"], folder["date_to"]) == (
        "data",
        "/in",
        None,
    )
    assert folder["size_bytes"] > 0 and folder["size"].endswith("B")
    assert (folder["transfer_name"], folder["destination_connector_name"]) == ("rule", "s3mlspace")
    api.world.advance(2)
    assert all(r["status"] == "in_progress" for r in api.history(f"?transfer_id={tid}"))
    api.world.advance(MAX_RUN_S)
    done = api.history(f"?transfer_id={tid}")
    assert [(r["status"], r["progress"]) for r in done] == [("success", 100)] * 2
    for row in done:
        took = epoch(row["date_to"]) - epoch(row["date_from"])
        assert 2 <= took <= MAX_RUN_S
    events = api.events(f"transfer_id={tid}&history_id={folder['history_id']}")
    assert [(e["event_type"], e["event_category"], e["last_log"]) for e in events] == [
        (400, 3, f"Start transfer, objects found: {events[0]['event_count']}"),
        (100, 1, "File transfer success"),
    ]
    assert events[1]["event_count"] == events[0]["event_count"]  # every object copied


def test_runs_are_deterministic_per_seed_and_size_dependent(app: Any) -> None:
    def run(seed: int) -> list[tuple[int, float]]:
        api = Api(reset(app, seed), WS_A, "key-a")
        api.transfer(source=["a/", "b/", "c/", "d.bin"])
        api.world.advance(MAX_RUN_S)
        return [
            (r["size_bytes"], epoch(r["date_to"]) - epoch(r["date_from"])) for r in api.history()
        ]

    first = run(0)
    assert run(0) == first and run(1) != first
    biggest, smallest = max(first), min(first)
    assert biggest[1] > smallest[1]  # more data takes longer


def test_periodic_rule_runs_every_period_from_start_at(api: Api) -> None:
    start = "2025-02-26T11:00:00Z"
    made = api.transfer(strategy="append_new", crontab={"start_at": start, "period": 2})
    tid = made["transfer_id"]
    assert made["execution_date"] is None
    api.world.advance(3599)
    assert api.history(f"?transfer_id={tid}") == []
    api.world.advance(1 + 2 * 3600 + MAX_RUN_S)
    rows = api.history(f"?transfer_id={tid}")
    assert [r["execution_date"] for r in rows] == ["2025-02-26T13:00:00Z", start]  # newest first
    again, first = rows
    assert first["size_bytes"] > 0 and again["size_bytes"] == 0  # append_new: nothing new
    assert api.call("GET", f"v4/transfer/{tid}")["execution_date"] == "2025-02-26T13:00:00Z"
    logs = api.events(f"history_id={again['history_id']}&as_enum_resolved=true")
    assert [(e["event_type"], e["event_category"]) for e in logs][-1] == ("EmptySource", "Error")
    assert logs[-1]["last_log"] == "there was nothing to transfer"


def test_calendar_schedules_fall_on_their_day_and_time() -> None:
    wed = int(epoch("2025-02-26T10:00:00Z"))  # a Wednesday
    monday = Schedule(start_at=wed, time="08:30", weekdays=(1,))
    assert monday.next_at(wed) == epoch("2025-03-03T08:30:00Z")
    daily = Schedule(start_at=wed, time="12:00")
    assert daily.next_at(wed) == epoch("2025-02-26T12:00:00Z")
    assert daily.next_at(epoch("2025-02-26T12:00:01Z")) == epoch("2025-02-27T12:00:00Z")
    on_31st = Schedule.from_json({"monthdays": [31]}, wed)  # at start_at's time of day
    assert on_31st.time == "10:00"
    assert on_31st.next_at(wed) == epoch("2025-03-31T10:00:00Z")
    assert Schedule(start_at=wed).next_at(wed) is None  # one-shot


def test_weekday_rule_first_runs_on_that_weekday(api: Api) -> None:
    tid = api.transfer(crontab={"start_at": START, "time": "09:00", "weekdays": [5]})["transfer_id"]
    api.world.advance(2 * 86400)
    assert api.history(f"?transfer_id={tid}")[0]["execution_date"] == "2025-02-28T09:00:00Z"


def test_cancel_stops_a_running_transfer(api: Api) -> None:
    tid = api.transfer(source=["a/", "b/"])["transfer_id"]
    api.world.advance(1)
    cancel = {"transfer_id": tid, "execution_date": "2025-02-26T10:00:00"}
    assert api.call("POST", "v2/history/cancel", cancel) == {"status": "cancelled"}
    api.world.advance(MAX_RUN_S)
    rows = api.history(f"?transfer_id={tid}")
    assert {r["status"] for r in rows} == {"cancelled"}
    assert all(r["progress"] < 100 and r["date_to"] == "2025-02-26T10:00:01Z" for r in rows)
    last = api.events(f"history_id={rows[0]['history_id']}")[-1]
    assert last["last_log"] == "Transfer cancelled by user"
    assert api.call("POST", "v2/history/cancel", cancel) == {"status": "cancelled"}
    api.call(
        "POST", "v2/history/cancel", {**cancel, "execution_date": "2025-02-26T11:00:00"}, status=404
    )
    api.call("POST", "v2/history/cancel", {"transfer_id": tid}, status=422)


def test_cancel_after_the_run_finished_changes_nothing(api: Api) -> None:
    tid = api.transfer()["transfer_id"]
    api.world.advance(MAX_RUN_S)
    body = {"transfer_id": tid, "execution_date": START}
    assert api.call("POST", "v2/history/cancel", body) == {"status": "success"}


def test_a_run_fails_when_its_connector_is_gone(api: Api) -> None:
    src = api.connector()["connector_id"]
    tid = api.transfer(connector_id=src, crontab={"start_at": START, "period": 1})["transfer_id"]
    api.call("DELETE", f"v2/connectors?ids={src}")
    api.world.advance(3600)
    failed = api.history(f"?transfer_id={tid}")[0]
    assert (failed["status"], failed["progress"], failed["size"]) == ("failed", 0, None)
    [event] = api.events(f"history_id={failed['history_id']}")
    assert (event["event_type"], event["event_category"]) == (304, 2)
    assert event["last_log"] == f"Source connector {src} not found"
    untested = api.connector(bucket="x")["connector_id"]  # fails its connection test
    tid = api.transfer(connector_id=untested)["transfer_id"]
    [row] = api.history(f"?transfer_id={tid}")
    assert row["status"] == "failed"
    [event] = api.events(f"history_id={row['history_id']}")
    assert event["last_log"] == "Source connector 'my-s3custom' is not active (status: failed)"


def test_events_filter_by_type_and_need_a_rule_or_history_id(api: Api) -> None:
    tid = api.transfer(source=["a/", "b/"])["transfer_id"]
    api.world.advance(MAX_RUN_S)
    assert len(api.events(f"transfer_id={tid}")) == 4
    copied = api.events(f"transfer_id={tid}&event_type=100&event_category=1")
    assert len(copied) == 2 and {e["last_log"] for e in copied} == {"File transfer success"}
    page = api.call("GET", f"v2/events/list?offset=3&limit=10&transfer_id={tid}")
    assert (page["count"], len(page["items"])) == (4, 1)
    api.call("GET", "v2/events/list?offset=0&limit=100", status=422)
    api.call("GET", "v2/events/list?offset=0&limit=100&transfer_id=x", status=422)


def test_history_filters_by_source_name_and_pages(api: Api) -> None:
    api.transfer(source=["a/", "b/", "c/x.csv"])
    api.transfer(source="a/")
    assert len(api.history()) == 4
    assert [r["source"] for r in api.history("?source_name=a")] == ["a/", "a/"]
    assert [r["source_name"] for r in api.history("?source_name=x.csv")] == ["x.csv"]
    page = api.call("GET", "v3/history?page=2&page_size=3")
    assert (page["total_count"], len(page["data"])) == (4, 1)


def test_sql_sources_are_queries_with_row_counts(api: Api) -> None:
    src = api.connector("postgresql")["connector_id"]
    tid = api.transfer(
        connector_id=src, connector_type="postgresql", source="select * from events"
    )["transfer_id"]
    [row] = api.history(f"?transfer_id={tid}")
    assert (row["source_type"], row["source_connector_name"]) == ("query", "my-postgresql")
    assert row["rows_count"] > 0 and row["size_bytes"] > row["rows_count"]


# ---- isolation --------------------------------------------------------------------------------
def test_a_workspace_never_sees_or_touches_anothers_records(app: Any) -> None:
    a, b = Api(app, WS_A, "key-a"), Api(app, WS_B, "key-b")
    conn = a.connector()
    cid = conn["connector_id"]
    tid = a.transfer(connector_id=cid)["transfer_id"]
    assert cid not in {c["connector_id"] for c in b.connectors()}
    assert WS_A not in {c["connector_id"] for c in b.connectors()}
    for method, path in (
        ("GET", f"v3/connectors/s3custom/{cid}"),
        ("POST", f"v3/connectors/s3custom/{cid}/try"),
        ("GET", f"v3/connectors/s3custom/{cid}/try/logs"),
        ("POST", f"v3/connectors/s3custom/{cid}/halt"),
        ("GET", f"v4/transfer/{tid}"),
    ):
        b.call(method, path, status=404)
    b.call("POST", f"v3/connectors/s3custom/{cid}", {"name": "mine"}, status=404)
    b.call("POST", f"v4/transfer/{tid}/switch", {"active": False}, status=404)
    b.call("POST", f"v5/transfer/{tid}", b.rule(), status=404)
    b.call("POST", "v2/history/cancel", {"transfer_id": tid, "execution_date": START}, status=404)
    b.call("POST", "v5/transfer", b.rule(connector_id=cid), status=404)
    assert b.call("DELETE", f"v2/connectors?ids={cid}") == []
    assert b.call("DELETE", f"v2/transfer?ids={tid}") == []
    assert b.call("GET", "v4/transfer") == []
    assert b.history() == [] and b.events(f"transfer_id={tid}") == []
    assert a.call("GET", f"v4/transfer/{tid}")["active"] is True
    assert a.call("GET", f"v3/connectors/s3custom/{cid}")["name"] == conn["name"]
