"""Fixtures of the HTTP API tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from support.http import World, api_world
from support.invoices import BOOK_CLOCK, SELLER, Book, invoice_book
from support.ledger import FakeClock
from support.live import LiveServer
from support.paypal_shop import paypal_shop  # noqa: F401 - a fixture used by the tests here
from support.portal import portal_world  # noqa: F401 - a fixture used by the tests here
from support.stripe_shop import shop  # noqa: F401 - a fixture used by the tests here

from subledger.bootstrap import build_api, build_projector
from subledger.config import Settings


@pytest.fixture
def world(http: httpx.Client) -> World:
    """A catalog, a subscriber and a subscription in each state, made over HTTP (api_world)."""
    return api_world(http)


@dataclass(frozen=True)
class InvoiceApi:
    """A live API over the invoice book (support.invoices), its read models caught up."""

    book: Book
    url: str
    projector: Any

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, headers=headers)


@pytest.fixture
def invoice_api_with(settings: Settings, ledger_on: Callable[..., Any]) -> Iterator[Callable[..., InvoiceApi]]:
    """Makes :class:`InvoiceApi` with other settings (``invoice_api_with(api_keys=...)``);
    the seller is ``SELLER``."""
    servers: list[LiveServer] = []
    ledger = ledger_on(clock=FakeClock(BOOK_CLOCK))
    projector = build_projector(settings, ledger)
    book = invoice_book(ledger, settings)
    projector.run_once()

    def make(**overrides: Any) -> InvoiceApi:
        served = replace(settings, seller=SELLER, **overrides)
        servers.append(LiveServer(build_api(served, ledger=ledger, projector=projector)).__enter__())
        return InvoiceApi(book, servers[-1].url, projector)

    yield make
    for server in servers:
        server.__exit__(None, None, None)
    projector.close()
    projector.store.close()


@pytest.fixture
def invoice_http(invoice_api_with: Callable[..., InvoiceApi]) -> Iterator[tuple[httpx.Client, Book]]:
    """An HTTP client of an open API over the invoice book, and the book."""
    api = invoice_api_with()
    with api.client() as client:
        yield client, api.book

