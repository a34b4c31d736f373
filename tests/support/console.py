"""A small world for the console's tests: six 8-GPU nodes, two named workspaces, and work
that leaves one job waiting for capacity and one waiting behind it.

After ``populate`` and two minutes of virtual time: ``a_train`` (vision, 2 x 8 V100) runs on
two nodes, ``b_a100`` (nlp, 8 x A100 in SR006) on a third, ``b_small`` (nlp, 4 V100) on half of
a fourth; ``a_big`` (vision, 4 x 8 V100) waits because only 2 of its 4 workers fit, and
``b_tiny`` (nlp, 1 A100) fits but waits behind it (strict order). A vision Jupyter Server runs
in the direct pool. ``a_train`` ends at about 30 min and ``b_small`` at about 10 min; then
``a_big`` and ``b_tiny`` start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
import yaml

from mock_server.auth import namespace_for
from mock_server.testing import Credentials, MockServer, running_server

VISION = Credentials(workspace_id="aaaaaaaa-0000-4000-8000-000000000001", api_key="key-vision")
NLP = Credentials(workspace_id="bbbbbbbb-0000-4000-8000-000000000002", api_key="key-nlp")
NODE = {"gpus": 8, "cpus": 256, "memory_gi": 4096}
CONFIG = {
    "pools": [
        {
            "name": "direct",
            "serves": ["notebook"],
            "resource": "gpu",
            "nodes": [{"prefix": "jupyter", "count": 1, **NODE}],
        },
        {
            "name": "region",
            "serves": ["job"],
            "resource": "gpu",
            "nodes": [{"prefix": "gpu", "count": 6, **NODE}],
        },
        {
            "name": "cpu",
            "serves": ["job", "notebook"],
            "resource": "cpu",
            "nodes": [{"prefix": "cpu", "count": 2, "gpus": 0, "cpus": 64, "memory_gi": 256}],
        },
    ],
    "auth": {
        "workspaces": [
            {"id": VISION.workspace_id, "api_key": VISION.api_key, "name": "vision"},
            {"id": NLP.workspace_id, "api_key": NLP.api_key, "name": "nlp"},
        ]
    },
}
V100_8, V100_4 = "v100.8gpu", "v100.4gpu"
A100_8, A100_1 = "a100plus.8gpu.80vG.96C.1952G", "a100plus.1gpu.80vG.12C.96G"
WORK = {  # name: (workspace, instance type, workers, run time in seconds, region), in order
    "a_train": ("vision", V100_8, 2, 1800, "DGX2-MT"),
    "b_a100": ("nlp", A100_8, 1, 7200, "SR006"),
    "b_small": ("nlp", V100_4, 1, 600, "DGX2-MT"),
    "a_big": ("vision", V100_8, 4, 3600, "DGX2-MT"),
    "b_tiny": ("nlp", A100_1, 1, 900, "SR006"),
}
IMAGE = {
    "name": "cr.ai.cloud.ru/aicloud-jupyter/jupyter-server",
    "tag": "0.0.95",
    "type": "datahub",
}


@contextmanager
def console_server(tmp: Path, **app_kwargs: Any) -> Iterator[MockServer]:
    """A running mock on :data:`CONFIG` (manual clock)."""
    path = tmp / "console-config.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    with running_server(config_path=path, **app_kwargs) as srv:
        yield srv


def submit(
    srv: MockServer, creds: Credentials, itype: str, workers: int, runtime_s: int, region: str
) -> str:
    body = {
        "script": "/home/jovyan/train.py",
        "base_image": "cr.ai.cloud.ru/aicloud-base-images/py3.10-torch2.1.2:0.0.40",
        "instance_type": itype,
        "region": region,
        "type": "horovod",
        "n_workers": workers,
        "env_variables": {"MLSPACE_SIM_RUNTIME_S": str(runtime_s)},
    }
    r = requests.post(f"{srv.api_url}/jobs", json=body, headers=srv.headers(creds), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["job_name"]


def populate(srv: MockServer) -> dict[str, str]:
    """Submit the work described above, at the current virtual instant; returns names."""
    creds = {"vision": VISION, "nlp": NLP}
    names = {name: submit(srv, creds[ws], *rest) for name, (ws, *rest) in WORK.items()}
    body = {
        "name": "notebook-vision",
        "image": IMAGE,
        "instance_type": "v100.1gpu",
        "region": "DGX2-MT",
    }
    r = requests.post(
        f"{srv.api_url}/notebooks/v2/{namespace_for(VISION.workspace_id)}/notebook",
        json=body,
        headers=srv.headers(VISION),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    names["server"] = r.json()["uid"]
    return names
