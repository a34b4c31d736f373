"""The console in a real headless Chromium: what a person opening /_mock/ui would see.

Work from two workspaces, two virtual minutes on the clock, then the page: the running job and
its nodes, the queue with its reasons, the bill. Then the page's own "+1 h" button and a clock
move made elsewhere: the page shows each new state by itself (the same document, no reload).
Screenshots are kept in the artifacts folder (see conftest).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from mock_server.testing import MockServer
from tests.support.console import console_server, populate

TOKEN = "console-e2e-token"
PAGE_WAIT_S = 20.0  # wall seconds for the page's next poll to land (it polls every second)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[MockServer, dict[str, str]]]:
    """A fresh server per test (tests may run in any order, on any xdist worker)."""
    with console_server(tmp_path, settings={"admin_token": TOKEN}) as srv:
        names = populate(srv)
        srv.advance(120)
        yield srv, names


def text_of(browser: Any, css: str) -> str:
    found = browser.find_elements(By.CSS_SELECTOR, css)
    return found[0].text if found else ""


def wait_for(browser: Any, check: Any, what: str) -> None:
    WebDriverWait(browser, PAGE_WAIT_S, poll_frequency=0.1).until(
        lambda b: check(b), message=f"the page never showed {what}"
    )


def bill(srv: MockServer) -> dict[str, Any]:
    r = requests.get(
        f"{srv.base_url}/_mock/ui/state.json", headers={"x-admin-token": TOKEN}, timeout=10
    )
    return r.json()["money"]


def test_the_page_shows_running_work_its_nodes_the_queue_and_the_bill(
    browser: Any, world: tuple[MockServer, dict[str, str]], artifacts: Path
) -> None:
    srv, names = world
    browser.get(f"{srv.base_url}/_mock/ui?token={TOKEN}")  # sets the cookie, then drops the token
    assert browser.current_url == f"{srv.base_url}/_mock/ui"
    running = names["a_train"]
    row = f'tr[data-item="{running}"]'
    wait_for(browser, lambda b: "Running" in text_of(b, row), "the running job")
    assert text_of(browser, "#clock-now") == "2025-02-26 10:02:00 UTC"

    nodes = text_of(browser, f"{row} td:nth-child(6)").split(", ")
    assert len(nodes) == 2 and all(n.startswith("gpu-") for n in nodes)
    for node in nodes:  # the pool grid names the job on the node's hover text
        cell = browser.find_element(By.CSS_SELECTOR, f'[data-node="{node}"]')
        assert running in cell.get_attribute("title")
        assert len(cell.find_elements(By.CSS_SELECTOR, ".cell[data-workspace]")) == 8

    big, tiny = names["a_big"], names["b_tiny"]
    assert "no room for the gang" in text_of(browser, f'tr[data-waiting="{big}"]')
    assert "keeps it behind" in text_of(browser, f'tr[data-waiting="{tiny}"]')
    behind = browser.find_element(By.CSS_SELECTOR, f'tr[data-waiting="{tiny}"] td:last-child span')
    assert behind.get_attribute("title") == big
    assert "default-dgx2-mt" in text_of(browser, f'tr[data-waiting="{big}"]')

    money = bill(srv)
    by_ws = {w["workspace"]: w for w in money["workspaces"]}
    assert len(by_ws) == 2 and all(Decimal(w["total"]) > 0 for w in by_ws.values())
    for ws, line in by_ws.items():
        shown = text_of(browser, f'tr[data-bill="{ws}"]')
        assert f"{Decimal(line['total']):,.2f}" in shown
    assert text_of(browser, "#money-total") == f"{Decimal(money['total']):,.2f}"
    assert "per_second" in text_of(browser, "#money-tariff")
    browser.save_screenshot(str(artifacts / "console.png"))


def test_the_page_follows_the_clock_without_a_reload(
    browser: Any, world: tuple[MockServer, dict[str, str]], artifacts: Path
) -> None:
    srv, names = world
    browser.get(f"{srv.base_url}/_mock/ui?token={TOKEN}")
    wait_for(
        browser,
        lambda b: "Running" in text_of(b, f'tr[data-item="{names["a_train"]}"]'),
        "the running job",
    )
    browser.execute_script("window.sameDocument = true")
    before = Decimal(bill(srv)["total"])

    browser.find_element(By.CSS_SELECTOR, 'button[data-advance="3600"]').click()
    wait_for(browser, lambda b: text_of(b, "#clock-now") == "2025-02-26 11:02:00 UTC", "+1 h")
    wait_for(browser, lambda b: "Nothing waits." in text_of(b, "#queue-list"), "an empty queue")
    assert "Completed" in text_of(browser, f'tr[data-item="{names["a_train"]}"]')
    assert "Running" in text_of(browser, f'tr[data-item="{names["a_big"]}"]')
    after = Decimal(bill(srv)["total"])
    assert after > before
    assert text_of(browser, "#money-total") == f"{after:,.2f}"

    srv.advance(60)  # moved by someone else: the page catches up on its next poll
    wait_for(browser, lambda b: text_of(b, "#clock-now") == "2025-02-26 11:03:00 UTC", "1 min")
    assert browser.execute_script("return window.sameDocument") is True
    browser.save_screenshot(str(artifacts / "console-after-1h.png"))


def test_the_log_of_a_job_opens_on_click(
    browser: Any, world: tuple[MockServer, dict[str, str]]
) -> None:
    srv, names = world
    browser.get(f"{srv.base_url}/_mock/ui?token={TOKEN}")
    link = f'tr[data-item="{names["b_a100"]}"] a.log-link'
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, link), "the job link")
    browser.find_element(By.CSS_SELECTOR, link).click()
    wait_for(browser, lambda b: "All workers are READY" in text_of(b, "#log-text"), "the log")
    assert names["b_a100"] in text_of(browser, "#log-title")


def test_without_the_token_the_page_is_refused(
    browser: Any, world: tuple[MockServer, dict[str, str]]
) -> None:
    srv, _ = world
    browser.get(f"{srv.base_url}/_mock/ui?token=wrong")
    assert "admin token required" in browser.find_element(By.TAG_NAME, "body").text
    browser.delete_all_cookies()
    browser.get(f"{srv.base_url}/_mock/ui")
    assert "admin token required" in browser.find_element(By.TAG_NAME, "body").text


@pytest.fixture
def served_reports(tmp_path: Path) -> Iterator[str]:
    """``mlspace-sim serve --reports DIR`` (a real process) after a real ``whatif --out``."""
    reports = tmp_path / "reports"
    whatif = [sys.executable, "-m", "mlspace_sim.cli", "whatif", "--days", "0.5"]
    whatif += ["--jobs-per-day", "20", "--notebooks-per-day", "2", "--gpus", "16,32"]
    whatif += ["--executor", "serial", "--no-progress", "--bins", "20"]
    subprocess.run(
        [*whatif, "--out", str(reports / "capacity")], check=True, timeout=300, capture_output=True
    )
    serve = [sys.executable, "-m", "mlspace_sim.cli", "serve", "--port", "0", "--clock", "manual"]
    serve += ["--admin-token", TOKEN, "--reports", str(reports)]
    proc = subprocess.Popen(serve, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # "mlspace-sim serving http://127.0.0.1:PORT/public/v2"
        base = first.split()[-1].removesuffix("/public/v2")
        assert base.startswith("http://127.0.0.1:"), first
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_whatif_report_opens_from_the_console(browser: Any, served_reports: str) -> None:
    browser.get(f"{served_reports}/_mock/ui?token={TOKEN}")
    link = "#report-list a"
    wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, link), "the report link")
    anchor = browser.find_element(By.CSS_SELECTOR, link)
    assert anchor.text == "capacity"
    browser.get(anchor.get_attribute("href"))  # the link opens a new tab; follow it here
    assert browser.find_element(By.TAG_NAME, "h1").text == "mlspace-sim what-if"
    images = browser.find_elements(By.TAG_NAME, "img")
    assert images and all(  # the plots are inline data and drawn under the report's CSP
        browser.execute_script("return arguments[0].naturalWidth", img) > 0 for img in images
    )


def test_in_realtime_mode_the_clock_and_the_bill_move_by_themselves(
    browser: Any, tmp_path: Path, artifacts: Path
) -> None:
    with console_server(tmp_path, clock="realtime", speed=600) as srv:
        names = populate(srv)
        browser.get(f"{srv.base_url}/_mock/ui")
        row = f'tr[data-item="{names["a_train"]}"]'
        wait_for(browser, lambda b: "Running" in text_of(b, row), "the running job")
        assert "realtime ×600" in text_of(browser, "#clock-mode")
        assert not browser.find_element(By.ID, "clock-controls").is_displayed()
        clock, total = text_of(browser, "#clock-now"), Decimal(text_of(browser, "#money-total"))
        wait_for(browser, lambda b: text_of(b, "#clock-now") != clock, "the clock moving")
        wait_for(
            browser,
            lambda b: Decimal(text_of(b, "#money-total").replace(",", "")) > total,
            "the bill growing",
        )
        browser.save_screenshot(str(artifacts / "console-realtime.png"))
