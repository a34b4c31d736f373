"""An offline ``client_lib``: the job library of ML Space Jupyter images, against mlspace-sim.

Code written for the in-Jupyter library runs unchanged; where the server is and which keys to use
come from ``MLSPACE_SIM_*`` environment variables (see ``client_lib._session.Settings``).
"""

from client_lib._session import ClientLibError, Settings, use
from client_lib.images import ImageBuildJob
from client_lib.jobs import Job, jobs, kill, logs
from client_lib.resources import ClusterType, RegionEnum, get_instance_types
from client_lib.transfer import (
    S3CopyJob,
    TransferData,
    copy_from_nfs,
    get_transfer_data_logs,
    save_aws_credentials,
)

__all__ = [
    "ClientLibError",
    "ClusterType",
    "ImageBuildJob",
    "Job",
    "RegionEnum",
    "S3CopyJob",
    "Settings",
    "TransferData",
    "copy_from_nfs",
    "get_instance_types",
    "get_transfer_data_logs",
    "jobs",
    "kill",
    "logs",
    "save_aws_credentials",
    "use",
]
