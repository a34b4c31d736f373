"""TensorBoards (``mls tensorboard``): the same server lifecycle as Jupyter Servers, created with
the event-log directories to serve (``logdir``). The shared server logic is in ``_servers``."""

from __future__ import annotations

from typing import Any

from mock_server.api import _servers as servers
from mock_server.api._servers import TENSORBOARD
from mock_server.errors import json_response
from mock_server.params import json_body

UUID_PARAM = "tensorboard_uuid"


def list_tensorboards() -> Any:
    """List the workspace's TensorBoards (filters, order, page)."""
    return json_response(servers.listing(TENSORBOARD))


def create(namespace: str) -> Any:
    """Create a TensorBoard serving the ``logdir`` directories."""
    body = json_body()
    book = servers.create(TENSORBOARD, namespace, body)
    return json_response(servers.item(book))


def create_v1(namespace: str) -> Any:
    """The older create: one ``logdir`` and the parameters as one string (``--key=value ...``),
    kept as v2 keeps them."""
    body = json_body()
    params = body.get("tensorboard_params")
    if params is not None:
        pairs = (word.partition("=") for word in params.split())
        params = {key: value for key, _, value in pairs}
    book = servers.create(
        TENSORBOARD, namespace, {**body, "logdir": [body["logdir"]], "tensorboard_params": params}
    )
    return json_response(servers.item(book))


def get(tensorboard_uuid: str) -> Any:
    """One TensorBoard by uuid."""
    return json_response(servers.get(TENSORBOARD, tensorboard_uuid, UUID_PARAM))


def delete(tensorboard_uuid: str) -> Any:
    """Delete a TensorBoard (billing stops at once)."""
    return json_response(servers.delete(TENSORBOARD, tensorboard_uuid, UUID_PARAM))


def pause(tensorboard_uuid: str) -> Any:
    """Pause a TensorBoard: frees its capacity, stops billing; no request body."""
    return json_response(servers.pause(TENSORBOARD, tensorboard_uuid, UUID_PARAM))


def modify(tensorboard_uuid: str) -> Any:
    """Change description, S3 settings or the TensorBoard's autoshutdown rules."""
    return json_response(servers.modify(TENSORBOARD, tensorboard_uuid, UUID_PARAM, json_body()))


def resume(namespace: str, tensorboard_uuid: str) -> Any:
    """Resume a paused TensorBoard, possibly on another instance type."""
    body = json_body(required=False)
    return json_response(servers.resume(TENSORBOARD, namespace, tensorboard_uuid, UUID_PARAM, body))
