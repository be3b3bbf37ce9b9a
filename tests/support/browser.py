"""A real headless Chromium for the pages' tests: Debian's chromium (scripts/ensure-chromium.sh
installs it), driven by Playwright for Python. Import the fixtures into a conftest.

Screenshots the tests take go to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SUBLEDGER_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """The browser, launched once per test session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no chromium at {CHROMIUM}: run scripts/ensure-chromium.sh (as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh page in a context of its own (its own cookies), laptop-sized."""
    context = chromium.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save the whole page as ``tests/artifacts/<name>.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def tab_stops(page: Any, limit: int = 200) -> list[str]:
    """What the keyboard reaches from the top of the page, pressing Tab: a description of
    each focused element (tag, name or id, text), until the focus comes round again."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    seen: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate("""() => { const e = document.activeElement;
            if (!e || e === document.body) return null;
            return [e.tagName.toLowerCase(), e.getAttribute('name') || e.id || '',
                    (e.getAttribute('action') || e.closest('form')?.getAttribute('action') || e.getAttribute('href') || ''),
                    (e.innerText || e.value || '').trim().slice(0, 40)].join('|'); }""")
        if stop is None or (seen and stop == seen[0]):
            break
        seen.append(stop)
    return seen
