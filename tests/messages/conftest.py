"""Fixtures of the e-mail tests (the world they share is ``support.post``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from support.ledger import FakeClock
from support.post import START, Post
from support.smtp import SmtpServer

from subledger.bootstrap import build_projector
from subledger.commands.ledger import Ledger
from subledger.config import Settings


@pytest.fixture
def post(settings: Settings, ledger_on: Callable[..., Ledger],
         smtp_server: SmtpServer) -> Iterator[Post]:
    clock = FakeClock(START)
    ledger = ledger_on(clock=clock)
    projector = build_projector(settings, ledger)
    made = Post(ledger, clock, projector, smtp_server, [], settings)
    yield made
    for worker in made.workers:
        worker.close()
    projector.close()
    projector.store.close()
