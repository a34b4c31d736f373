"""The engine says what went wrong in the domain's words; only the mock server speaks HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import simulator
from mock_server.errors import BODIES, STATUS, refusal
from simulator import Conflict, NotFound, Refused, World

ENGINE = Path(simulator.__file__).parent
WEB_MODULES = ("flask", "werkzeug", "http", "requests", "mock_server")
HTTP_STATUSES = range(400, 600)


def engine_sources() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


@pytest.mark.parametrize("path", engine_sources(), ids=lambda p: str(p.relative_to(ENGINE)))
def test_engine_module_imports_nothing_of_the_web(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in WEB_MODULES, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", engine_sources(), ids=lambda p: str(p.relative_to(ENGINE)))
def test_engine_module_chooses_no_http_status(path):
    """No refusal carries a 4xx/5xx number, and no code names an HTTP status."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword):
            assert node.arg not in ("http_status", "status_code"), f"{path.name}: {node.arg}="
        if isinstance(node, ast.Raise):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Constant) and type(inner.value) is int:
                    assert inner.value not in HTTP_STATUSES, f"{path.name}:{inner.lineno}"


def test_every_refusal_class_has_a_status_and_a_body_in_every_dialect():
    for cls in (Refused, NotFound, Conflict):
        assert refusal(cls("x"), "platform").status == STATUS[cls]
        for dialect in BODIES:
            assert refusal(cls("x"), dialect).body


def test_refusals_reach_the_caller_in_domain_terms():
    w = World(seed=1)
    with pytest.raises(Refused, match="Can't find instance_type_key"):
        w.submit_job(
            {"script": "a.py", "base_image": "i", "instance_type": "zz", "region": "DGX2-MT"},
            workspace="ws",
        )
    with pytest.raises(NotFound):
        w.restart_job("nope")
    with pytest.raises(NotFound):
        w.fail_node("nowhere")
