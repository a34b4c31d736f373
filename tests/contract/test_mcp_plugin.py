"""mlspace-plugin, the platform's MCP server for AI agents, as a supported client.

The installed ``mlspace-plugin`` runs as a subprocess over stdio (as an agent's client launches
it), pointed at a live mlspace-sim by its environment alone, and is driven through an agent's
session with the ``mcp`` client library: inspect resources, run a job and read its logs, look at
a queue, deploy a model and call it. Of the calls made, at least 95 % must
succeed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from mock_server.testing import MockServer

pytestmark = pytest.mark.timeout(180)

TOOLS = {
    "mlspace_allocations",
    "mlspace_async_inference",
    "mlspace_build_image",
    "mlspace_contexts",
    "mlspace_dalle",
    "mlspace_data_transfer",
    "mlspace_docker_registry",
    "mlspace_inference",
    "mlspace_jobs",
    "mlspace_jobs_overview",
    "mlspace_notebooks",
    "mlspace_notebooks_overview",
    "mlspace_queue_inspect",
    "mlspace_queues",
    "mlspace_resources",
    "mlspace_tensorboards",
    "mlspace_workspaces",
}
MIN_SUCCESS = 0.95
IMAGE = "cr.ai.cloud.ru/aicloud-base-images/horovod-cuda11.0-tf2.4.0:0.0.1"
MODEL_IMAGE = "cr.ai.cloud.ru/docker-registry-id/inference-image-0000000001"
POLL_S = 120.0  # virtual seconds an agent waits between two looks at something starting


def plugin_env(server: MockServer, home: Path) -> dict[str, str]:
    """What an agent's client sets to point the plugin at mlspace-sim: the base URL and the
    credentials (any key pair is accepted in the default permissive mode). The workspace's api
    key is looked up by the plugin itself (``GET workspaces/v1/x_api_key``)."""
    c = server.credentials
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),  # the plugin's diagnostics log and config lookup stay in the test
        "MLSPACE_BASE_URL": server.base_url,
        "MLSPACE_CLIENT_ID": c.client_id,
        "MLSPACE_CLIENT_SECRET": c.client_secret,
        "MLSPACE_WORKSPACE_ID": c.workspace_id,
    }


@dataclass
class Agent:
    """An MCP session that keeps the score: every call made."""

    session: ClientSession
    made: list[tuple[str, bool, str]] = field(default_factory=list)

    async def call(self, tool: str, **args: Any) -> Any:
        """The tool's answer (JSON decoded when it is JSON), None when the call failed."""
        step = f"{tool} {args.get('action', '')}".strip()
        result = await self.session.call_tool(tool, args)
        text = "".join(getattr(part, "text", "") for part in result.content)
        self.made.append((step, not result.isError, text[:300]))
        if result.isError:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text

    @property
    def success_rate(self) -> float:
        return sum(ok for _, ok, _ in self.made) / len(self.made)

    def failures(self) -> list[tuple[str, str]]:
        return [(step, text) for step, ok, text in self.made if not ok]


