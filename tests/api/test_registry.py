"""The workspace's Docker registry over HTTP (manual clock): a built image appears as a
repository, image and ``latest`` tag; tags are created, renamed, recoloured and deleted;
favourites and descriptions persist; the password is the caller's own and deterministic; every
answer validates against the official spec and bad input changes nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from tests.support.public_api import PublicApi

WS_A = "11111111-1111-4111-8111-111111111111"
WS_B = "22222222-2222-4222-8222-222222222222"
BASE = "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40"
REG = "docker_registry/v2"
MISSING = "99999999-9999-4999-8999-999999999999"


class Api(PublicApi):
    """One workspace's client; the spec documents no 404s here, so 200s and 422s are checked."""

    CHECKED = (200, 422)

    def build(self) -> str:
        """Build an image and let it finish; its destination."""
        form = {
            "from_image": BASE,
            "requirements": (io.BytesIO(b"numpy==1.26.4\n"), "requirements.txt"),
        }
        job = self.call("POST", "build-image/jobs", data=form)
        self.app.extensions["mlspace_sim"].world.advance(600)
        assert self.call("GET", f"build-image/jobs/{job['job_name']}")["status"] == "SUCCEEDED"
        return job["destination"]

    def repos(self) -> list[dict[str, Any]]:
        return self.call("GET", f"{REG}/repositories/")

    def tag_names(self, image_id: str) -> list[str]:
        return [t["name"] for t in self.call("GET", f"{REG}/tags/?image_id={image_id}")]


@pytest.fixture
def api(app: Any) -> Api:
    return Api(app, WS_A)


def test_a_built_image_appears_as_repository_image_and_latest_tag(api: Api) -> None:
    assert api.repos() == []
    empty = api.call("GET", f"{REG}/registries/current")
    assert empty["name"] == WS_A and empty["repositories_count"] == 0
    destination = api.build()
    [repo] = api.repos()
    assert repo["full_name"] == destination
    assert repo["images_count"] == 1 and repo["favorite"] is False
    assert [t["name"] for t in repo["tags"]] == ["latest"]
    [image] = api.call("GET", f"{REG}/images/", query_string={"repository_id": repo["id"]})
    assert image == repo["recent_image"]
    assert image["full_name"] == f"{destination}@{image['digest']}"
    assert api.call("GET", f"{REG}/images/{image['id']}") == image
    [tag] = api.call("GET", f"{REG}/tags/", query_string={"image_id": image["id"]})
    assert tag["full_name"] == f"{destination}:latest"
    assert api.call("GET", f"{REG}/repositories/{repo['id']}") == repo
    assert api.call("GET", f"{REG}/registries/current")["repositories_count"] == 1


def test_the_image_digest_is_the_one_kaniko_pushed(api: Api) -> None:
    form = {"from_image": BASE, "requirements": (io.BytesIO(b"numpy\n"), "requirements.txt")}
    job = api.call("POST", "build-image/jobs", data=form)
    api.app.extensions["mlspace_sim"].world.advance(600)
    log = api.client.get(
        f"/public/v2/build-image/jobs/{job['job_name']}/logs", headers=api.headers()
    )
    digest = api.repos()[0]["recent_image"]["digest"]
    assert digest.startswith("sha256:")
    assert f"Pushed {job['destination']}@{digest}" in log.get_data(as_text=True)


def test_tags_are_created_renamed_recoloured_and_deleted(api: Api) -> None:
    api.build()
    image = api.repos()[0]["recent_image"]
    made = api.call("POST", f"{REG}/tags/", json={"image_id": image["id"], "name": "v1"})
    assert made["full_name"].endswith(":v1") and made["image_id"] == image["id"]
    renamed = api.call("PUT", f"{REG}/tags/{made['id']}", json={"name": "stable", "color": "red"})
    assert renamed["id"] == made["id"] and renamed["name"] == "stable"
    assert renamed["color"] == "red"
    assert api.tag_names(image["id"]) == ["latest", "stable"]
    assert [t["name"] for t in api.repos()[0]["tags"]] == ["latest", "stable"]
    recoloured = api.call("PUT", f"{REG}/tags/{made['id']}", json={"color": None})
    assert recoloured["color"] is None and recoloured["name"] == "stable"
    # the old name is free again, and gets a tag of its own
    again = api.call("POST", f"{REG}/tags/", json={"image_id": image["id"], "name": "v1"})
    assert again["id"] != made["id"]
    gone = api.call("DELETE", f"{REG}/tags/", json={"tag_ids": [made["id"], MISSING]})
    assert gone == [made["id"]]
    assert api.tag_names(image["id"]) == ["latest", "v1"]


