"""Image builds over HTTP (Flask test client, manual virtual clock): the kaniko job's statuses,
pods and logs as virtual time passes, cancellation, validation, determinism and isolation."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from mock_server.app import create_app
from mock_server.testing import DEFAULT_START_EPOCH
from tests.support.openapi import validate_response

WS_A = "11111111-1111-4111-8111-111111111111"
WS_B = "22222222-2222-4222-8222-222222222222"
BASE = "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40"
NAME = re.compile(r"^image-build-job-[a-z0-9]{5}$")
INFO = re.compile(r"^\x1b\[36mINFO\x1b\[0m\[(\d{4})\] ")
STARTED_S = 12  # the build pod starts 4-12 s after submit
BUILD_S = 300  # submit -> SUCCEEDED takes about 4 minutes, always less than this


class Builds:
    """One workspace's view of the image-build API."""

    def __init__(self, app: Any, ws_id: str) -> None:
        self.app = app
        self.client = app.test_client()
        self.ws = ws_id

    @property
    def world(self) -> Any:
        return self.app.extensions["mlspace_sim"].world

    def headers(self) -> dict[str, str]:
        auth = self.client.post(
            "/public/v2/service_auth", json={"client_id": "k", "client_secret": "s"}
        )
        token = auth.get_json()["token"]["access_token"]
        return {"authorization": token, "x-workspace-id": self.ws, "x-api-key": "key-" + self.ws}

    def call(self, method: str, path: str, *, status: int = 200, **kwargs: Any) -> Any:
        resp = self.client.open(
            f"/public/v2/{path}", method=method, headers=self.headers(), **kwargs
        )
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert resp.content_type == "application/json"
        body = resp.get_json()
        validate_response(method, path, status, body)
        return body

    def submit(
        self, requirements: str = "numpy==1.26.4\npandas\n", image: str = BASE, status: int = 200
    ) -> Any:
        form = {
            "from_image": image,
            "requirements": (io.BytesIO(requirements.encode()), "requirements.txt"),
        }
        return self.call("POST", "build-image/jobs", data=form, status=status)

    def status(self, name: str) -> Any:
        return self.call("GET", f"build-image/jobs/{name}")

    def logs(self, name: str) -> str:
        resp = self.client.get(f"/public/v2/build-image/jobs/{name}/logs", headers=self.headers())
        assert resp.status_code == 200
        assert resp.content_type == "text/plain; charset=utf-8"
        return resp.get_data(as_text=True)


@pytest.fixture
def builds(app: Any) -> Builds:
    return Builds(app, WS_A)


@pytest.fixture
def other(app: Any) -> Builds:
    return Builds(app, WS_B)


def test_submit_answers_pending_with_name_and_destination(builds: Builds) -> None:
    out = builds.submit()

    assert NAME.match(out["job_name"])
    assert out["status"] == "PENDING"
    assert out["created_at"] == "2025-02-26T10:00:00Z"
    assert re.fullmatch(
        rf"cr\.ai\.cloud\.ru/{WS_A}/job-custom-image-[0-9a-f]{{6}}", out["destination"]
    )


