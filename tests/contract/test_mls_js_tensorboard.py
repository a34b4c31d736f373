"""The real ``mls js`` and ``mls tensorboard`` commands (cloudru-ml-cli 1.3.0) in a subprocess.

Every test checks the exit code AND what the CLI printed: the CLI exits 0 on API errors too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mock_server.auth import namespace_for
from mock_server.testing import MockServer
from tests.contract.conftest import Cli, make_cli

pytestmark = pytest.mark.sdk

JS_IMAGE = (
    "--image-name", "cr.ai.cloud.ru/aicloud-jupyter/jupyter-server",
    "--image-tag", "0.0.95", "--image-type", "datahub",
)  # fmt: skip
TB_IMAGE = (
    "--image-name", "cr.ai.cloud.ru/aicloud-tensorboard/tensorboard-server",
    "--image-tag", "latest", "--image-type", "datahub",
)  # fmt: skip
STARTED_S = 45  # creating/resuming -> running takes 20-40 s
PAUSED_S = 10  # pausing -> paused takes 5 s
MISSING = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


@pytest.fixture
def cli(srv: MockServer, tmp_path: Path) -> Cli:
    """``mls`` with a profile in DGX2-MT, a region that has Jupyter instance types."""
    return make_cli(srv, tmp_path, region="DGX2-MT")


@pytest.fixture
def ns(srv: MockServer) -> str:
    return namespace_for(srv.credentials.workspace_id)


def js_create(cli: Cli, ns: str, name: str, itype: str, *extra: str) -> dict[str, Any]:
    options = ("--namespace", ns, "--name", name, *JS_IMAGE, "--instance-type", itype)
    return cli.json("js", "create", *options, *extra)


# ---- mls js ----------------------------------------------------------------------------------
def test_js_create_list_get_modify_pause_resume_delete(cli: Cli, srv: MockServer, ns: str) -> None:
    made = js_create(cli, ns, "my-js", "v100.2gpu", "--description", "from the CLI")
    uid = made["uid"]
    assert (made["status"], made["region"], made["instanceType"]) == (
        "creating",
        "DGX2-MT",  # the profile's region
        "v100.2gpu",
    )
    assert made["description"] == "from the CLI"
    listed = cli.json("js", "list", "--status", "creating,running", "--search", "my")
    assert [(i["uid"], i["name"]) for i in listed["notebooks"]] == [(uid, "my-js")]
    srv.advance(STARTED_S)
    assert cli.json("js", "get", uid)["status"] == "running"

    modified = cli.json("js", "modify", uid, "--shutdown-in", "3600")
    assert modified["autoshutdown_config"]["by_timer"] == {"shutdown_in": 3600, "is_enabled": True}
    paused = cli.json("js", "pause", uid)
    assert (paused["uid"], paused["status"], paused["namespace"]) == (uid, "pausing", ns)
    srv.advance(PAUSED_S)
    assert cli.json("js", "get", uid)["status"] == "paused"

    resume = ("js", "resume", "--namespace", ns, "--instance-type", "v100.1gpu", uid)
    resumed = cli.json(*resume)
    assert (resumed["status"], resumed["cpu"], resumed["memory"]) == ("resuming", "3", "92Gi")
    text = "Notebook status is 'Resuming'. Can't resume."
    assert cli.json(*resume) == {"code": 3, "detail": text, "message": text}

    assert cli.json("js", "delete", uid)["status"] == "queued"
    srv.advance(PAUSED_S)
    assert cli.json("js", "list")["notebooks"] == []
    seconds = [ln["seconds"] for ln in srv.world.billing_report()["lines"] if ln["item"] == uid]
    assert seconds == [STARTED_S, 0]  # billed while up, not while paused


def test_js_create_from_a_manifest(cli: Cli, ns: str) -> None:
    manifest = cli.cwd / "js.yaml"
    body = {
        "name": "from-yaml",
        "image": {"name": "cr.ai.cloud.ru/aicloud-jupyter/jupyter-server", "tag": "latest",
                  "type": "datahub"},
        "instance_type": "free.0gpu",
        "region": "DGX2-MT",
        "pause_at": "45 * * * *",
        "s3_buckets": [{"bucket_name": "bucket-name", "access_rule": "ro"}],
    }  # fmt: skip
    manifest.write_text(yaml.safe_dump({"namespace": ns, "jupyter_server": body}))
    made = cli.json("js", "create", "--config", str(manifest))
    assert (made["name"], made["pause_at"], made["instanceType"]) == (
        "from-yaml",
        "45 * * * *",
        "free.0gpu",
    )
    assert made["s3_buckets"] == [
        {"bucket_name": "bucket-name", "access_rule": "ro", "mount_status": "NOT_MOUNTED"}
    ]


def test_js_errors_are_printed_with_exit_code_zero(cli: Cli, ns: str) -> None:
    out = js_create(cli, "default", "x", "free.0gpu")
    assert out["details"].startswith("Namespace=default does not belong to workspace_id=")
    js_create(cli, ns, "taken", "free.0gpu")
    out = js_create(cli, ns, "taken", "free.0gpu")
    assert (out["code"], out["detail"]) == (
        1,
        "Jupyter server with name 'taken' already exists in current workspace.",
    )
    out = js_create(cli, ns, "huge", "v100.99gpu")
    assert out == {
        "details": "Can't find instance_type_key='v100.99gpu' for region=DGX2-MT",
        "status": "error",
    }
    assert cli.json("js", "get", MISSING) == {"detail": f"Notebook uuid='{MISSING}' does not found"}
    bad = cli.run("js", "pause", "not-a-uuid")  # refused by the CLI before any request
    assert bad.returncode == 1
    assert "Неверное значение для 'JUPYTER_SERVER_UUID': 'not-a-uuid'" in bad.stdout


def test_js_workspace_autoshutdown_rule(cli: Cli, srv: MockServer, ns: str) -> None:
    ws = srv.credentials.workspace_id
    missing = {"detail": f"Autoshutdown rule not found for workspace ID={ws}"}
    assert cli.json("js", "autoshutdown", "get", ws) == missing
    by_load = {"metric": "CPU", "evaluation_period": 30, "threshold": 10.0, "shutdown_delay": 15,
               "is_enabled": True}  # fmt: skip
    rule = cli.json(
        "js",
        "autoshutdown",
        "set",
        ws,
        "--shutdown-in",
        "600",
        "--by-load-json",
        json.dumps(by_load),
    )
    assert rule == {
        "by_timer": {"shutdown_in": 600, "is_enabled": True},
        "by_load": by_load,
        "by_schedule": None,
    }
    assert cli.json("js", "autoshutdown", "get", ws) == rule
    uid = js_create(cli, ns, "ruled", "v100.1gpu")["uid"]
    srv.advance(600 + PAUSED_S)
    assert cli.json("js", "get", uid)["status"] == "paused_by_timer"
    assert cli.ok("js", "autoshutdown", "delete", ws).strip() == ""  # 204, no body
    assert cli.json("js", "autoshutdown", "get", ws) == missing


# ---- mls tensorboard -------------------------------------------------------------------------
def test_tensorboard_lifecycle(cli: Cli, srv: MockServer, ns: str) -> None:
    made = cli.json(
        "tensorboard", "create", "--namespace", ns, "--name", "tb", *TB_IMAGE,
        "--instance-type", "free.0gpu", "--logdir", "/home/jovyan/logs",
        "--logdir", "/home/jovyan/test", "--tensorboard-params", '{"--port": "6006"}',
    )  # fmt: skip
    uid = made["uid"]
    assert made["logdir"] == ["/home/jovyan/logs", "/home/jovyan/test"]
    assert made["tensorboard_params"] == {"--port": "6006"}
    listed = cli.json("tensorboard", "list")
    assert ([i["uid"] for i in listed["tensorboards"]], listed["limit"]) == ([uid], 15)
    srv.advance(STARTED_S)
    assert cli.json("tensorboard", "get", uid)["status"] == "running"

    modified = cli.json("tensorboard", "modify", uid, "--description", "runs of May")
    assert modified["description"] == "runs of May"
    resume = ("tensorboard", "resume", uid, "--namespace", ns, "--instance-type", "free.0gpu")
    text = "Tensorboard status is 'Running'. Can't resume."
    assert cli.json(*resume) == {"code": 3, "detail": text, "message": text}
    assert cli.json("tensorboard", "pause", uid)["status"] == "pausing"
    srv.advance(PAUSED_S)
    assert cli.json(*resume)["status"] == "resuming"

    assert cli.json("tensorboard", "delete", uid)["status"] == "queued"
    srv.advance(PAUSED_S)
    assert cli.json("tensorboard", "list")["tensorboards"] == []
    missing = {"detail": f"Tensorboard uuid='{uid}' does not found"}
    assert cli.json("tensorboard", "get", uid) == missing
