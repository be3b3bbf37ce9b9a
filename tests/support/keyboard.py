"""What the keyboard alone reaches on a page (for the pages' browser tests)."""

from __future__ import annotations

from typing import Any

CONTROLS = """() => [...document.querySelectorAll(
    'a[href], button, select, input:not([type=hidden]), textarea')].map(e => [
    e.tagName.toLowerCase(), e.getAttribute('name') || e.id || '',
    (e.getAttribute('action') || e.closest('form')?.getAttribute('action') || e.getAttribute('href') || ''),
    (e.innerText || e.value || '').trim().slice(0, 40)].join('|'))"""
"""Every control of the page, described as :func:`tab_stops` describes a focused one."""

_FOCUSED = """() => { const e = document.activeElement;
    if (!e || e === document.body) return null;
    return [e.tagName.toLowerCase(), e.getAttribute('name') || e.id || '',
            (e.getAttribute('action') || e.closest('form')?.getAttribute('action') || e.getAttribute('href') || ''),
            (e.innerText || e.value || '').trim().slice(0, 40)].join('|'); }"""


def tab_stops(page: Any, limit: int = 200) -> list[str]:
    """What the keyboard reaches from the top of the page, pressing Tab, until the focus
    comes round again: each focused element described (tag, name, form or link, text)."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    seen: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(_FOCUSED)
        if stop is None or (seen and stop == seen[0]):
            break
        seen.append(stop)
    return seen
