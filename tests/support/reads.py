"""A live API whose reads of the read models wait for a position, and no projector of its
own: a test runs the projector by hand, late or never, as a slow or stalled one would. A test
module takes the ``http`` fixture in by name (``from support.reads import http``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from subledger.bootstrap import build_api
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from support.live import LiveServer

POSITION, MIN_POSITION = "Subledger-Position", "Subledger-Min-Position"
WAIT = 3.0
"""The server's SUBLEDGER_READ_WAIT here: longer than any delay of a test's projector."""


@pytest.fixture
def http(settings: Settings, ledger: Ledger) -> Iterator[httpx.Client]:
    with LiveServer(build_api(replace(settings, read_wait=WAIT), ledger=ledger)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
