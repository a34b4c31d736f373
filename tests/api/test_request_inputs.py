"""Input no operation may see is refused before the engine acts (issue 11: items 1, 7, 8, 10):
lone surrogates and oversized strings with a 422 naming the field, deep JSON with a 422, a
workspace id that is not a UUID, oversized headers; 204s without a content type, 405s with Allow.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mock_server import create_app
from mock_server.auth import namespace_for
from mock_server.operations import OPERATIONS

API = "/public/v2"
WS = "11111111-1111-4111-8111-111111111111"
SURROGATE = "\\ud800"  # as JSON text: a lone surrogate, legal JSON, not encodable
IMAGE = {"name": "cr.ai.cloud.ru/aicloud-jupyter/jupyter-server", "tag": "1", "type": "datahub"}
NOTEBOOK = {"name": "nb", "image": IMAGE, "instance_type": "v100.1gpu", "region": "DGX2-MT"}
JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "cr.ai.cloud.ru/aicloud-base-images/img",
    "instance_type": "a100plus.1gpu.80vG.12C.96G",
    "region": "SR006",
}
BODY_OPERATIONS = [op for op in OPERATIONS if op.handler and op.method != "GET"]


@pytest.fixture
def app() -> Flask:
    return create_app(seed=0)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _headers(client: FlaskClient, ws: str = WS) -> dict[str, str]:
    r = client.post(f"{API}/service_auth", json={"client_id": "k", "client_secret": "s"})
    token = r.get_json()["token"]["access_token"]
    return {"authorization": token, "x-workspace-id": ws, "x-api-key": "key"}


def _post_raw(client: FlaskClient, path: str, text: str, headers: dict[str, str]) -> Any:
    return client.post(
        path, data=text.encode(), headers={**headers, "Content-Type": "application/json"}
    )


def _with_surrogate(body: dict[str, Any], key: str) -> str:
    text = json.dumps({**body, key: "PLACEHOLDER"})
    return text.replace('"PLACEHOLDER"', f'"{SURROGATE}"')


def _problems(op: Any, r: Any) -> list[str]:
    """``loc: msg`` of each refused input, in whichever 422 shape the operation answers."""
    body = r.get_json()
    if op.invalid == "fastapi":
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in body["detail"]]
    assert body["code"] == 4, body  # the notebooks module's UnprocessableCreationErrorPayload
    return body["message"].split("; ")


def _concrete(path: str) -> str:
    return API + path.replace("{namespace}", namespace_for(WS)).replace("{", "x").replace("}", "")


def test_server_with_a_surrogate_allocation_is_refused_and_never_created(app: Flask) -> None:
    client = app.test_client()
    headers = _headers(client)
    path = f"{API}/notebooks/v2/{namespace_for(WS)}/notebook"
    r = _post_raw(client, path, _with_surrogate(NOTEBOOK, "allocation_name"), headers)
    assert r.status_code == 422
    assert r.get_json()["message"].startswith("body.allocation_name: Input should be a valid str")
    assert app.extensions["mlspace_sim"].world.list_notebooks(WS) == []
    listed = client.get(f"{API}/notebooks/v2/notebooks", headers=headers).get_json()
    assert listed["total"] == 0


@pytest.mark.parametrize("field", ["queue_name", "allocation_name", "job_desc"])
def test_job_with_a_surrogate_is_refused_and_the_list_stays_readable(
    client: FlaskClient, field: str
) -> None:
    headers = _headers(client)
    r = _post_raw(client, f"{API}/jobs", _with_surrogate(JOB, field), headers)
    assert r.status_code == 422
    assert r.get_json()["detail"][0]["loc"] == ["body", field]
    listed = client.get(f"{API}/jobs?region=SR006", headers=headers)
    assert listed.status_code == 200 and listed.get_json()["count"] == 0


@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
def test_every_body_operation_refuses_a_surrogate_key_and_value_naming_them(
    client: FlaskClient, op: Any
) -> None:
    headers = _headers(client)
    text = f'{{"name": "{SURROGATE}", "{SURROGATE}": 1}}'
    r = client.open(
        _concrete(op.path), method=op.method, data=text.encode(),
        headers={**headers, "Content-Type": "application/json"},
    )  # fmt: skip
    assert r.status_code == 422, r.get_data(as_text=True)
    locs = [problem.split(": ")[0] for problem in _problems(op, r)]
    assert "body.name" in locs and len(locs) == 2


@pytest.mark.parametrize("op", BODY_OPERATIONS, ids=lambda op: f"{op.method} {op.path}")
@pytest.mark.parametrize("depth", [100, 1000, 5000])
def test_every_body_operation_refuses_deep_json_with_a_422(
    client: FlaskClient, op: Any, depth: int
) -> None:
    headers = _headers(client)
    text = "[" * depth + "]" * depth
    r = client.open(
        _concrete(op.path), method=op.method, data=text.encode(),
        headers={**headers, "Content-Type": "application/json"},
    )  # fmt: skip
    assert r.status_code == 422
    assert _problems(op, r) == ["body: JSON decode error"]


def test_query_values_that_are_not_utf8_are_refused_naming_the_parameter(
    client: FlaskClient,
) -> None:
    headers = _headers(client)
    r = client.get(f"{API}/jobs?region=%ED%A0%80", headers=headers)
    assert r.status_code == 422
    assert r.get_json()["detail"][0]["loc"] == ["query", "region"]


def test_a_megabyte_job_description_is_refused_as_too_long(client: FlaskClient) -> None:
    headers = _headers(client)
    r = client.post(f"{API}/jobs", json={**JOB, "job_desc": "x" * 1_000_000}, headers=headers)
    assert r.status_code == 422
    error = r.get_json()["detail"][0]
    assert (error["type"], error["loc"]) == ("string_too_long", ["body", "job_desc"])
    assert client.get(f"{API}/jobs?region=SR006", headers=headers).get_json()["count"] == 0


def test_workspace_id_must_be_a_uuid(app: Flask) -> None:
    client = app.test_client()
    for bad in ("team-a", "x" * 2000):
        r = client.get(f"{API}/jobs?region=SR006", headers=_headers(client, bad))
        assert r.status_code == 422
        assert r.get_json()["detail"][0]["loc"] == ["header", "x-workspace-id"]
    assert client.get(f"{API}/jobs?region=SR006", headers=_headers(client)).status_code == 200
    assert list(app.extensions["mlspace_sim"].auth.workspaces) == [WS]


def test_oversized_headers_get_431_in_the_platform_shape(client: FlaskClient) -> None:
    headers = {**_headers(client), "x-workspace-id": "1" * 200_000}
    r = client.get(f"{API}/jobs?region=SR006", headers=headers)
    assert r.status_code == 431
    assert r.get_json()["error_code"] == 431


def test_no_content_answers_carry_no_content_type(client: FlaskClient) -> None:
    headers = _headers(client)
    r = client.delete(f"{API}/notebooks/v1/autoshutdown-rules/workspace/{WS}", headers=headers)
    assert r.status_code == 204
    assert "Content-Type" not in r.headers


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/_mock/clock/advance"), ("DELETE", f"{API}/service_auth")]
)
def test_every_405_says_which_methods_are_allowed(
    client: FlaskClient, method: str, path: str
) -> None:
    r = client.open(path, method=method)
    assert r.status_code == 405
    assert "POST" in r.headers["Allow"]
