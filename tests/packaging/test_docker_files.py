"""No Docker engine runs here: check that the compose file and Dockerfile agree with the CLI."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from mlspace_sim.cli import parser
from mock_server.security import ADMIN_TOKEN_ENV, admin_token_for

ROOT = Path(__file__).resolve().parents[2]


def _compose_service() -> dict:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]["mlspace-sim"]


def test_compose_command_is_a_valid_serve_invocation_on_the_published_port() -> None:
    service = _compose_service()
    args = parser().parse_args(service["command"][1:])
    assert service["command"][0] == "mlspace-sim"
    assert args.command == "serve"
    assert args.host == "0.0.0.0"
    assert f"{args.port}:{args.port}" in service["ports"]


def test_compose_healthcheck_probes_the_served_port() -> None:
    service = _compose_service()
    args = parser().parse_args(service["command"][1:])
    probe = " ".join(service["healthcheck"]["test"])
    assert f"127.0.0.1:{args.port}/public/v2/openapi.json" in probe


def test_dockerfile_runs_the_same_server_as_compose() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    args = parser().parse_args(_dockerfile_argv()[1:])
    assert args.command == "serve" and args.port == 8080
    expose = next(line for line in lines if line.startswith("EXPOSE "))
    assert shlex.split(expose)[1] == str(args.port)


def test_dockerfile_ships_every_package_the_project_installs() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for package in ("simulator", "mock_server", "mlspace_sim", "scenarios", "client_lib"):
        assert f"COPY {package} ./{package}" in text


def test_dockerfile_installs_with_the_fresh_install_checks_command() -> None:
    from tests.packaging.fresh_install import INSTALL

    runs = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if "pip " in line]
    assert runs == [f"RUN {INSTALL}"]


def test_dockerignore_keeps_out_what_the_image_does_not_copy() -> None:
    from tests.packaging.fresh_install import docker_context

    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", "tests", "**/__pycache__", "out"} <= ignored
    assert not ignored & set(docker_context())


def _dockerfile_argv() -> list[str]:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    return yaml.safe_load(next(line for line in lines if line.startswith("CMD "))[4:])


def test_compose_passes_the_admin_token_through_with_an_empty_default() -> None:
    env = _compose_service()["environment"]
    assert env[ADMIN_TOKEN_ENV] == f"${{{ADMIN_TOKEN_ENV}:-}}"


@pytest.mark.parametrize("where", ["compose", "Dockerfile"])
def test_the_container_server_never_opens_its_admin_api_without_a_token(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ADMIN_TOKEN_ENV, "")  # what compose passes when the variable is unset
    argv = _compose_service()["command"] if where == "compose" else _dockerfile_argv()
    args = parser().parse_args(argv[1:])
    token, made = admin_token_for(args.host, args.admin_token, admin=not args.no_admin)
    assert args.host == "0.0.0.0" and token and made
    monkeypatch.setenv(ADMIN_TOKEN_ENV, "from-env")
    args = parser().parse_args(argv[1:])
    assert admin_token_for(args.host, args.admin_token, admin=True) == ("from-env", False)
