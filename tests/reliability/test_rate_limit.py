"""Rate limits as on the platform: off by default, 429 past a limit, ``limiter/`` reports usage."""

from __future__ import annotations

from typing import Any

import pytest

from tests.reliability.support import auth_headers, make_app
from tests.support.openapi import validate_response

OTHER_WS = "22222222-2222-4222-8222-222222222222"
LIMITS = {
    "enabled": True,
    "clock": "virtual",
    "limits": [
        {"method": "GET", "endpoint": "jobs", "limit": "3 per 1 minute"},
        {"endpoint": "**", "limit": "1000/minute"},
    ],
}


def list_jobs(client: Any, headers: dict[str, str]) -> Any:
    return client.get("/public/v2/jobs?region=SR006", headers=headers)


def limiter(client: Any, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get("/public/v2/limiter/", headers=headers)
    assert r.status_code == 200
    validate_response("GET", "/limiter/", 200, r.json)
    return r.json


def test_off_by_default() -> None:
    client = make_app().test_client()
    headers = auth_headers(client)
    assert all(list_jobs(client, headers).status_code == 200 for _ in range(50))
    assert limiter(client, headers) == []


def test_past_the_limit_the_platform_429_until_the_window_ends() -> None:
    app = make_app({"rate_limits": LIMITS})
    client = app.test_client()
    headers = auth_headers(client)

    assert [list_jobs(client, headers).status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = list_jobs(client, headers)
    assert refused.json == {
        "error_code": 429,
        "error_message": "Rate limit exceeded: 3 per 1 minute",
    }
    assert "Retry-After" not in refused.headers
    validate_response("GET", "/jobs", 429, refused.json)
    assert client.get("/public/v2/jobs/lm-mpi-job-x", headers=headers).status_code == 200

    client.post("/_mock/clock/advance", json={"seconds": 59})
    assert list_jobs(client, headers).status_code == 429
    client.post("/_mock/clock/advance", json={"seconds": 1})
    assert list_jobs(client, headers).status_code == 200


def test_limiter_reports_usage_per_workspace() -> None:
    client = make_app({"rate_limits": LIMITS}).test_client()
    headers = auth_headers(client)
    for _ in range(5):
        list_jobs(client, headers)
    client.post("/_mock/clock/advance", json={"seconds": 20})

    jobs, everything = limiter(client, headers)

    assert jobs == {
        "amount": 3,
        "endpoint": "/public/v2/jobs",
        "expire_ttl": 40,
        "limit": "3 per 1 minute",
        "method": "GET",
        "period": "minute",
        "usage": 3,  # refused requests are not counted
    }
    assert (everything["limit"], everything["method"], everything["usage"]) == (
        "1000 per 1 minute",
        "*",
        3,
    )
    other = auth_headers(client, OTHER_WS)
    assert [item["usage"] for item in limiter(client, other)] == [0, 0]
    assert list_jobs(client, other).status_code == 200
    assert limiter(client, headers)[0]["usage"] == 3  # reading usage does not use it up


def test_reset_empties_every_window() -> None:
    client = make_app({"rate_limits": LIMITS}).test_client()
    headers = auth_headers(client)
    for _ in range(3):
        list_jobs(client, headers)
    client.post("/_mock/reset", json={})
    assert list_jobs(client, headers).status_code == 200


def test_wall_clock_windows_ignore_virtual_time_and_retry_after_is_optional() -> None:
    config = {**LIMITS, "clock": "wall", "retry_after": True}
    client = make_app({"rate_limits": config}).test_client()
    headers = auth_headers(client)
    for _ in range(3):
        list_jobs(client, headers)
    client.post("/_mock/clock/advance", json={"seconds": 3600})

    refused = list_jobs(client, headers)

    assert refused.status_code == 429
    assert 55 <= int(refused.headers["Retry-After"]) <= 60


@pytest.mark.parametrize(
    "bad",
    [
        {"enabled": True, "clock": "sundial"},
        {"enabled": True, "limits": [{"limit": "lots per minute"}]},
        {"enabled": True, "limits": [{"limit": "0 per minute"}]},
        {"enabled": True, "limits": [{"method": "FETCH"}]},
        {"enabled": True, "limits": [{"endpoint": "jobs", "per": "minute"}]},
        {"enabled": True, "limits": {"endpoint": "jobs"}},
    ],
)
def test_a_bad_limit_stops_the_server_from_starting(bad: dict) -> None:
    with pytest.raises(ValueError, match="rate_limits"):
        make_app({"rate_limits": bad})
