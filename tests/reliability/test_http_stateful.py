"""A Hypothesis state machine driving the HTTP API as two workspaces, A and B.

Rules submit valid and invalid jobs, kill and restart them, read their status and logs, create,
pause, resume and delete Jupyter Servers, list everything, and move the clock, each time as
either workspace and often on the other workspace's jobs and servers. After every step:
no answer was a 5xx, every JSON answer had exactly ``application/json``, nothing of one
workspace was visible to or changed by the other, no pool node was over-allocated, the bill was
the sum of its lines, and every job had at most one terminal status and never left it.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from benchmarks.load import bill_problems, over_allocated
from mock_server import create_app
from mock_server.auth import namespace_for
from mock_server.testing import DEFAULT_START_EPOCH
from simulator.config import load_config
from simulator.jobs import TERMINAL
from simulator.world import World
from tests.reliability.support import CREDS, auth_headers

pytestmark = pytest.mark.timeout(240)

CONFIG = load_config()  # parsed once: worlds only read it
A, B = CREDS.workspace_id, "22222222-2222-4222-8222-222222222222"
WORKSPACES = st.sampled_from((A, B))

JOB_TYPES = (
    ("SR006", "a100plus.1gpu.80vG.12C.96G"),
    ("DGX2-MT", "v100.8gpu"),
    ("CCE-MT", "cpu.2C.8G"),
)
REGIONS = tuple(region for region, _ in JOB_TYPES)
JUPYTER_IMAGE = "cr.ai.cloud.ru/aicloud-jupyter/jupyter-server"
SERVER_TYPES = ("free.0gpu", "v100.1gpu", "v100.8gpu")
JSON = "application/json"
JOB_NOT_FOUND = {
    "status": "job not found",
    "error_code": 0,
    "error_message": "job not found",
}


def other(ws: str) -> str:
    return B if ws == A else A


@st.composite
def valid_jobs(draw: st.DrawFn) -> dict[str, Any]:
    region, itype = draw(st.sampled_from(JOB_TYPES))
    env = {"MLSPACE_SIM_RUNTIME_S": str(draw(st.integers(30, 3000)))}
    if draw(st.booleans()):
        env["MLSPACE_SIM_OUTCOME"] = draw(st.sampled_from(("success", "failure")))
    return {
        "script": "/home/jovyan/train.py",
        "base_image": "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40",
        "instance_type": itype,
        "region": region,
        "type": "pytorch2",
        "n_workers": draw(st.integers(1, 3)),
        "env_variables": env,
    }


INVALID_CHANGES = st.sampled_from(
    (
        {"script": None},
        {"n_workers": 0},
        {"n_workers": "two"},
        {"instance_type": "no.such.type"},
        {"region": "MARS"},
        {"type": "fortran"},
        {"unexpected": True},
        {"env_variables": {"MLSPACE_SIM_RUNTIME_S": "soon"}},
    )
)


class HttpApi(RuleBasedStateMachine):
    """Workspaces A and B sharing one mock; bundles hold (owner, id) pairs."""

    jobs = Bundle("jobs")
    servers = Bundle("servers")

    def __init__(self) -> None:
        super().__init__()
        world = World(CONFIG, seed=0, start_epoch=DEFAULT_START_EPOCH)
        self.app = create_app(world, settings={"log_follow_max_s": 0.05, "log_poll_s": 0.01})
        self.client = self.app.test_client()
        self.headers: dict[str, dict[str, str]] = {}
        self.owner: dict[str, str] = {}  # job name -> workspace
        self.terminal: dict[str, str] = {}  # job name -> the terminal status it reached
        self.server_owner: dict[str, str] = {}  # server uuid -> workspace
        self.gone: set[str] = set()  # servers whose deletion was accepted
        self.server_count = 0

    # ---- HTTP ---------------------------------------------------------------------------------
    def refresh_tokens(self) -> None:
        self.headers = {ws: auth_headers(self.client, ws) for ws in (A, B)}

    def call(self, ws: str | None, method: str, path: str, **kwargs: Any) -> Any:
        """One request (as ``ws``, or without credentials for the admin API), checked for
        what must hold of every answer."""
        headers = self.headers[ws] if ws else {}
        r = self.client.open(path, method=method, headers=headers, **kwargs)
        assert r.status_code < 500, (method, path, r.status_code, r.get_data()[:300])
        ctype = r.headers.get("Content-Type", "")
        if r.status_code >= 400 or ctype.startswith("application/json"):
            assert ctype == JSON, (method, path, r.status_code, ctype)
            assert r.get_json(silent=True) is not None, (method, path, r.get_data()[:300])
        return r

    def api(self, ws: str, method: str, path: str, **kwargs: Any) -> Any:
        return self.call(ws, method, f"/public/v2/{path}", **kwargs)

    @initialize()
    def start(self) -> None:
        self.refresh_tokens()

    # ---- jobs ---------------------------------------------------------------------------------
    @rule(target=jobs, ws=WORKSPACES, body=valid_jobs())
    def submit(self, ws: str, body: dict[str, Any]) -> tuple[str, str]:
        r = self.api(ws, "POST", "jobs", json=body)
        assert r.status_code == 200, r.json
        name = r.json["job_name"]
        assert name not in self.owner, f"job name {name} given out twice"
        self.owner[name] = ws
        return ws, name

    @rule(ws=WORKSPACES, body=valid_jobs(), change=INVALID_CHANGES)
    def submit_invalid(self, ws: str, body: dict[str, Any], change: dict[str, Any]) -> None:
        before = self.listed(ws)
        r = self.api(ws, "POST", "jobs", json={**body, **change})
        assert 400 <= r.status_code < 500, (change, r.status_code, r.json)
        assert set(self.listed(ws)) == set(before), "a refused job was created"

    @rule(caller=WORKSPACES, job=jobs)
    def kill(self, caller: str, job: tuple[str, str]) -> None:
        owner, name = job
        before = self.status_of(owner, name)
        r = self.api(caller, "DELETE", f"jobs/{name}")
        assert r.status_code == 200 and r.json["status"] == "deleted", r.json
        after = self.status_of(owner, name)
        if caller != owner:
            assert after == before, f"workspace {caller} killed another workspace's job"
        else:
            assert after == (before if before in TERMINAL else "Deleted")

    @rule(target=jobs, job=jobs)
    def restart(self, job: tuple[str, str]) -> tuple[str, str]:
        owner, name = job
        r = self.api(owner, "POST", "jobs/restart", json={"job_name": name})
        assert r.status_code == 200, r.json
        new = r.json["job_name"]
        assert new != name and new not in self.owner
        self.owner[new] = owner
        return owner, new

    @rule(job=jobs)
    def restart_foreign(self, job: tuple[str, str]) -> None:
        owner, name = job
        before = self.listed(other(owner))
        r = self.api(other(owner), "POST", "jobs/restart", json={"job_name": name})
        assert r.status_code == 404, r.json
        assert r.json == {"error_code": 1, "error_message": "not found"}
        assert self.listed(other(owner)) == before

    @rule(caller=WORKSPACES, job=jobs)
    def status(self, caller: str, job: tuple[str, str]) -> None:
        owner, name = job
        r = self.api(caller, "GET", f"jobs/{name}")
        assert r.status_code == 200
        if caller != owner:
            assert r.json == {"job_name": name, **JOB_NOT_FOUND}
        else:
            assert r.json["status"] == self.status_of(owner, name).lower()

    @rule(caller=WORKSPACES, job=jobs, tail=st.sampled_from(("", "?tail=2", "?tail=-1")))
    def logs(self, caller: str, job: tuple[str, str], tail: str) -> None:
        owner, name = job
        r = self.api(caller, "GET", f"jobs/{name}/logs{tail}")
        if tail.endswith("-1"):
            assert r.status_code == 422
        elif caller != owner:
            assert r.status_code == 200 and r.json == {"job_name": name, **JOB_NOT_FOUND}
        else:
            assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")

    # ---- Jupyter Servers ----------------------------------------------------------------------
    @rule(target=servers, ws=WORKSPACES, itype=st.sampled_from(SERVER_TYPES))
    def create_server(self, ws: str, itype: str) -> tuple[str, str]:
        self.server_count += 1
        body = {
            "name": f"nb-{self.server_count}",
            "image": {"name": JUPYTER_IMAGE, "tag": "latest", "type": "datahub"},
            "instance_type": itype,
            "region": "DGX2-MT",
        }
        r = self.api(ws, "POST", f"notebooks/v2/{namespace_for(ws)}/notebook", json=body)
        assert r.status_code == 200, r.json
        self.server_owner[r.json["uuid"]] = ws
        return ws, r.json["uuid"]

    @rule(caller=WORKSPACES, server=servers, action=st.sampled_from(("get", "pause", "resume")))
    def act_on_server(self, caller: str, server: tuple[str, str], action: str) -> None:
        owner, uid = server
        path = f"notebooks/v2/notebook/{uid}"
        if action == "get":
            r = self.api(caller, "GET", path)
        elif action == "pause":
            r = self.api(caller, "POST", f"{path}/pause")
        else:
            r = self.api(
                caller,
                "POST",
                f"notebooks/v1/{namespace_for(caller)}/notebook/{uid}/resume",
                json={"region": "DGX2-MT", "instance_type": "free.0gpu"},
            )
        self.check_server_answer(caller, owner, uid, r)

    @rule(caller=WORKSPACES, server=servers)
    def delete_server(self, caller: str, server: tuple[str, str]) -> None:
        owner, uid = server
        r = self.api(caller, "DELETE", f"notebooks/v2/notebook/{uid}")
        self.check_server_answer(caller, owner, uid, r)
        if caller == owner and r.status_code == 200:
            self.gone.add(uid)

    def check_server_answer(self, caller: str, owner: str, uid: str, r: Any) -> None:
        """Another workspace's server does not exist; a deleted one is gone, or still
        ``deleting`` (which refuses every change with 409)."""
        if caller != owner:
            assert r.status_code == 404, r.json
        elif uid in self.gone:
            assert r.status_code in (404, 409) or r.json["status"] == "deleting", r.json
        else:
            assert r.status_code in (200, 409), r.json

    # ---- clock --------------------------------------------------------------------------------
    @rule(seconds=st.sampled_from((1, 10, 45, 300, 1800, 7200)))
    def advance(self, seconds: int) -> None:
        r = self.call(None, "POST", "/_mock/clock/advance", json={"seconds": seconds})
        assert r.status_code == 200
        self.refresh_tokens()  # two hours may outlive a token

    # ---- reads --------------------------------------------------------------------------------
    def listed(self, ws: str) -> dict[str, str]:
        """Job name -> status of every job ``ws`` can list, over the regions in use."""
        found: dict[str, str] = {}
        for region in REGIONS:
            r = self.api(ws, "GET", f"jobs?region={region}")
            assert r.status_code == 200 and r.json["count"] == len(r.json["jobs"])
            found |= {j["job_name"]: j["status"] for j in r.json["jobs"]}
        return found

    def status_of(self, ws: str, name: str) -> str:
        return self.listed(ws)[name]

    # ---- invariants ---------------------------------------------------------------------------
    @invariant()
    def workspaces_are_isolated(self) -> None:
        for ws in (A, B):
            jobs = self.listed(ws)
            assert all(self.owner.get(name) == ws for name in jobs), f"{ws} lists foreign jobs"
            for book in self.api(ws, "GET", "notebooks/v2/notebooks").json["notebooks"]:
                assert self.server_owner.get(book["uuid"]) == ws, f"{ws} lists a foreign server"
                if book["uuid"] in self.gone:
                    assert book["status"] == "deleting", "a deleted server came back"

    @invariant()
    def jobs_end_once(self) -> None:
        statuses = self.listed(A) | self.listed(B)
        assert set(statuses) == set(self.owner), "a job was lost or appeared from nowhere"
        for name, status in statuses.items():
            if name in self.terminal:
                assert status == self.terminal[name], f"{name} left {self.terminal[name]}"
            elif status in TERMINAL:
                self.terminal[name] = status

    @invariant()
    def pools_never_over_allocated(self) -> None:
        assert over_allocated(self.call(None, "GET", "/_mock/pools").json["pools"]) == []

    @invariant()
    def bill_is_the_sum_of_its_lines(self) -> None:
        for ws in (None, A, B):
            query = f"?workspace={ws}" if ws else ""
            assert bill_problems(self.call(None, "GET", f"/_mock/billing{query}").json, ws) == []


TestHttpApi = HttpApi.TestCase
TestHttpApi.settings = settings(
    max_examples=30,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=True,  # the same runs every time; raise max_examples to explore further
)
