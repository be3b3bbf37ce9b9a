"""Helpers of the write side: a controllable clock, the ledger's commands with defaults,
and readers of what the log recorded. (These take the `Ledger` under test.)

Nothing here computes an expected amount: the tests write their amounts by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from .factories import utc


class FakeClock:
    """A server clock the test moves by hand: ``build_ledger(settings, clock=FakeClock(t))``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, now: datetime) -> datetime:
        self.now = now
        return now


CATALOG_AT = utc(2026, 1, 1)
"""When the catalog and the subscribers of the write-side scenarios come into existence."""


def add_plan(ledger: Any, plan_id: str = "basic", *, at: datetime = CATALOG_AT, **overrides: Any) -> Any:
    """Create a plan through ``ledger`` (monthly, 10.00 USD, no trial unless overridden)."""
    fields: dict[str, Any] = {
        "name": plan_id.capitalize(), "tier": plan_id, "currency": "USD", "amount": 1000,
        "interval": "month", "trial_days": 0,
    }
    fields.update(overrides)
    return ledger.catalog.create_plan(plan_id=plan_id, effective_at=at, **fields)


def add_coupon(ledger: Any, coupon_id: str = "twenty", *, at: datetime = CATALOG_AT, **overrides: Any) -> Any:
    """Create a coupon through ``ledger`` (20 % off, forever, unless overridden)."""
    fields: dict[str, Any] = {"percent_off": 20, "duration": "forever"}
    fields.update(overrides)
    return ledger.catalog.create_coupon(coupon_id=coupon_id, effective_at=at, **fields)


CARD = "tok_visa"
"""The sandbox card whose every charge succeeds."""


def add_subscriber(
    ledger: Any, email: str = "ada@example.com", *, at: datetime = CATALOG_AT,
    token: str | None = None, **overrides: Any,
) -> Any:
    """Register a subscriber through ``ledger``; with a sandbox ``token`` (``CARD`` for a
    card that always pays), also set their payment method at the same instant. The
    subscriber as last saved. Without a payment method every charge fails
    (``no_payment_method``) and dunning cancels the subscription: lifecycle scenarios
    give one."""
    fields: dict[str, Any] = {"name": email.split("@")[0].capitalize()}
    fields.update(overrides)
    subscriber = ledger.subscribers.register(email=email, effective_at=at, **fields)
    if token is not None:
        subscriber = ledger.subscribers.set_payment_method(subscriber.id, gateway="sandbox", token=token,
                                               effective_at=at)
    return subscriber


