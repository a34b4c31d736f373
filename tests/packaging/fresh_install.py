"""A new user's first hour, on a fresh virtual environment: CI runs this as a step of ``.ci/run``.

It copies the Docker build context (the files the Dockerfile's ``COPY`` lines name), runs the
Dockerfile's install command there with a new venv's ``pip`` (a wheel, no extras), and then, from
a directory outside the source tree and without ``PYTHONPATH``: ``mlspace-sim serve`` on a free
port answers and takes a job over HTTP, ``mlspace-sim scenario run job_launch_cpu``, a one-day
``mlspace-sim whatif`` and ``mlspace-sim workload generate`` exit 0, and ``client_lib`` imports.
Any missing runtime dependency or package file fails it.

Usage: ``python3 tests/packaging/fresh_install.py [--keep DIR]``; stdlib only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# the Dockerfile's RUN line is exactly this command (tests/packaging/test_docker_files.py)
INSTALL = "pip wheel --no-deps --wheel-dir dist . && pip install dist/*.whl"
SERVE_TIMEOUT_S = 60.0
STEP_TIMEOUT_S = 600.0
JOB = {
    "script": "/home/jovyan/train.py",
    "base_image": "cr.ai.cloud.ru/aicloud-base-images/py3.11-torch2.4.0:0.0.40",
    "instance_type": "a100plus.1gpu.80vG.12C.96G",
    "region": "SR006",
    "env_variables": {"MLSPACE_SIM_RUNTIME_S": "600"},
}
CREDENTIALS = {"client_id": "sim-key-id", "client_secret": "sim-key-secret"}
WORKSPACE = {"x-workspace-id": "11111111-1111-4111-8111-111111111111", "x-api-key": "sim-api-key"}


def docker_context(dockerfile: Path = ROOT / "Dockerfile") -> list[str]:
    """The sources of the Dockerfile's ``COPY`` lines, relative to the project root."""
    sources: list[str] = []
    for line in dockerfile.read_text().splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
    return sources


def copy_context(into: Path) -> None:
    for name in docker_context():
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, into / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, into / name)


def step(title: str, argv: list[str] | str, env: dict[str, str], cwd: Path) -> str:
    """Run one command, echo it and its output's tail; stop the check when it fails."""
    shown = argv if isinstance(argv, str) else " ".join(argv)
    print(f"\n$ {shown}    # {title}", flush=True)
    started = time.monotonic()
    done = subprocess.run(
        argv, shell=isinstance(argv, str), env=env, cwd=cwd, capture_output=True, text=True,
        timeout=STEP_TIMEOUT_S,
    )  # fmt: skip
    out = done.stdout + done.stderr
    print("\n".join(out.strip().splitlines()[-12:]))
    print(f"[exit {done.returncode}, {time.monotonic() - started:.1f} s]", flush=True)
    if done.returncode != 0:
        raise SystemExit(f"fresh install: {title} failed")
    return out


def call(url: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json", **(headers or {}),
    })  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def serve_and_submit(env: dict[str, str], cwd: Path) -> None:
    """``mlspace-sim serve --port 0`` answers, a job submits and reads back over HTTP."""
    argv = ["mlspace-sim", "serve", "--port", "0", "--clock", "manual"]
    print(f"\n$ {' '.join(argv)}    # the README's first command, on a free port", flush=True)
    server = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        base = None
        while base is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                raise SystemExit(f"fresh install: serve exited with {server.wait()}")
            print("  " + line.rstrip())
            found = re.match(r"mlspace-sim serving (\S+)", line)
            base = found.group(1) if found else None
        if base is None:
            raise SystemExit("fresh install: serve printed no URL")
        token = call(f"{base}/service_auth", CREDENTIALS)["token"]["access_token"]
        headers = {"authorization": f"Bearer {token}", **WORKSPACE}
        job = call(f"{base}/jobs", JOB, headers)
        status = call(f"{base}/jobs/{job['job_name']}", headers=headers)["status"]
        print(f"  submitted {job['job_name']}: status {status}")
        if status not in ("pending", "running"):
            raise SystemExit(f"fresh install: a new job is {status!r}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temp dir)")
    args = p.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="mlspace-sim-fresh-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        context, venv, elsewhere = work / "context", work / "venv", work / "user"
        shutil.rmtree(context, ignore_errors=True)
        context.mkdir()
        elsewhere.mkdir(exist_ok=True)
        copy_context(context)
        step("a fresh venv", [sys.executable, "-m", "venv", "--clear", str(venv)], dict(os.environ),
             work)  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env.update(VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        step("build the wheel and install it, no extras (the Dockerfile's line)", INSTALL, env,
             context)  # fmt: skip
        step("what got installed", ["pip", "list", "--format=freeze"], env, elsewhere)
        serve_and_submit(env, elsewhere)
        step("a documented example", ["mlspace-sim", "scenario", "run", "job_launch_cpu"], env,
             elsewhere)  # fmt: skip
        step("a one-day what-if", ["mlspace-sim", "whatif", "--days", "1"], env, elsewhere)
        step("a generated workload", ["mlspace-sim", "workload", "generate", "-o", "day.csv",
                                      "--days", "1"], env, elsewhere)  # fmt: skip
        step("the notebooks' library", ["python", "-c", "import client_lib; print(client_lib.Job)"],
             env, elsewhere)  # fmt: skip
        print("\nfresh install: OK")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
