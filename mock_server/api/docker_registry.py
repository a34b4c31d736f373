"""The workspace's Docker registry over HTTP: repositories, images, tags, the login password.

The registry's state is the engine's (:mod:`simulator.registry`); this module shows it in the
spec's shapes (``Registry``, ``Repository``, ``Image``, ``Tag``) and maps its refusals. Another
workspace's repository, image or tag is not found here, and the password is only ever the
caller's own workspace's.
"""

from __future__ import annotations

from typing import Any

from mock_server import routing
from mock_server.errors import json_response, refusal, validation_error
from mock_server.models import registry as bodies
from mock_server.params import uuid_text
from mock_server.state import state, workspace
from simulator.errors import Refused, Rejected
from simulator.logs import format_ts
from simulator.registry import Image, Registry, Repository, Tag, WorkspaceRegistry


def _registry() -> Registry:
    return state().world.docker_registry()


def _found(lookup: Any, *args: Any) -> Any:
    try:
        return lookup(workspace().id, *args)
    except Rejected as exc:
        raise refusal(exc, "detail") from None


# ---- shapes -------------------------------------------------------------------------------------
def _tag(tag: Tag) -> dict[str, Any]:
    return {
        "id": tag.id,
        "name": tag.name,
        "full_name": tag.full_name,
        "image_id": tag.image.id,
        "repository_id": tag.image.repository.id,
        "push_time": format_ts(tag.pushed_at),
        "pull_time": None,
        "signed": False,
        "color": tag.color,
        "commands": {"pull": f"docker pull {tag.full_name}"},
    }


def _image(image: Image) -> dict[str, Any]:
    return {
        "id": image.id,
        "digest": image.digest,
        "full_name": image.full_name,
        "repository_id": image.repository.id,
        "size": image.size,
        "push_time": format_ts(image.pushed_at),
        "pull_time": None,
        "extra_attrs": {
            "architecture": "amd64",
            "os": "linux",
            "created": format_ts(image.pushed_at),
        },
        "tags": [_tag(t) for t in image.tags],
        "commands": {"pull": f"docker pull {image.full_name}"},
    }


def _repository(repo: Repository) -> dict[str, Any]:
    recent = repo.recent_image
    return {
        "id": repo.id,
        "name": repo.name,
        "full_name": repo.full_name,
        "description": repo.description,
        "labels": list(repo.labels),
        "created_at": format_ts(repo.created_at),
        "updated_at": format_ts(repo.updated_at),
        "registry_id": repo.registry.id,
        "tags": [_tag(t) for t in repo.tags],
        "favorite": repo.favorite,
        "recent_image": None if recent is None else _image(recent),
        "images_count": len(repo.images),
        "commands": {"push": f"docker push {repo.full_name}:<tag>"},
    }


def _current(reg: WorkspaceRegistry) -> dict[str, Any]:
    return {
        "id": reg.id,
        "name": reg.workspace,
        "created_at": format_ts(reg.created_at),
        "updated_at": format_ts(reg.updated_at),
        "repositories_count": len(reg.repositories),
        "commands": {"login": f"docker login {reg.host.split('/', 1)[0]}"},
    }


def custom_images(ws_id: str) -> list[dict[str, Any]]:
    """The workspace's images as ``configs`` offers them: each repository that has tags, with
    them (a deleted image or tag is offered no more)."""
    repos = _registry().of(ws_id).repositories.values()
    return [{"name": r.full_name, "tags": [t.name for t in r.tags]} for r in repos if r.tags]


# ---- operations ---------------------------------------------------------------------------------
def generate_password() -> Any:
    """A new password for the caller's own registry (deterministic per seed and instant)."""
    return json_response({"password": _registry().password(workspace().id)})


def current_registry() -> Any:
    return json_response(_current(_registry().of(workspace().id)))


def list_repositories() -> Any:
    """The workspace's repositories, most recently changed first; ``page``/``page_size``
    (beyond the spec, sent by ``mlspace-plugin``) take one page of them."""
    repos = _registry().repositories(workspace().id)
    query = routing.query()
    if query.page_size is not None:
        start = (query.page - 1) * query.page_size
        repos = repos[start : start + query.page_size]
    return json_response([_repository(r) for r in repos])


def get_repository(repository_id: str) -> Any:
    repo_id = uuid_text(["path", "repository_id"], repository_id)
    return json_response(_repository(_found(_registry().repository, repo_id)))


def update_repository(repository_id: str) -> Any:
    """Describe the repository, add labels, remove labels."""
    repo_id = uuid_text(["path", "repository_id"], repository_id)
    body: bodies.UpdateRepository = routing.body()
    reg = _registry()
    repo = reg.update_repository(
        _found(reg.repository, repo_id),
        description=body.description,
        set_description="description" in body.model_fields_set,
        labels=body.labels or (),
        labels_to_delete=body.labels_to_delete or (),
    )
    return json_response(_repository(repo))


def favorite_repository(repository_id: str) -> Any:
    repo_id = uuid_text(["path", "repository_id"], repository_id)
    reg = _registry()
    repo = _found(reg.repository, repo_id)
    return json_response(_repository(reg.set_favorite(repo, routing.body().favorite)))


def delete_repositories() -> Any:
    ids = [str(i) for i in routing.body().repository_ids]
    return json_response(_registry().delete_repositories(workspace().id, ids))


def list_images() -> Any:
    """The repository's images, most recent push first."""
    repo = _found(_registry().repository, str(routing.query().repository_id))
    return json_response([_image(i) for i in reversed(repo.images)])


def get_image(image_id: str) -> Any:
    img_id = uuid_text(["path", "image_id"], image_id)
    return json_response(_image(_found(_registry().image, img_id)))


def delete_images() -> Any:
    ids = [str(i) for i in routing.body().image_ids]
    return json_response(_registry().delete_images(workspace().id, ids))


def list_tags() -> Any:
    image = _found(_registry().image, str(routing.query().image_id))
    return json_response([_tag(t) for t in image.tags])


def _tag_name_error(exc: Refused, name: str) -> Any:
    """A tag name Docker refuses: FastAPI's 422 on ``name``, nothing changed."""
    return validation_error(
        ["body", "name"], f"Value error, {exc.message}", "value_error", input=name
    )


def create_tag() -> Any:
    body: bodies.CreateTag = routing.body()
    try:
        tag = _registry().create_tag(workspace().id, str(body.image_id), body.name, body.color)
    except Refused as exc:
        raise _tag_name_error(exc, body.name) from None
    except Rejected as exc:
        raise refusal(exc, "detail") from None
    return json_response(_tag(tag))


def update_tag(tag_id: str) -> Any:
    """Recolour the tag, or rename it (``name``, beyond the spec)."""
    tid = uuid_text(["path", "tag_id"], tag_id)
    body: bodies.UpdateTag = routing.body()
    reg = _registry()
    tag = _found(reg.tag, tid)
    try:
        reg.update_tag(
            tag, name=body.name, color=body.color, set_color="color" in body.model_fields_set
        )
    except Refused as exc:
        raise _tag_name_error(exc, body.name or "") from None
    except Rejected as exc:
        raise refusal(exc, "detail") from None
    return json_response(_tag(tag))


def delete_tags() -> Any:
    ids = [str(i) for i in routing.body().tag_ids]
    return json_response(_registry().delete_tags(workspace().id, ids))