def run_session(
    server: MockServer, home: Path, scenario: Callable[[Agent], Awaitable[None]]
) -> Agent:
    """Start the plugin over stdio against ``server`` and play ``scenario`` through it."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mlspace_mcp", "--transport", "stdio"],
        env=plugin_env(server, home),
    )
    agent: Agent | None = None

    async def main() -> None:
        nonlocal agent
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            agent = Agent(session)
            await scenario(agent)

    anyio.run(main)
    assert agent is not None
    return agent


def assert_successful(agent: Agent, at_least: int) -> None:
    print(  # the figure the README quotes
        f"\nmlspace-plugin session: {len(agent.made)} calls, {agent.success_rate:.0%} succeeded"
    )
    assert len(agent.made) >= at_least
    assert agent.success_rate >= MIN_SUCCESS, agent.failures()


def test_agent_inspects_resources_runs_a_job_reads_its_logs_and_looks_at_a_queue(
    srv: MockServer, tmp_path: Path
) -> None:
    ws = srv.credentials.workspace_id
    seen: dict[str, Any] = {}

    async def scenario(agent: Agent) -> None:
        tools = {t.name for t in (await agent.session.list_tools()).tools}
        assert tools == TOOLS
        contexts = await agent.call("mlspace_contexts")
        assert [w["id"] for w in contexts["workspaces"]] == [ws]

        # what can I launch, and where?
        configs = await agent.call("mlspace_resources", action="configs", cluster_type="MT")
        assert any(r["key"] == "DGX2-MT" for r in configs["regions"])
        await agent.call("mlspace_workspaces", action="list")
        allocations = await agent.call(
            "mlspace_workspaces",
            action="allocations",
            workspace_id=ws,
        )
        alloc = next(a for a in allocations if a["region_key"] == "DGX2-MT")
        types = await agent.call(
            "mlspace_allocations",
            action="list_instance_types",
            allocation_id=alloc["id"],
        )
        itype = next(t["key"] for t in types if t["key"].endswith("1gpu"))
        await agent.call(
            "mlspace_resources",
            action="instance_types",
            region="DGX2-MT",
        )
        await agent.call("mlspace_resources", action="rate_limits")
        queues = await agent.call(
            "mlspace_workspaces",
            action="allocation_queues",
            workspace_id=ws,
            allocation_id=alloc["id"],
        )
        queue = queues[0]["id"]

        # run a job, wait for it, read its logs
        body = {
            "script": "/home/jovyan/train.py",
            "base_image": IMAGE,
            "instance_type": itype,
            "region": "DGX2-MT",
            "type": "horovod",
            "n_workers": 1,
        }
        job = seen["job"] = (await agent.call("mlspace_jobs", action="run", body=body))["job_name"]
        status = ""
        for _ in range(30):
            srv.advance(POLL_S)
            status = (await agent.call("mlspace_jobs", action="get", job_name=job))["status"]
            if status == "running" and "logs_running" not in seen:  # a look while it runs
                seen["logs_running"] = await agent.call(
                    "mlspace_jobs", action="logs", job_name=job, region="DGX2-MT", tail=5
                )
            if status in ("completed", "failed"):
                break
        seen["status"] = status
        seen["logs"] = await agent.call(
            "mlspace_jobs", action="logs", job_name=job, region="DGX2-MT", tail=20
        )
        listed = await agent.call("mlspace_jobs", action="list", region="DGX2-MT")
        seen["listed"] = [j["job_name"] for j in listed["jobs"]]
        seen["overview"] = await agent.call("mlspace_jobs_overview")

        # the queue the job ran in
        await agent.call(
            "mlspace_queues",
            action="instance_types",
            queue_id=queue,
        )
        await agent.call(
            "mlspace_queues",
            action="awaiting_launch_resources",
            queue_id=queue,
            priority="medium",
            limit=10,
            offset=0,
        )
        await agent.call("mlspace_queues", action="jobs", queue_id=queue)
        seen["inspect"] = await agent.call("mlspace_queue_inspect", queue_id=queue)

    agent = run_session(srv, tmp_path, scenario)
    assert seen["status"] == "completed"
    assert "Epoch" in seen["logs"] and "Epoch" in seen["logs_running"]
    assert seen["listed"] == [seen["job"]]
    assert seen["job"] in json.dumps(seen["overview"]) and seen["overview"]["complete"] is True
    assert seen["inspect"]["complete"] is True
    assert_successful(agent, at_least=12)


def test_agent_deploys_a_model_and_calls_it(srv: MockServer, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    async def scenario(agent: Agent) -> None:
        configs = await agent.call("mlspace_resources", action="configs", cluster_type="INF")
        region = next(r for r in configs["regions"] if r["key"] == "DGX2-INF-001")
        itype = next(t["key"] for t in region["instances_types"] if t["key"].endswith("1gpu"))
        body = {
            "image": MODEL_IMAGE,
            "alias": "cats-vs-dogs",
            "region": region["key"],
            "instance_type": itype,
            "replicas": {"min": 1, "max": 1},
        }
        made = await agent.call("mlspace_inference", action="create", body=body)
        name = made["metadata"]["name"]
        phase = ""
        for _ in range(10):
            srv.advance(POLL_S)
            got = await agent.call(
                "mlspace_inference", action="get", inference_name=name, region=region["key"]
            )
            phase = got["status"]["phase"]
            if phase == "Running":
                break
        seen["phase"] = phase
        seen["answer"] = await agent.call(
            "mlspace_inference",
            action="predict",
            inference_name=name,
            model_name=name,
            body={"instances": [[1.0, 2.0], [3.0, 4.0]]},
        )
        await agent.call("mlspace_inference", action="list")
        await agent.call(
            "mlspace_inference",
            action="delete",
            inference_name=name,
            region=region["key"],
            confirm=True,
        )

    agent = run_session(srv, tmp_path, scenario)
    assert seen["phase"] == "Running"
    assert len(seen["answer"]["predictions"]) == 2
    assert_successful(agent, at_least=5)