def test_build_goes_pending_running_succeeded_in_about_four_minutes(builds: Builds) -> None:
    name = builds.submit()["job_name"]
    seen = []
    for _ in range(BUILD_S // 10):
        body = builds.status(name)
        seen.append(body["status"])
        builds.world.advance(10)
    final = builds.status(name)

    assert [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s] == [
        "PENDING",
        "RUNNING",
        "SUCCEEDED",
    ]
    assert 180 <= seen.index("SUCCEEDED") * 10 <= BUILD_S
    assert (final["active"], final["succeeded"], final["failed"]) == (0, 1, 0)
    assert [(c["type"], c["status"]) for c in final["conditions"]] == [("Complete", "True")]
    assert final["pod_info"][0]["status"] == "Succeeded"
    assert final["pod_info"][0]["name"].startswith(name + "-")


def test_list_shows_completions_duration_and_age(builds: Builds) -> None:
    name = builds.submit()["job_name"]
    builds.world.advance(60)
    running = builds.call("GET", "build-image/jobs")["jobs"]
    assert running == [{"name": name, "completions": "0/1", "duration": "1m0s", "age": "1m0s"}]

    builds.world.advance(3600)
    (done,) = builds.call("GET", "build-image/jobs")["jobs"]
    assert done["completions"] == "1/1" and done["age"] == "1h1m0s"
    assert re.fullmatch(r"[34]m\d+s", done["duration"])


def test_logs_before_start_say_not_ready(builds: Builds) -> None:
    name = builds.submit()["job_name"]
    assert builds.logs(name) == f'"Job={name} is not ready yet, try again in 10 seconds"'


def test_logs_grow_with_virtual_time_in_kaniko_format(builds: Builds) -> None:
    out = builds.submit()
    name = out["job_name"]
    builds.world.advance(STARTED_S + 30)
    early = builds.logs(name).splitlines()
    builds.world.advance(BUILD_S)
    full = builds.logs(name).splitlines()

    assert early and full[: len(early)] == early and len(full) > len(early)
    assert early[0] == INFO.match(early[0]).group(0) + f"Resolved base name {BASE} to builder"
    assert "Unpacking rootfs as cmd RUN if [ -e /context/requirements.txt ]" in early[-1]
    stamps = [int(m.group(1)) for m in map(INFO.match, full) if m]
    assert stamps == sorted(stamps) and 180 <= stamps[-1] <= BUILD_S
    assert "Collecting numpy==1.26.4" in full and "Collecting pandas" in full
    assert "Successfully installed numpy-1.26.4 pandas" in full
    assert re.search(rf"Pushed {re.escape(out['destination'])}@sha256:[0-9a-f]{{64}}$", full[-1])


def test_an_invalid_requirement_fails_the_build_at_pip(builds: Builds) -> None:
    name = builds.submit("numpy\nnot a requirement!\n")["job_name"]
    builds.world.advance(BUILD_S)

    body = builds.status(name)
    log = builds.logs(name)

    assert body["status"] == "FAILED" and body["failed"] == 1
    assert body["conditions"][0]["type"] == "Failed"
    assert "ERROR: Invalid requirement: 'not a requirement!' (from line 2 of" in log
    assert "exit status 1" in log.splitlines()[-1] and "Pushed" not in log


def test_cancel_stops_a_running_build(builds: Builds) -> None:
    name = builds.submit()["job_name"]
    builds.world.advance(STARTED_S + 30)

    assert builds.call("DELETE", f"build-image/jobs/{name}") == {"success": True}
    log = builds.logs(name)
    builds.world.advance(BUILD_S)

    body = builds.status(name)
    assert (body["status"], body["active"], body["pod_info"]) == ("CANCELLED", 0, [])
    assert builds.logs(name) == log
    assert builds.call("GET", f"build-image/jobs/{name}/pods") == {"pods": []}


def test_cancel_after_success_keeps_the_image(builds: Builds) -> None:
    name = builds.submit()["job_name"]
    builds.world.advance(BUILD_S)

    assert builds.call("DELETE", f"build-image/jobs/{name}") == {"success": True}
    assert builds.status(name)["status"] == "SUCCEEDED"


def test_pods_follow_the_build(builds: Builds) -> None:
    name = builds.submit()["job_name"]
    pending = builds.call("GET", f"build-image/jobs/{name}/pods")["pods"]
    builds.world.advance(STARTED_S + 1)
    running = builds.call("GET", f"build-image/jobs/{name}/pods")["pods"]

    assert [(p["status"], p["ready"]) for p in pending] == [("Pending", "0/1")]
    assert [(p["status"], p["ready"], p["age"]) for p in running] == [("Running", "1/1", "13s")]


def test_succeeded_builds_become_the_workspaces_custom_images(
    builds: Builds, other: Builds
) -> None:
    out = builds.submit()
    config = "configs?cluster_type=MT"
    assert builds.call("GET", config)["custom_images"] == []

    builds.world.advance(BUILD_S)

    assert builds.call("GET", config)["custom_images"] == [
        {"name": out["destination"], "tags": ["latest"]}
    ]
    assert other.call("GET", config)["custom_images"] == []


def test_another_workspace_never_sees_the_build(builds: Builds, other: Builds) -> None:
    name = builds.submit()["job_name"]
    builds.world.advance(BUILD_S)

    assert other.call("GET", "build-image/jobs") == {"jobs": []}
    missing = other.call("GET", f"build-image/jobs/{name}", status=500)
    assert missing == {"error_code": 500, "error_message": f"Job={name} not found"}
    assert other.call("GET", f"build-image/jobs/{name}/logs", status=500) == missing
    assert other.call("GET", f"build-image/jobs/{name}/pods") == {"pods": []}
    assert other.call("DELETE", f"build-image/jobs/{name}") == {"success": False}
    assert builds.status(name)["status"] == "SUCCEEDED"


def test_builds_are_deterministic_per_seed() -> None:
    def run(seed: int) -> tuple[Any, str]:
        b = Builds(create_app(seed=seed, start_epoch=DEFAULT_START_EPOCH), WS_A)
        out = b.submit()
        b.world.advance(BUILD_S)
        return out, b.logs(out["job_name"])

    assert run(3) == run(3)
    assert run(3)[0]["job_name"] != run(4)[0]["job_name"]


def test_submit_validates_the_multipart_form(builds: Builds) -> None:
    def problems(**form: Any) -> set[tuple[str, str]]:
        body = builds.call("POST", "build-image/jobs", data=form, status=422)
        return {(e["loc"][1], e["type"]) for e in body["detail"]}

    assert problems() == {("requirements", "missing"), ("from_image", "missing")}
    assert problems(from_image=BASE, requirements="numpy") == {("requirements", "value_error")}
    assert problems(
        from_image="docker.io/library/python:3.11",
        requirements=(io.BytesIO(b""), "requirements.txt"),
    ) == {("from_image", "value_error")}


def test_images_of_the_workspaces_own_registry_project_are_accepted(builds: Builds) -> None:
    own = f"cr.ai.cloud.ru/{WS_A}/job-custom-image-0fb9d1"
    assert builds.submit("", image=own)["status"] == "PENDING"
    builds.submit("", image=f"cr.ai.cloud.ru/{WS_B}/job-custom-image-0fb9d1", status=422)


def test_every_operation_needs_credentials(builds: Builds) -> None:
    resp = builds.client.get("/public/v2/build-image/jobs", headers={"authorization": "nope"})
    body = resp.get_json()
    assert resp.status_code == 401 and body["error_code"] == 21
    validate_response("GET", "build-image/jobs", 401, body)
