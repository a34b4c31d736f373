"""AI Services over HTTP: an artifact goes on moderation when created, a moderator publishes or
rejects it, a change sends it back; others see only published artifacts; every answer validates
against the official spec and bad input changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.public_api import PublicApi

WS_A = "11111111-1111-4111-8111-111111111111"
WS_B = "22222222-2222-4222-8222-222222222222"
MISSING = "99999999-9999-4999-8999-999999999999"
MODEL = {
    "name": "Llama Chat 7B",
    "author": "lab",
    "kind": "model",
    "description": "chat model",
    "tags": {"task": "chat", "language": "ru"},
    "size": 13.5,
}


class Api(PublicApi):
    """One workspace's client; the spec documents no 404s here, so 200s and 422s are checked."""

    CHECKED = (200, 422)

    def create(self, **fields: Any) -> Any:
        return self.call("POST", "ai_services/create", json={**MODEL, **fields})

    def decide(self, artifact_id: str, decision: str, **kwargs: Any) -> Any:
        query = {"id_": artifact_id, "status": decision}
        return self.call(
            "POST", "ai_services/moderation/update_status", query_string=query, **kwargs
        )

    def listed(self, **filters: Any) -> list[str]:
        return [a["id"] for a in self.call("POST", "ai_services/", json=filters)["items"]]


@pytest.fixture
def api(app: Any) -> Api:
    return Api(app, WS_A)


def test_an_artifact_is_moderated_before_others_see_it(app: Any, api: Api) -> None:
    made = api.create()
    assert made["status"] == "on_moderation" and made["slug"] == "llama-chat-7b"
    assert made["tags"] == MODEL["tags"] and made["workspace_id"] == WS_A
    other = Api(app, WS_B)
    assert other.listed() == []
    other.call("GET", f"ai_services/id/{made['id']}", status=404)
    other.call("GET", "ai_services/llama-chat-7b", status=404)
    queue = api.call("GET", "ai_services/moderation/get_on_moderation_artifacts")
    assert [a["id"] for a in queue] == [made["id"]]
    [application] = api.call("GET", "ai_services/moderation/get_applications")
    assert application["artifact_id"] == made["id"] and application["status"] == "open"
    published = other.decide(made["id"], "published", data={})
    assert published["status"] == "published"
    assert other.listed() == [made["id"]]
    assert other.call("GET", "ai_services/llama-chat-7b")["id"] == made["id"]
    tags = other.call("GET", "ai_services/tags")
    assert sorted(tags, key=lambda t: t["key"]) == [
        {"key": "language", "values": ["ru"]},
        {"key": "task", "values": ["chat"]},
    ]
    assert api.call("GET", "ai_services/moderation/get_on_moderation_artifacts") == []
    [application] = api.call("GET", "ai_services/moderation/get_applications")
    assert application["status"] == "closed" and application["decision"] == "published"


def test_a_change_sends_a_published_artifact_back_to_moderation(app: Any, api: Api) -> None:
    made = api.create()
    api.decide(made["id"], "published")
    changed = api.call("PATCH", "ai_services/update", json={"id_": made["id"], "version": "2"})
    assert changed["status"] == "on_moderation" and changed["version"] == "2"
    assert changed["slug"] == made["slug"] and changed["name"] == MODEL["name"]
    assert Api(app, WS_B).listed() == []  # out of the marketplace until moderated again
    rejected = api.call(
        "POST",
        "ai_services/moderation/update_status",
        json={"id_": made["id"], "status": "rejected", "comment": "no licence"},
    )
    assert rejected["status"] == "rejected"
    apps = api.call("GET", "ai_services/moderation/get_applications")
    assert [(a["decision"], a["comment"]) for a in apps] == [
        ("rejected", "no licence"),
        ("published", None),
    ]
    assert api.listed(statuses=["rejected"]) == [made["id"]]
    assert api.listed(statuses=["published"]) == []


def test_slugs_are_unique_and_lists_filter_and_page(api: Api) -> None:
    first = api.create()
    second = api.create(kind="dataset")
    assert second["slug"] == "llama-chat-7b-2"
    assert api.listed() == [first["id"], second["id"]]
    assert api.listed(kinds=["dataset"]) == [second["id"]]
    assert api.listed(page=2, size=1) == [second["id"]]
    assert api.call("POST", "ai_services/")["total"] == 2  # no body: no filters
    kinds = api.call("GET", "ai_services/dictionaries/artifact")
    assert "on_moderation" in kinds["statuses"] and "deploy" in kinds["actions"]


def test_bad_input_is_refused_and_changes_nothing(app: Any, api: Api) -> None:
    made = api.create()
    before = api.call("GET", f"ai_services/id/{made['id']}")
    for bad in (
        {"author": "x"},
        {**MODEL, "name": ""},
        {**MODEL, "size": -1},
        {**MODEL, "labels": ["x"]},
    ):
        api.call("POST", "ai_services/create", json=bad, status=422)
    api.call("PATCH", "ai_services/update", json={"id_": "x", "version": "2"}, status=422)
    api.call("PATCH", "ai_services/update", json={"id_": made["id"]}, status=422)
    api.call("PATCH", "ai_services/update", json={"id_": made["id"], "action": "fly"}, status=422)
    api.call("PATCH", "ai_services/update", json={"id_": MISSING, "version": "2"}, status=404)
    Api(app, WS_B).call(
        "PATCH", "ai_services/update", json={"id_": made["id"], "version": "2"}, status=404
    )
    api.decide(made["id"], "approved", status=422)
    api.decide("x", "published", status=422)
    api.decide(MISSING, "published", status=404)
    api.call("POST", "ai_services/", json={"statuses": ["gone"]}, status=422)
    api.call("GET", f"ai_services/id/{MISSING}", status=404)
    assert api.call("GET", f"ai_services/id/{made['id']}") == before
    assert api.listed() == [made["id"]]
    api.decide(made["id"], "published")
    api.decide(made["id"], "rejected", status=409)  # decided already
    assert api.call("GET", f"ai_services/id/{made['id']}")["status"] == "published"


def test_the_marketplace_is_replayed_from_the_journal(app: Any, api: Api) -> None:
    made = api.create()
    api.decide(made["id"], "published")
    api.call("PATCH", "ai_services/update", json={"id_": made["id"], "title": "Chat"})
    before = api.call("GET", f"ai_services/id/{made['id']}")
    admin = app.test_client()
    snapshot = admin.get("/_mock/state?secrets=true").get_json()
    assert admin.post("/_mock/reset", json={}).status_code == 200
    assert api.listed() == []
    assert admin.post("/_mock/state", json=snapshot).status_code == 200
    assert api.call("GET", f"ai_services/id/{made['id']}") == before