def log_envelopes(ledger: Any, aggregate_id: UUID | None = None, types: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Every envelope of the log (optionally of one aggregate, or of some types), in order."""
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        page = ledger.event_log.read(after, 500, types)
        items.extend(page.items)
        if page.last_position is None:
            break
        after = page.last_position
    if aggregate_id is not None:
        items = [e for e in items if e["aggregate_id"] == str(aggregate_id)]
    return items


def log_types(ledger: Any, aggregate_id: UUID | None = None) -> list[str]:
    """The type names of the log's events (optionally of one aggregate), in order."""
    return [e["type"] for e in log_envelopes(ledger, aggregate_id)]


@contextmanager
def loads_stale(ledger: Any, aggregate: Any) -> Iterator[None]:
    """Within the block, ``ledger`` loads ``aggregate`` (a copy taken earlier) instead of
    reading the store: as if its load had happened before another writer's save."""
    original = ledger.repository.get

    def get(aggregate_id: UUID, *args: Any, **kwargs: Any) -> Any:
        if aggregate_id == aggregate.id:
            return aggregate
        return original(aggregate_id, *args, **kwargs)

    ledger.repository.get = get
    try:
        yield
    finally:
        del ledger.repository.get


def paying_subscriber(ledger: Any, email: str, token: str | None = "tok_visa",
                      at: datetime = CATALOG_AT) -> Any:
    """A subscriber registered at ``at`` with the sandbox card ``token`` (None: no card)."""
    subscriber = add_subscriber(ledger, email, at=at)
    if token is not None:
        subscriber = ledger.subscribers.set_payment_method(subscriber.id, gateway="sandbox", token=token,
                                               effective_at=at)
    return subscriber


def events_of(ledger: Any, aggregate_id: UUID, *types: str) -> list[dict[str, Any]]:
    """The envelopes of one aggregate (optionally only some types), in log order."""
    envelopes = log_envelopes(ledger, aggregate_id)
    if types:
        envelopes = [e for e in envelopes if e["type"] in types]
    return envelopes


def invoices_of(ledger: Any, aggregate_id: UUID) -> list[dict[str, Any]]:
    """The InvoiceIssued envelopes of a subscription, in order."""
    return events_of(ledger, aggregate_id, "InvoiceIssued")


def line_amounts(invoice: dict[str, Any]) -> list[tuple[str, int]]:
    """(kind, amount) of each line of an InvoiceIssued envelope."""
    return [(line["kind"], line["amount"]) for line in invoice["data"]["lines"]]


def timeline(ledger: Any, aggregate_id: UUID) -> list[tuple[str, str]]:
    """(type, effective_at) of each event of one aggregate."""
    return [(e["type"], e["effective_at"]) for e in log_envelopes(ledger, aggregate_id)]


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


_GATEWAY_REF = re.compile(r"sb_(ch|re)_[0-9a-f]{24}")


def comparable_log(ledger: Any) -> list[tuple[str, str, str, Any]]:
    """The whole log as (aggregate, type, effective_at, data), ignoring recorded_at, with
    every id and gateway reference replaced by its order of first appearance: two stores
    that recorded the same history with other random ids compare equal."""
    names: dict[str, str] = {}

    def name(match: re.Match[str]) -> str:
        return names.setdefault(match.group(0), f"<id{len(names)}>")

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return _GATEWAY_REF.sub(name, _UUID.sub(name, value))
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    return [
        (scrub(e["aggregate_id"]), e["type"], e["effective_at"], scrub(e["data"]))
        for e in log_envelopes(ledger)
    ]


def ids_in_log(ledger: Any, event_type: str, field: str) -> list[str]:
    """The value of ``data[field]`` of every event of ``event_type`` in the log."""
    return [e["data"][field] for e in log_envelopes(ledger) if e["type"] == event_type]


# -- a version-1 event, as the old code stored it ------------------------------------------

V1_TOPIC = "subledger.domain.subscriber:Subscriber.SubscriberDetailsChanged"
V1_STORED_STATE = (
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-25T06:55:33.384878+00:00"},'
    b'"effective_at":{"_type_":"datetime_iso","_data_":"2026-02-01T00:00:00+00:00"},'
    b'"changed":["external_ref","name"],"email":null,"name":"Ada L","external_ref":null}'
)
"""The exact state the version-1 code of ``SubscriberDetailsChanged`` stored for "name ->
Ada L, external_ref removed" (captured from it before version 2)."""
REGISTERED_AT = utc(2026, 11, 25, 6, 55)
"""Before the stored event's own recorded time, as when the old code wrote both."""


def store_v1_details_change(ledger: Any) -> UUID:
    """A subscriber registered, then renamed with their external_ref removed by the
    version-1 code: that second event written to the store as the old code wrote it."""
    subscriber = ledger.subscribers.register(
        email="ada@example.com", name="Ada", external_ref="crm-1",
        effective_at=utc(2026, 1, 1),
    )
    ledger.recorder.insert_events([StoredEvent(
        originator_id=subscriber.id, originator_version=2, topic=V1_TOPIC, state=V1_STORED_STATE,
    )])
    return subscriber.id


def public_envelopes(ledger: Any, aggregate_id: UUID | None = None,
                     types: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """:func:`log_envelopes` with subscribers' personal fields null, as an endpoint that did
    not opt in to personal data receives them."""
    from subledger.contract.messages import without_personal_data
    return [without_personal_data(e) for e in log_envelopes(ledger, aggregate_id, types)]
