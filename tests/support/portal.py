"""A world for the portal and the pricing page: a catalog with archived plans and coupons,
two paying subscribers with a subscription each, and a live API with a key of every role
over it (its clock held by the test, its read models caught up by hand).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from subledger.bootstrap import build_api, build_projector
from subledger.commands.ledger import Ledger
from subledger.config import Settings

from .factories import utc
from .ledger import CARD, FakeClock, add_coupon, add_plan, add_subscriber
from .live import LiveServer

NOW = utc(2026, 3, 10, 12)
"""The server clock when the world is written and the tests begin."""
STARTED = utc(2026, 3, 1)
SECRET = "portal-test-secret-0123456789abcdef"
KEYS = {"reader": "k-reader", "writer": "k-writer", "admin": "k-admin"}
"""role -> its API key on the world's server."""


@dataclass
class PortalWorld:
    ledger: Ledger
    clock: FakeClock
    projector: Any
    url: str
    ada: UUID
    ada_subscription: UUID
    bob: UUID
    bob_subscription: UUID
    app: Any = None

    def api(self, role: str = "admin") -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30,
                            headers={"Authorization": f"Bearer {KEYS[role]}"})

    def browser_client(self) -> httpx.Client:
        """A client with no API key (a subscriber's browser), keeping cookies."""
        return httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)

    def open_session(self, subscriber: UUID, role: str = "writer", **body: Any) -> dict[str, Any]:
        with self.api(role) as api:
            response = api.post(f"/subscribers/{subscriber}/portal-session", json=body or None)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    @contextmanager
    def portal_client(self, subscriber: UUID) -> Iterator[httpx.Client]:
        """A browser signed into a fresh portal session of ``subscriber``."""
        link = self.open_session(subscriber)["url"]
        with self.browser_client() as client:
            entered = client.get(link)
            assert entered.status_code == 303, entered.text
            yield client

    def catch_up(self) -> None:
        self.projector.run_once()


def build_catalog(ledger: Ledger) -> None:
    at = utc(2026, 1, 1)
    add_plan(ledger, "basic-m", tier="basic", amount=1000, name="Basic monthly")
    add_plan(ledger, "basic-y", tier="basic", amount=10000, interval="year", name="Basic yearly",
             trial_days=14)
    add_plan(ledger, "pro-m", tier="pro", amount=3000, name="Pro monthly")
    add_plan(ledger, "pro-eur", tier="pro", amount=2800, currency="EUR", name="Pro (EUR)")
    add_plan(ledger, "legacy-m", tier="legacy", amount=500, name="Legacy monthly")
    ledger.catalog.archive_plan("legacy-m", effective_at=at)
    add_coupon(ledger, "LOYAL10", percent_off=10, duration="repeating", duration_in_months=3,
               name="Loyalty")
    add_coupon(ledger, "OLD50", percent_off=50, duration="once")
    ledger.catalog.archive_coupon("OLD50", effective_at=at)


def _subscriber(ledger: Ledger, email: str) -> tuple[UUID, UUID]:
    subscriber = add_subscriber(ledger, email, token=CARD)
    subscription = ledger.subscriptions.start(subscriber.id, plan_id="basic-m", effective_at=STARTED)
    return subscriber.id, subscription.id


def portal_settings(settings: Settings) -> Settings:
    return replace(settings, api_keys={key: role for role, key in KEYS.items()},
                   session_secret=SECRET.encode())


class PortalServer:
    """The world's live server (a context manager)."""

    def __init__(self, settings: Settings, ledger: Ledger, clock: FakeClock) -> None:
        build_catalog(ledger)
        ada = _subscriber(ledger, "ada@example.com")
        bob = _subscriber(ledger, "bob@example.com")
        self.projector = build_projector(settings, ledger)
        self.projector.run_once()
        app = build_api(portal_settings(settings), ledger=ledger, projector=self.projector)
        self.server = LiveServer(app)
        self.world = PortalWorld(ledger, clock, self.projector, "", *ada, *bob, app=app)

    def __enter__(self) -> PortalWorld:
        self.world.url = self.server.__enter__().url
        return self.world

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)
        self.projector.close()
        self.projector.store.close()


def form_values(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` in a page."""
    start = html.index(f'action="{action}"')
    form = html[start:html.index("</form>", start)]
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))


def at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def portal_world(settings: Settings, ledger_on: Callable[..., Any]) -> Iterator[PortalWorld]:
    """The portal's world: catalog, Ada and Bob subscribed, a live API with a key of each
    role, the clock at ``NOW`` (a conftest uses it by importing it, as ``browser``)."""
    clock = FakeClock(NOW)
    with PortalServer(settings, ledger_on(clock=clock), clock) as world:
        yield world
