"""AI Services over HTTP: the artifact marketplace and its moderation.

The marketplace is the engine's (:mod:`simulator.ai_services`); this module shows artifacts and
applications as JSON (the spec leaves every answer untyped) and maps refusals in the FastAPI
``{"detail": ...}`` shape. The moderation decision, which the spec types no input for, is read
from the query (``id_``, ``status``, ``comment``) or a JSON body of the same keys.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request

from mock_server import routing
from mock_server.errors import json_response, refusal, validation_error, validation_errors
from mock_server.inputs import absent, parsed_body
from mock_server.models import ai_services as bodies
from mock_server.state import state, workspace
from simulator.ai_services import (
    ACTIONS,
    KINDS,
    REGISTRY_TYPES,
    STATUSES,
    Application,
    Artifact,
    Marketplace,
)
from simulator.errors import Rejected
from simulator.logs import format_ts
from simulator.transfers.store import user_uid


def _market() -> Marketplace:
    return state().world.marketplace()


def _artifact(a: Artifact) -> dict[str, Any]:
    return {
        **a.fields,
        "id": a.id,
        "slug": a.slug,
        "workspace_id": a.workspace,
        "owner_id": a.owner_id,
        "status": a.status,
        "created_at": format_ts(a.created_at),
        "updated_at": format_ts(a.updated_at),
    }


def _application(app: Application) -> dict[str, Any]:
    return {
        "id": app.id,
        "artifact_id": app.artifact_id,
        "status": app.status,
        "decision": app.decision,
        "comment": app.comment,
        "created_at": format_ts(app.created_at),
        "decided_at": None if app.decided_at is None else format_ts(app.decided_at),
    }


def _body() -> Any:
    return request.get_data(cache=True)


def _act(action: Any, *args: Any) -> Any:
    try:
        return action(*args)
    except Rejected as exc:
        raise refusal(exc, "detail") from None


def list_tags() -> Any:
    """Tag keys of the artifacts the caller sees, with the values used."""
    tags = _market().tags(workspace().id)
    return json_response([{"key": k, "values": v} for k, v in tags.items()])


def get_by_id(id_: str) -> Any:
    return json_response(_artifact(_act(_market().get, workspace().id, id_)))


def get_by_slug(slug: str) -> Any:
    return json_response(_artifact(_act(_market().by_slug, workspace().id, slug)))


def create() -> Any:
    """A new artifact of the caller's workspace, sent to moderation."""
    body = bodies.CreateArtifactRequestViewModel.model_validate_json(_body())
    ws = workspace()
    fields = body.model_dump(mode="json")
    artifact = _market().create(ws.id, user_uid(ws.owner_email), fields)
    return json_response(_artifact(artifact))


def list_artifacts() -> Any:
    """Published artifacts and the caller's own, filtered by kinds and statuses, one page."""
    raw = _body()
    body = (
        bodies.ListArtifacts()
        if absent(parsed_body())
        else bodies.ListArtifacts.model_validate_json(raw)
    )
    found = _market().search(
        workspace().id, kinds=body.kinds, statuses=[s.value for s in body.statuses]
    )
    start = (body.page - 1) * body.size
    page = found[start : start + body.size]
    return json_response(
        {
            "items": [_artifact(a) for a in page],
            "total": len(found),
            "page": body.page,
            "size": body.size,
        }
    )


def dictionaries() -> Any:
    """The values an artifact's fields take."""
    return json_response(
        {
            "kinds": list(KINDS),
            "actions": list(ACTIONS),
            "registry_types": list(REGISTRY_TYPES),
            "statuses": list(STATUSES),
        }
    )


def on_moderation() -> Any:
    return json_response([_artifact(a) for a in _market().on_moderation()])


def applications() -> Any:
    return json_response([_application(app) for app in _market().applications()])


def _decision() -> bodies.UpdateModerationStatus:
    """The decision from the JSON body, else from the query."""
    if not absent(parsed_body()):
        return bodies.UpdateModerationStatus.model_validate_json(_body())
    query = routing.query()
    missing = [name for name in ("id_", "status") if getattr(query, name) is None]
    if missing:
        raise validation_errors(
            [
                {"type": "missing", "loc": ["query", n], "msg": "Field required", "input": None}
                for n in missing
            ]
        )
    return bodies.UpdateModerationStatus(id_=query.id_, status=query.status, comment=query.comment)


def update_status() -> Any:
    """A moderator publishes or rejects an artifact on moderation."""
    decision = _decision()
    artifact = _act(_market().decide, str(decision.id_), decision.status.value, decision.comment)
    return json_response(_artifact(artifact))


def update() -> Any:
    """Change the caller's own artifact; a published or rejected one is moderated again."""
    body = bodies.UpdateArtifactRequestViewModel.model_validate_json(_body())
    changes = body.model_dump(mode="json", exclude_none=True, exclude={"id_"})
    if not changes:
        raise validation_error(
            ["body"], "Value error, nothing to change", "value_error", input=json.loads(_body())
        )
    artifact = _act(_market().update, workspace().id, str(body.id_), changes)
    return json_response(_artifact(artifact))