def test_bad_tags_are_refused_and_change_nothing(api: Api) -> None:
    api.build()
    image = api.repos()[0]["recent_image"]
    before = api.repos()
    bad_body = {"image_id": image["id"], "name": "-x"}
    bad = api.call("POST", f"{REG}/tags/", json=bad_body, status=422)
    assert bad["detail"][0]["loc"] == ["body", "name"]
    api.call("POST", f"{REG}/tags/", json={"image_id": "nope", "name": "v1"}, status=422)
    api.call("POST", f"{REG}/tags/", json={"name": "v1"}, status=422)
    taken = api.call("POST", f"{REG}/tags/", json={**bad_body, "name": "latest"}, status=409)
    assert "already exists" in taken["detail"]
    api.call("POST", f"{REG}/tags/", json={"image_id": MISSING, "name": "v1"}, status=404)
    tag = image["tags"][0]
    api.call("PUT", f"{REG}/tags/{tag['id']}", json={"name": "a b", "color": "red"}, status=422)
    api.call("PUT", f"{REG}/tags/not-a-uuid", json={"color": "red"}, status=422)
    repo = f"{REG}/repositories/{before[0]['id']}"
    api.call("PUT", repo, json={"labels": "x"}, status=422)
    api.call("POST", f"{repo}/fav", json={"favorite": "yes"}, status=422)
    api.call("DELETE", f"{REG}/repositories/", json={"repository_ids": ["x"]}, status=422)
    api.call("DELETE", f"{REG}/images/", json={}, status=422)
    api.call("GET", f"{REG}/images/", status=422)
    api.call("GET", f"{REG}/tags/", query_string={"image_id": "x"}, status=422)
    api.call("GET", f"{REG}/repositories/?page_size=0", status=422)
    assert api.repos() == before


def test_favourite_description_and_labels_persist(api: Api) -> None:
    api.build()
    repo = api.repos()[0]
    fav = api.call("POST", f"{REG}/repositories/{repo['id']}/fav", json={"favorite": True})
    assert fav["favorite"] is True
    body = {"description": "training image", "labels": ["gpu", "torch"]}
    api.call("PUT", f"{REG}/repositories/{repo['id']}", json=body)
    body = {"labels": ["cuda"], "labels_to_delete": ["gpu"]}
    changed = api.call("PUT", f"{REG}/repositories/{repo['id']}", json=body)
    assert changed["labels"] == ["torch", "cuda"] and changed["description"] == "training image"
    again = api.call("GET", f"{REG}/repositories/{repo['id']}")
    assert again["favorite"] is True and again["labels"] == ["torch", "cuda"]
    assert again["description"] == "training image"


def test_deleting_images_and_repositories(api: Api) -> None:
    api.build()
    api.build()
    first, second = api.repos()
    image = first["recent_image"]
    assert api.call("DELETE", f"{REG}/images/", json={"image_ids": [image["id"]]}) == [image["id"]]
    api.call("GET", f"{REG}/images/{image['id']}", status=404)
    emptied = api.call("GET", f"{REG}/repositories/{first['id']}")
    assert emptied["images_count"] == 0 and emptied["recent_image"] is None
    gone = api.call("DELETE", f"{REG}/repositories/", json={"repository_ids": [second["id"]]})
    assert gone == [second["id"]]
    assert [r["id"] for r in api.repos()] == [first["id"]]
    api.call("GET", f"{REG}/repositories/{second['id']}", status=404)


def test_another_workspace_sees_nothing_of_this_registry(app: Any, api: Api) -> None:
    api.build()
    repo = api.repos()[0]
    other = Api(app, WS_B)
    assert other.repos() == []
    other.call("GET", f"{REG}/repositories/{repo['id']}", status=404)
    other.call("GET", f"{REG}/images/{repo['recent_image']['id']}", status=404)
    assert other.call("DELETE", f"{REG}/repositories/", json={"repository_ids": [repo["id"]]}) == []
    other.call("POST", f"{REG}/repositories/{repo['id']}/fav", json={"favorite": True}, status=404)
    assert api.repos() == [repo]
    mine = api.call("GET", "docker_registry/v1/users/generate_password")["password"]
    theirs = other.call("GET", "docker_registry/v1/users/generate_password")["password"]
    assert len(mine) == 32 and mine != theirs
    assert api.call("GET", "docker_registry/v1/users/generate_password")["password"] == mine


def test_the_password_is_deterministic_per_seed_and_rotates_with_time() -> None:
    def passwords(seed: int) -> list[str]:
        app = create_app(seed=seed, start_epoch=DEFAULT_START_EPOCH)
        api = Api(app, WS_A)
        first = api.call("GET", "docker_registry/v1/users/generate_password")["password"]
        app.extensions["mlspace_sim"].world.advance(60)
        return [first, api.call("GET", "docker_registry/v1/users/generate_password")["password"]]

    run = passwords(0)
    assert run == passwords(0) and run[0] != run[1]
    assert passwords(1) != run


def test_the_registry_is_replayed_from_the_journal(app: Any, api: Api) -> None:
    """A reset drops it; the state export rebuilds builds, tags and favourites as they were."""
    api.build()
    repo = api.repos()[0]
    api.call("POST", f"{REG}/tags/", json={"image_id": repo["recent_image"]["id"], "name": "v1"})
    api.call("POST", f"{REG}/repositories/{repo['id']}/fav", json={"favorite": True})
    before = api.repos()
    admin = app.test_client()
    snapshot = admin.get("/_mock/state?secrets=true").get_json()
    assert admin.post("/_mock/reset", json={}).status_code == 200
    assert api.repos() == []
    assert admin.post("/_mock/state", json=snapshot).status_code == 200
    assert api.repos() == before


def test_configs_offer_the_registrys_tagged_images(api: Api) -> None:
    destination = api.build()
    config = "configs?cluster_type=MT"
    assert api.call("GET", config)["custom_images"] == [{"name": destination, "tags": ["latest"]}]
    image = api.repos()[0]["recent_image"]
    tag = api.call("POST", f"{REG}/tags/", json={"image_id": image["id"], "name": "v1"})
    assert api.call("GET", config)["custom_images"][0]["tags"] == ["latest", "v1"]
    api.call("DELETE", f"{REG}/tags/", json={"tag_ids": [image["tags"][0]["id"], tag["id"]]})
    assert api.call("GET", config)["custom_images"] == []
