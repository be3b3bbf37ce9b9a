"""A real headless Chromium for the pages' browser tests: Debian's ``chromium`` driven by
Playwright for Python (``playwright install``, its own browser download, does not work
here). ``scripts/ensure-chromium.sh`` installs chromium when it is missing and it can (as
root, with apt-get); only when it cannot do the browser tests skip, saying why.

A conftest uses the fixtures by importing them: ``from support.browser import browser, page``.
Screenshots go under ``build/screenshots/`` (git-ignored), as the test run's artifacts.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ENSURE_CHROMIUM = REPO / "scripts" / "ensure-chromium.sh"
SCREENSHOTS = REPO / "build" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium() -> str:
    """The path of chromium, installed if missing and possible; skips the test otherwise."""
    try:
        found = subprocess.run(["bash", str(ENSURE_CHROMIUM)], capture_output=True, text=True,
                               timeout=900, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"no chromium for the browser tests: {error}")
    if found.returncode != 0:
        pytest.skip(f"no chromium for the browser tests: {found.stderr.strip()}")
    return found.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    path = chromium()
    with sync_playwright() as playwright:
        running = playwright.chromium.launch(executable_path=path, headless=True, args=FLAGS)
        yield running
        running.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) at a laptop's size; console errors fail the test."""
    context = browser.new_context(viewport=LAPTOP)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.set_default_timeout(30_000)
    yield opened
    context.close()
    assert errors == [], errors


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as ``build/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
