"""Region configuration (``configs``) for Jupyter Servers, TensorBoards and jobs; Spark presets.

``cluster_type=MT`` lists every region of the catalog with its instance types; resource values
are Kubernetes quantity strings (``"0.5"``, ``"3Gi"``, ``"1"``) as the platform sends them, under
the platform's spelling ``instances_types``. The image lists below are the images the official
examples and the spec name; ``custom_images`` are the tagged images of this workspace's registry.
``cluster_type=INF`` lists the inference regions (the catalog's ``cluster_type: INF`` entries) the
same way, with no datahub images (a deployment serves a built image).
"""

from __future__ import annotations

from typing import Any

from mock_server import routing
from mock_server.api.docker_registry import custom_images
from mock_server.errors import json_response
from mock_server.state import state, workspace
from simulator.catalog import InstanceType, Region

SSH_PORT = "2222"
FREE_TIER_REQUESTS = {"cpu": "0", "memory": "64Mi", "nvidia.com/gpu": "0"}  # free.0gpu, 2023
NOTEBOOK_IMAGES: tuple[dict[str, Any], ...] = (
    {
        "name": "cr.ai.cloud.ru/aicloud-jupyter/jupyter-server",
        "tags": ["latest", "0.0.95", "0.0.92"],
        "title": "Jupyter Server",
        "description": "JupyterLab with Python 3 and CUDA",
        "icon_key": "jupyter",
        "type": "datahub",
    },
    {
        "name": "cr.ai.cloud.ru/aicloud-tensorboard/tensorboard-server",
        "tags": ["latest"],
        "title": "TensorBoard",
        "description": "TensorBoard server",
        "icon_key": "tensorboard",
        "type": "datahub",
    },
)
JOB_BASE_IMAGES: tuple[tuple[str, list[str]], ...] = (
    ("py3.10-torch2.1.2", ["0.0.40"]),
    ("py3.10-torch2.2.2", ["0.0.40"]),
    ("py3.11-torch2.4.0", ["0.0.40"]),
    ("cuda12.1-torch2-py39", ["0.0.36"]),
    ("cuda12.1-torch2-py311", ["0.0.36"]),
    ("horovod-cuda11.0-tf2.4.0-pt1.7.1", ["0.0.28"]),
    ("horovod-cuda11.0-tf2.4.0-pt1.7.1-a100", ["latest"]),
    ("horovod-cuda10.0-tf1.15.0-pt1.3.0", ["latest", "0.0.32.3"]),
)
SPARK_SIZES = (("small", 4, 16), ("middle", 8, 32), ("large", 12, 48), ("giant", 24, 96))
SPARK_JUPYTER_IMAGE = "registry.aicloud.sbcp.ru/jupyter-cuda10.1-tf2.3.0-mlspace:0.0.70"
SPARK_IMAGE = {"image": "registry.aicloud.sbcp.ru/spark-3.0.1:0.0.1", "spark-version": "3.0.1"}


def _quantity(value: float, unit: str = "") -> str:
    return f"{value:g}{unit}"


def _instance_type(itype: InstanceType, free: bool) -> dict[str, Any]:
    limits = {
        "cpu": _quantity(itype.cpu),
        "memory": _quantity(itype.memory_gi, "Gi"),
        "nvidia.com/gpu": _quantity(itype.gpus),
    }
    return {
        "key": itype.key,
        "name": itype.name,
        "images": [dict(image) for image in NOTEBOOK_IMAGES],
        "resource": {"limits": limits, "requests": FREE_TIER_REQUESTS if free else limits},
    }


def cluster_config(region: Region) -> dict[str, Any]:
    """One ``ClusterConfig``; a free-tier type requests next to nothing, like ``free.0gpu``."""
    free = state().world.config.prices.free
    return {
        "key": region.key,
        "name": region.name,
        "description": region.description,
        "nfsName": region.nfs_name or f"NFS {region.name}",
        "instances_types": [
            _instance_type(t, t.key in free) for t in region.instance_types.values()
        ],
        "ssh": {"url": region.ssh_host, "port": SSH_PORT} if region.ssh_host else None,
    }


def get_config() -> Any:
    cluster_type = routing.query().cluster_type.value
    custom = custom_images(workspace().id)
    catalog = state().world.config.catalog
    if cluster_type == "INF":
        inference = [cluster_config(r) for r in catalog.inference_regions.values()]
        return json_response({"regions": inference, "datahub_images": [], "custom_images": custom})
    regions = catalog.regions.values()
    datahub = [{"name": image["name"], "tags": image["tags"]} for image in NOTEBOOK_IMAGES]
    datahub += [
        {"name": f"cr.ai.cloud.ru/aicloud-base-images/{name}", "tags": tags}
        for name, tags in JOB_BASE_IMAGES
    ]
    return json_response(
        {
            "regions": [cluster_config(r) for r in regions],
            "datahub_images": datahub,
            "custom_images": custom,
        }
    )


def spark_config() -> Any:
    """The fixed Spark presets the public-API notebook printed (not part of the spec)."""
    presets = [
        {
            "cpu": cpu,
            "description": f"cpu-ai-{size} ({cpu} vCPU, {memory} GB)",
            "id": f"cpu_{i}",
            "memory": f"{memory}Gi",
            "type": "cpu",
        }
        for i, (size, cpu, memory) in enumerate(SPARK_SIZES)
    ]
    return json_response(
        {
            "driver_resources": presets,
            "executor": {"max": 10, "min": 1},
            "executor_resources": presets,
            "jupyter_server_images": [SPARK_JUPYTER_IMAGE],
            "spark_images": [{**SPARK_IMAGE, "type": "cpu"}],
        }
    )
