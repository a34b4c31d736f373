"""The README's commands and examples keep working."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_engine_example_runs(tmp_path: Path, monkeypatch) -> None:
    config = re.search(r"```yaml\n(pools:.*?)```", README, re.S).group(1)
    code = re.search(r"```python\nfrom simulator import World.*?```", README, re.S).group(0)
    (tmp_path / "small.yaml").write_text(config)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(code.removeprefix("```python\n").removesuffix("```"), namespace)
    job = namespace["job"]
    assert job.status in ("Completed", "Failed")
    assert namespace["world"].config.tariff == "per_minute_ceil"


def test_readme_gives_the_two_setup_commands_ci_relies_on() -> None:
    assert "pip install -e . && mlspace-sim serve" in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pytest -n 2" in README and "pytest -n 2" in ci
    assert "pip install -q -e '.[test]'" in ci and "pip install -e '.[test]'" in README


def test_readme_fixture_example_passes(mlspace_server) -> None:
    code = re.search(r"```python\nfrom mls_core import TrainingJobApi.*?```", README, re.S).group(0)
    namespace: dict = {}
    exec(code.removeprefix("```python\n").removesuffix("```"), namespace)
    namespace["test_my_pipeline"](mlspace_server)


def test_readme_failure_rehearsal_config_is_accepted(tmp_path: Path) -> None:
    from mock_server import create_app

    config = re.search(r"```yaml\n(# rehearsal.yaml.*?)```", README, re.S).group(1)
    limits = re.search(r"```yaml\n(rate_limits:.*?)```", README, re.S).group(1)
    path = tmp_path / "rehearsal.yaml"
    path.write_text(config + limits)
    app = create_app(config_path=path)
    faults = app.test_client().get("/_mock/faults").json
    assert faults["preemption"]["enabled"] is True and len(faults["rules"]) == 4
