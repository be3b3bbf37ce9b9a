"""Fixtures of the pages' browser tests: a real Chromium (support.browser) and a live server
over a demo ledger (``subledger demo``'s generator), its read models caught up."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from support.browser import browser, page  # noqa: F401 - fixtures used by the tests here
from support.live import LiveServer
from support.portal import portal_world  # noqa: F401 - the pricing page's and the portal's world

from subledger.bootstrap import build_api, build_projector
from subledger.commands.demo import generate
from subledger.commands.ledger import Ledger
from subledger.config import Settings

DEMO = {"subscribers": 40, "months": 8, "seed": 7}


@dataclass(frozen=True)
class Site:
    """A live server over a demo ledger."""

    url: str
    ledger: Ledger
    projector: Any


@pytest.fixture
def site_with(settings: Settings, ledger: Ledger) -> Iterator[Callable[..., Site]]:
    """Makes :class:`Site` with other settings (``site_with(api_keys={...})``) over one demo
    ledger."""
    generate(ledger, **DEMO)
    projector = build_projector(settings, ledger)
    projector.run_once()
    servers: list[LiveServer] = []

    def make(**overrides: Any) -> Site:
        servers.append(LiveServer(build_api(replace(settings, **overrides), ledger=ledger,
                                            projector=projector)).__enter__())
        return Site(servers[-1].url, ledger, projector)

    yield make
    for server in servers:
        server.__exit__(None, None, None)
    projector.close()
    projector.store.close()


@pytest.fixture
def site(site_with: Callable[..., Site]) -> Site:
    """An open server (no API keys) over the demo ledger."""
    return site_with()
