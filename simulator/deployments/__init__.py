"""Inference deployments: replicas on inference pools, autoscaling, predictions, billing."""

from simulator.deployments.asynchronous import AsyncRequest, AsyncRequests
from simulator.deployments.manager import Deployments, Prediction
from simulator.deployments.model import Deployment, DeploymentSpec

__all__ = [
    "AsyncRequest",
    "AsyncRequests",
    "Deployment",
    "DeploymentSpec",
    "Deployments",
    "Prediction",
]
