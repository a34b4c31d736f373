"""A real headless Chromium (Debian's ``chromium`` and ``chromium-driver``) driven by Selenium.

No browser is downloaded: the system binaries are used. Where they are missing the tests skip,
except in CI (``CI`` set), where ``.ci/run`` installs them and a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("MLSPACE_SIM_CHROMIUM") or shutil.which("chromium") or ""
CHROMEDRIVER = os.environ.get("MLSPACE_SIM_CHROMEDRIVER") or shutil.which("chromedriver") or ""
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1440,1320",
)
ARTIFACTS = Path(os.environ.get("MLSPACE_SIM_ARTIFACTS", "out/e2e"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A fresh headless Chromium with its own profile, closed after the module."""
    if not (CHROMIUM and CHROMEDRIVER):
        message = "chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="mlspace-sim-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots are kept after the run (``$MLSPACE_SIM_ARTIFACTS``, else out/e2e)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
