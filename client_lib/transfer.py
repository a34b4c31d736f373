"""Moving files between a region's NFS and S3: ``save_aws_credentials``, ``S3CopyJob``,
``copy_from_nfs`` and ``get_transfer_data_logs`` (on the data-transfer API's NFS→S3 copy)."""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from client_lib._session import call, home_relative
from client_lib.jobs import DEFAULT_REGION

# The NFS names the copy endpoint takes for regions whose NFS is named differently.
NFS_REGIONS = {"DGX2-MT": "V100", "A100-MT": "A100"}
ALNUM = string.ascii_lowercase + string.digits


@dataclass
class TransferData:
    """What ``copy_from_nfs`` returns: the transfer id and the created transfer rule."""

    id: str
    created_transfer_data: dict[str, Any]


def _s3_credentials() -> dict[str, str]:
    return call("GET", "s3/credentials").json()


def save_aws_credentials(namespace: str, access_key: str, secret_key: str) -> None:
    """Store the S3 keys that later copies use (the workspace keeps its endpoint)."""
    current = _s3_credentials()
    call(
        "POST",
        "s3/credentials",
        json={
            "s3_namespace": namespace,
            "s3_endpoint": current.get("s3_endpoint", ""),
            "access_key_id": access_key,
            "security_key": secret_key,
        },
    )


def _nfs_to_s3(
    source_path: str, region: str, bucket: str | None, destination: str
) -> dict[str, Any]:
    creds = _s3_credentials()
    body = {
        "source_path": home_relative(source_path),
        "destination_path": destination,
        "strategy": "write_all",
        "from_region": NFS_REGIONS.get(region, region),
        "s3_credentials": {
            "endpoint": creds.get("s3_endpoint", ""),
            "bucket": bucket if bucket is not None else creds.get("s3_namespace", ""),
            "access_key_id": creds.get("access_key_id", ""),
            "security_key": creds.get("security_key", ""),
        },
    }
    return call("POST", "data_transfer/v1/transfers/nfs_to_s3", json=body).json()


class S3CopyJob:
    """Copy a folder (or file) from the NFS to ``s3://<bucket>/<prefix>``."""

    def __init__(
        self, source: str, destination: str, recursive: bool = True, region: str = DEFAULT_REGION
    ) -> None:
        self.source, self.destination = source, destination
        self.recursive, self.region = recursive, str(region)
        self.name: str | None = None

    def submit(self) -> str:
        url = urlparse(self.destination)
        created = _nfs_to_s3(self.source, self.region, url.netloc, url.path.lstrip("/"))
        digest = hashlib.sha256(created["transfer_id"].encode()).digest()
        self.name = "copying-job-" + "".join(ALNUM[b % len(ALNUM)] for b in digest[:5])
        receipt = {"name": self.name, "status": "ok"}
        return f'S3CopyJob "{receipt}" created'


def copy_from_nfs(source_path: str, from_region: str, destination_path: str) -> TransferData:
    """Copy ``/home/jovyan/<source_path>`` of ``from_region`` into the workspace's bucket."""
    created = _nfs_to_s3(source_path, str(from_region), None, destination_path)
    return TransferData(created["transfer_id"], dict(sorted(created.items())))


def get_transfer_data_logs(transfer_id: str) -> list[dict[str, Any]]:
    """The copy's steps: ``Add source``, ``Add object`` per file, ``Start transfer``, and
    ``File transfer success`` per file, each ``{'error', 'message', 'path'}``."""
    return call("GET", f"data_transfer/v2/transfer/aicloud-logs/{transfer_id}").json()
