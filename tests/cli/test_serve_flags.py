"""``mlspace-sim serve`` refuses flags it cannot honour with a usage error (exit 2, no
traceback), before it binds a port: a real process, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOUND_S = 10.0  # a refused flag answers at once; the bound only turns a hang into a failure


def serve(*flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "mlspace_sim.cli", "serve", *flags],
        env=env, capture_output=True, text=True, timeout=BOUND_S,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (("--threads", "0"), "--threads"),
        (("--threads", "-3"), "--threads"),
        (("--speed", "0"), "--speed"),
        (("--speed", "-1"), "--speed"),
        (("--speed", "inf"), "--speed"),
        (("--speed", "nan"), "--speed"),
        (("--port", "70000"), "--port"),
        (("--port", "-1"), "--port"),
        (("--port", "65536"), "--port"),
    ],
)
def test_bad_flags_are_a_usage_error(flags: tuple[str, str], named: str) -> None:
    done = serve(*flags, "--clock", "manual")
    assert done.returncode == 2, done.stderr
    assert "usage: mlspace-sim serve" in done.stderr
    assert f"argument {named}" in done.stderr and repr(flags[1]) in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_edge_values_are_accepted_by_the_parser() -> None:
    from mlspace_sim.cli import parser

    args = parser().parse_args(["serve", "--threads", "1", "--speed", "0.5", "--port", "65535"])
    assert (args.threads, args.speed, args.port) == (1, 0.5, 65535)
    assert parser().parse_args(["serve", "--port", "0"]).port == 0


def test_tls_self_signed_without_the_extra_names_it(monkeypatch, tmp_path: Path) -> None:
    from mlspace_sim.cli import parser
    from mlspace_sim.commands.serve import _tls

    for name in ("cryptography", "cryptography.x509"):
        monkeypatch.setitem(sys.modules, name, None)  # as if the 'tls' extra were not installed
    args = parser().parse_args(["serve", "--tls-self-signed", str(tmp_path)])
    with pytest.raises(SystemExit) as refused:
        _tls(args)
    assert "pip install 'mlspace-sim[tls]'" in str(refused.value)


def test_an_invalid_config_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("auth: {token_clock: sundial}\n")
    done = serve("--config", str(config), "--port", "0")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "auth.token_clock must be wall or virtual, not 'sundial'" in done.stderr


def test_a_usage_error_loads_nothing_heavy() -> None:
    """Refusing a flag must not wait for the what-if generator's imports (numpy, Faker: most of
    a second on a busy machine), so the error comes at once."""
    code = (
        "import sys\n"
        "from mlspace_sim.cli import main\n"
        "try:\n    main(['serve', '--threads', '0'])\n"
        "except SystemExit as exc:\n"
        "    print(exc.code, sorted({'numpy', 'faker'} & set(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=BOUND_S)  # fmt: skip
    assert done.stdout.strip() == "2 []", done.stdout + done.stderr
