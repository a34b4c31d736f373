"""Our OpenAPI document describes exactly what the server implements, plus the admin API."""

from __future__ import annotations

from openapi_spec_validator import validate

from mock_server import create_app
from tests.support.openapi import operation


def _document() -> dict:
    app = create_app(start_epoch=1_740_564_000)
    response = app.test_client().get("/public/v2/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return response.json


def test_document_is_valid_openapi_without_credentials() -> None:
    validate(_document())


# Used by the official public-API notebook but absent from the spec (api-contract.md, Appendix A).
NOTEBOOK_ONLY = {
    "/public/v2/openapi.json",
    "/public/v2/configs/spark",
    "/public/v2/s3/credentials",
    "/public/v2/data_transfer/v2/transfer/aicloud-logs/{transfer_id}",
}


def test_every_public_operation_of_ours_is_an_operation_of_the_official_spec() -> None:
    ours = _document()["paths"]
    for path, item in ours.items():
        if not path.startswith("/public/v2/") or path in NOTEBOOK_ONLY:
            continue
        for method in item:
            concrete = path.removeprefix("/public/v2").replace("{", "x").replace("}", "")
            operation(method.upper(), concrete)  # raises if the platform has no such operation


def test_admin_api_is_documented_with_its_request_bodies() -> None:
    paths = _document()["paths"]
    advance = paths["/_mock/clock/advance"]["post"]["requestBody"]["content"]
    assert advance["application/json"]["schema"]["required"] == ["seconds"]
    for path in (
        "/_mock/reset",
        "/_mock/clock",
        "/_mock/pools",
        "/_mock/billing",
        "/_mock/clock/run-until-idle",
    ):
        assert path in paths


def test_job_submission_schema_forbids_unknown_fields() -> None:
    body = _document()["paths"]["/public/v2/jobs"]["post"]["requestBody"]["content"]
    schema = body["application/json"]["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"script", "base_image", "instance_type"}


def _body(operation: dict) -> dict:
    return operation["requestBody"]["content"]["application/json"]["schema"]


def test_data_transfer_bodies_and_queries_are_the_models_the_views_validate_with() -> None:
    paths = _document()["paths"]
    dts = "/public/v2/data_transfer"
    v5, v4 = _body(paths[f"{dts}/v5/transfer"]["post"]), _body(paths[f"{dts}/v4/transfer"]["post"])
    assert v5["additionalProperties"] is False and "legacy" not in v5["properties"]
    assert "additionalProperties" not in v4 and "legacy" in v4["properties"]
    assert "connector_type" not in _body(paths[f"{dts}/v2/transfer"]["post"])["properties"]
    assert _body(paths[f"{dts}/v2/history/{{id_}}/fav"]["post"])["type"] == "boolean"
    copy = _body(paths[f"{dts}/v1/transfers/s3_to_nfs"]["post"])
    assert "to_region" in copy["required"] and "from_region" not in copy["properties"]
    events = {p["name"] for p in paths[f"{dts}/v2/events/list"]["get"]["parameters"]}
    assert {"transfer_id", "history_id", "offset", "limit", "as_enum_resolved"} <= events
    (ids,) = paths[f"{dts}/v2/transfer"]["delete"]["parameters"]
    assert (ids["name"], ids["required"]) == ("ids", True)
