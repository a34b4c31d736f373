"""/_mock/faults also sets the engine's faults: node failures, preemption, slow pulls."""

from __future__ import annotations

from mock_server import create_app

JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "img",
    "region": "SR006",
    "instance_type": "a100plus.8gpu.80vG.96C.1952G",
    "env_variables": {"MLSPACE_SIM_RUNTIME_S": "3600"},
}


def _client():
    app = create_app(start_epoch=1_740_564_000, config_path=None)
    client = app.test_client()
    token = client.post(
        "/public/v2/service_auth", json={"client_id": "a", "client_secret": "b"}
    ).json["token"]
    ws = "33333333-3333-4333-8333-333333333333"
    headers = {"authorization": token["access_token"], "x-api-key": "k", "x-workspace-id": ws}
    return app, client, headers


def test_engine_fault_sections_are_shown_merged_and_cleared() -> None:
    _, client, _ = _client()
    shown = client.get("/_mock/faults").json
    assert shown["preemption"]["enabled"] is False and shown["rules"] == []
    r = client.post(
        "/_mock/faults", json={"preemption": {"enabled": True}, "slow_pulls": {"probability": 0.5}}
    )
    assert r.status_code == 200
    assert r.json["preemption"]["enabled"] is True and r.json["slow_pulls"]["probability"] == 0.5
    cleared = client.delete("/_mock/faults").json
    assert cleared["preemption"]["enabled"] is False
    assert cleared["slow_pulls"]["probability"] == 0.0


def test_a_bad_engine_setting_is_a_422_and_changes_nothing() -> None:
    _, client, _ = _client()
    r = client.put("/_mock/faults", json={"slow_pulls": {"probability": 2}})
    assert r.status_code == 422 and r.headers["Content-Type"] == "application/json"
    assert r.json["detail"][0]["loc"][:2] == ["body", "slow_pulls"]
    assert client.get("/_mock/faults").json["slow_pulls"]["probability"] == 0.0


def test_admin_bodies_answer_pydantics_own_422_records() -> None:
    """FastAPI's shape: type, loc under "body", msg, input (and ctx for a bound)."""
    _, client, _ = _client()
    r = client.put("/_mock/faults", json={"slow_pulls": {"probability": 2}})
    (item,) = r.json["detail"]
    assert item["type"] == "less_than_equal" and item["ctx"] == {"le": 1.0}
    assert item["loc"] == ["body", "slow_pulls", "probability"] and item["input"] == 2
    r = client.put("/_mock/faults", json={"slow_pull": {"probability": 0.5}})
    assert r.status_code == 422
    assert r.json["detail"][0]["type"] == "extra_forbidden"
    assert r.json["detail"][0]["loc"] == ["body", "slow_pull"]
    r = client.post("/_mock/clock/advance", json={"seconds": "10"})
    assert r.status_code == 422
    assert r.json["detail"] == [
        {
            "type": "float_type",
            "loc": ["body", "seconds"],
            "msg": "Input should be a valid number",
            "input": "10",
        }
    ]
    r = client.post("/_mock/reset", json={"seed": 1, "sead": 2})
    assert r.status_code == 422 and r.json["detail"][0]["loc"] == ["body", "sead"]


def test_preemption_switched_on_at_run_time_terminates_the_lower_class(monkeypatch) -> None:
    app, client, headers = _client()
    world = app.extensions["mlspace_sim"].world
    low = [
        client.post(
            "/public/v2/jobs",
            json={**JOB, "n_workers": 125, "priority_class": "low"},
            headers=headers,
        ).json["job_name"]
    ]
    world.advance(60)
    high = client.post(
        "/public/v2/jobs", json={**JOB, "priority_class": "high"}, headers=headers
    ).json["job_name"]
    assert client.get(f"/public/v2/jobs/{high}", headers=headers).json["status"] == "pending"
    client.post("/_mock/faults", json={"preemption": {"enabled": True}})
    world.advance(60)
    assert client.get(f"/public/v2/jobs/{low[0]}", headers=headers).json["status"] == "terminated"
    preemptors = client.get(f"/public/v2/jobs/{low[0]}/preemptors", headers=headers).json
    assert [p["name"] for p in preemptors["preemptors"]] == [high]
