"""Data-transfer facts: connector types, their parameters, clusters, and the connection test.

The connection test cannot reach anything offline, so it checks what a real one would trip over
first: an endpoint that is not a host, a bucket name S3 would refuse, empty credentials, a port
out of range. Everything else "connects".
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from simulator.transfers.runs import SQL_TYPES

S3_TYPES = ("s3amazon", "s3custom", "s3google")
CUSTOM_TYPES = (*SQL_TYPES, *S3_TYPES)
CONNECTOR_TYPES = (
    *CUSTOM_TYPES,
    "hdfs",
    "s3mlspace",
    "s3datahub",
    "nfs",
    "nfsprivate",
    "nfsshared",
    "s3evolution",
)
TARGET_TYPES = ("s3mlspace", "s3custom", "nfs", "nfsprivate", "nfsshared", "s3evolution")
STRATEGIES = ("write_all", "append_new", "sync_all")
CLUSTERS = (
    "christofari-1",
    "christofari-2",
    "pd30",
    "pd30.nfs2",
    "pd42",
    "pd42.nfs2",
    "pd42.nfs3",
    "sr005",
    "sr006",
    "sr006.nfs2",
    "sr006.nfs3",
    "sr006.nfs4",
    "sr008",
    "sr008.fs2",
    "sr008.nfs2",
    "sr008.nfs3",
    "sr009",
)
# The deprecated NFS<->S3 copy routes name an NFS by region; the rule they create names its
# cluster. The spec's NFS region enum comes first, then legacy keys client_lib and the public-API
# notebook send. Only SR002-MT -> pd11 was observed (2024 copy_from_nfs output); the others pair
# each NFS with the cluster name that looks like its own, CCE (SR.01, "CPU, V100") with the V100
# site, and ONEAPI, which has no look-alike, with SR003's.
NFS_CLUSTERS = {
    "V100": "christofari-1",
    "A100": "christofari-2",
    "ONEAPI": "pd30",
    "SR003": "pd30",
    "SR003.NFS2": "pd30.nfs2",
    "SR004": "pd42",
    "SR004.NFS2": "pd42.nfs2",
    "SR005": "sr005",
    "SR006": "sr006",
    "SR008": "sr008",
    "SR002-MT": "pd11",
    "CCE": "christofari-1",
    "CCE-MT": "christofari-1",
    "DGX2-MT": "christofari-1",
    "A100-MT": "christofari-2",
}

# parameter name -> (title, secret); secrets are accepted but never shown back
S3_PARAMS = {
    "endpoint": ("Endpoint", False),
    "bucket": ("Bucket", False),
    "access_key_id": ("Access Key Id", True),
    "security_key": ("Security Key", True),
}
SQL_PARAMS = {
    "host": ("Host", False),
    "port": ("Port", False),
    "user": ("User", False),
    "database": ("Database", False),
    "password": ("Password", True),
}
SOURCE_NAMES = {
    "postgresql": "PostgreSQL",
    "mssql": "Microsoft SQL Server",
    "mysql": "MySQL",
    "clickhouse": "ClickHouse",
    "oracledb": "Oracle Database",
    "s3amazon": "Amazon S3",
    "s3custom": "S3-compatible storage",
    "s3google": "Google Cloud Storage",
}
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


def param_spec(source_type: str) -> dict[str, tuple[str, bool]]:
    """The parameters a user-created connector of this type takes."""
    return S3_PARAMS if source_type in S3_TYPES else SQL_PARAMS


def parameters_schema(source_type: str) -> dict[str, Any]:
    """JSON Schema of a type's parameters, as ``connectors/sources`` publishes it."""
    props: dict[str, Any] = {}
    for name, (title, secret) in param_spec(source_type).items():
        prop: dict[str, Any] = {"title": title, "type": "integer" if name == "port" else "string"}
        if name == "port":
            prop |= {"exclusiveMinimum": 0, "exclusiveMaximum": 65536}
        if secret:
            prop |= {"format": "password", "writeOnly": True}
        props[name] = prop
    return {
        "title": f"{SOURCE_NAMES[source_type]} parameters",
        "type": "object",
        "properties": props,
        "required": list(props),
    }


def public_parameters(source_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """What the API shows of a connector's parameters: everything but the secrets."""
    if source_type not in CUSTOM_TYPES:
        return dict(params)
    return {k: params.get(k) for k, (_, secret) in param_spec(source_type).items() if not secret}


def _s3_problems(params: dict[str, Any]) -> tuple[str, list[str]]:
    endpoint = str(params.get("endpoint") or "").strip()
    url = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")
    problems = []
    if url.scheme not in ("http", "https") or not url.hostname or not HOST_RE.match(url.hostname):
        problems.append(f"Error: endpoint {endpoint!r} is not an http(s) URL or host name")
    bucket = str(params.get("bucket") or "")
    if not BUCKET_RE.match(bucket) or ".." in bucket:
        problems.append(f"Error: bucket name {bucket!r} is not a valid S3 bucket name")
    if not params.get("access_key_id") or not params.get("security_key"):
        problems.append("Error: access key id and secret key are required")
    first = f"Connecting to {endpoint or '<empty endpoint>'}, bucket {bucket!r}"
    return first, problems


def _sql_problems(params: dict[str, Any]) -> tuple[str, list[str]]:
    host, port, user = str(params.get("host") or "").strip(), params.get("port"), params.get("user")
    problems = []
    if not HOST_RE.match(host):
        problems.append(f"Error: could not resolve host {host!r}")
    if not user or not params.get("password"):
        problems.append(f"Error: authentication failed for user {user!r}")
    if not params.get("database"):
        problems.append("Error: database name is required")
    first = f"Connecting to {host or '<empty host>'}:{port}, database {params.get('database')!r}"
    return first, problems


def check_connection(source_type: str, params: dict[str, Any]) -> tuple[bool, list[str]]:
    """(passed, log lines) of a connection test; system connector types always pass."""
    if source_type in S3_TYPES:
        first, problems = _s3_problems(params)
    elif source_type in SQL_TYPES:
        first, problems = _sql_problems(params)
    else:
        return True, ["Checking platform storage", "Connection test passed"]
    if problems:
        return False, [first, *problems, "Connection test failed"]
    return True, [first, "Connection established", "Connection test passed"]
