"""The log read back as envelopes: global positions, type filters, a subscriber's history,
and the two times of every event (recorded_at is the ledger's clock, never the client's)."""

from __future__ import annotations

import inspect
from dataclasses import fields, is_dataclass
from uuid import uuid4

import pytest
from support.factories import utc
from support.ledger import CARD, add_plan, add_subscriber, log_envelopes

from subledger.commands import writes
from subledger.commands.catalog import Catalog
from subledger.commands.payments import Payments
from subledger.commands.periods import Periods
from subledger.commands.subscribers import Subscribers
from subledger.commands.subscriptions import Subscriptions
from subledger.domain.time import isoformat
from subledger.store.log import UnknownEventType

JAN_31 = utc(2026, 1, 31)


def two_subscribers_interleaved(ledger):
    """Ada and Bob, each with a card and a subscription, their events interleaved in the log."""
    add_plan(ledger)
    ada = add_subscriber(ledger, "ada@example.com", token=CARD)
    bob = add_subscriber(ledger, "bob@example.com", token=CARD)
    ada_sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    bob_sub = ledger.subscriptions.start(bob.id, plan_id="basic", effective_at=JAN_31)
    ledger.subscriptions.change(ada_sub.id, quantity=2, effective_at=utc(2026, 3, 5))
    ledger.subscribers.set_payment_method(bob.id, gateway="sandbox", token=CARD, effective_at=utc(2026, 3, 5))
    ledger.subscribers.change_details(ada.id, {"name": "Ada L."}, effective_at=utc(2026, 3, 6))
    ledger.subscriptions.pause(bob_sub.id, effective_at=utc(2026, 3, 6))
    return ada, ada_sub, bob, bob_sub


def test_the_log_is_read_in_global_order_from_position_one(ledger) -> None:
    two_subscribers_interleaved(ledger)

    page = ledger.event_log.read(0, 100)

    positions = [e["position"] for e in page.items]
    assert positions == list(range(1, len(positions) + 1))
    assert page.last_position == positions[-1] == ledger.event_log.max_position()
    assert [e["type"] for e in page.items] == [
        "PlanCreated",
        "SubscriberRegistered", "PaymentMethodSet", "SubscriberRegistered", "PaymentMethodSet",
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded",
        "PaymentMethodSet", "SubscriberDetailsChanged",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded", "SubscriptionPaused",
        "InvoiceIssued",  # the pause's credit for the unused part of the period
    ]


def test_reading_after_a_position_pages_through_the_log_without_gaps_or_repeats(ledger) -> None:
    two_subscribers_interleaved(ledger)
    everything = ledger.event_log.read(0, 100).items

    seen: list[int] = []
    after = 0
    while (page := ledger.event_log.read(after, 3)).items:
        assert len(page.items) <= 3
        seen.extend(e["position"] for e in page.items)
        after = page.last_position
    assert seen == [e["position"] for e in everything]
    assert ledger.event_log.read(ledger.event_log.max_position(), 10).last_position is None


def test_reading_by_type_returns_only_those_types_in_order(ledger) -> None:
    two_subscribers_interleaved(ledger)
    everything = ledger.event_log.read(0, 100).items
    wanted = ("SubscriptionStarted", "SubscriptionRenewed")

    page = ledger.event_log.read(0, 100, wanted)

    assert page.items == [e for e in everything if e["type"] in wanted]
    positions = [e["position"] for e in page.items]
    assert positions == sorted(set(positions))
    second = ledger.event_log.read(positions[1], 1, wanted).items
    assert [e["position"] for e in second] == [positions[2]]


def test_reading_an_unknown_type_is_refused(ledger) -> None:
    with pytest.raises(UnknownEventType):
        ledger.event_log.read(0, 10, ("NoSuchEvent",))


def test_an_empty_log_has_max_position_zero(ledger) -> None:
    assert ledger.event_log.max_position() == 0
    page = ledger.event_log.read(0, 10)
    assert (page.items, page.last_position) == ([], None)


def test_a_history_is_exactly_the_subscribers_and_their_subscriptions_events_in_global_order(ledger) -> None:
    ada, ada_sub, bob, bob_sub = two_subscribers_interleaved(ledger)
    everything = ledger.event_log.read(0, 100).items

    for subscriber, sub in ((ada, ada_sub), (bob, bob_sub)):
        history = ledger.event_log.history(subscriber.id, 0, 100).items
        own = {str(subscriber.id), str(sub.id)}
        assert history == [e for e in everything if e["aggregate_id"] in own]
        assert {e["subscriber_id"] for e in history} == {str(subscriber.id)}
    assert [e["type"] for e in ledger.event_log.history(ada.id, 0, 100).items] == [
        "SubscriberRegistered", "PaymentMethodSet",
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionChanged", "InvoiceIssued", "ChargeSucceeded",
        "SubscriberDetailsChanged",
    ]
    assert ledger.subscribers.subscription_ids(ada.id) == [ada_sub.id]


def test_a_history_pages_after_a_position(ledger) -> None:
    ada, *_ = two_subscribers_interleaved(ledger)
    full = ledger.event_log.history(ada.id, 0, 100).items

    first = ledger.event_log.history(ada.id, 0, 2)
    rest = ledger.event_log.history(ada.id, first.last_position, 100)

    assert first.items + rest.items == full
    assert first.last_position == full[1]["position"]


def test_an_unknown_subscriber_has_an_empty_history(ledger) -> None:
    two_subscribers_interleaved(ledger)

    assert ledger.event_log.history(uuid4(), 0, 100).items == []


def test_recorded_at_is_the_ledger_clock_and_effective_at_defaults_to_it(clocked_ledger, clock) -> None:
    t1 = clock.now
    add_plan(clocked_ledger, at=utc(2026, 1, 1))
    ada = clocked_ledger.subscribers.register(email="ada@example.com", name="Ada")  # no effective_at
    clocked_ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token=CARD)
    t2 = clock.advance(hours=3, microseconds=250)
    sub = clocked_ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 6, 1, 13))
    t3 = clock.set(utc(2026, 7, 5, 8))
    clocked_ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 7, 3))

    events = log_envelopes(clocked_ledger)
    assert [(e["type"], e["recorded_at"], e["effective_at"]) for e in events] == [
        ("PlanCreated", isoformat(t1), "2026-01-01T00:00:00Z"),
        ("SubscriberRegistered", isoformat(t1), isoformat(t1)),
        ("PaymentMethodSet", isoformat(t1), isoformat(t1)),
        ("SubscriptionStarted", isoformat(t2), "2026-06-01T13:00:00Z"),
        ("InvoiceIssued", isoformat(t2), "2026-06-01T13:00:00Z"),
        ("ChargeSucceeded", isoformat(t2), "2026-06-01T13:00:00Z"),
        # Due events performed by a command: recorded when the command ran, effective when due.
        ("SubscriptionRenewed", isoformat(t3), "2026-07-01T13:00:00Z"),
        ("InvoiceIssued", isoformat(t3), "2026-07-01T13:00:00Z"),
        ("ChargeSucceeded", isoformat(t3), "2026-07-01T13:00:00Z"),
        ("SubscriptionChanged", isoformat(t3), "2026-07-03T00:00:00Z"),
        ("InvoiceIssued", isoformat(t3), "2026-07-03T00:00:00Z"),
        ("ChargeSucceeded", isoformat(t3), "2026-07-03T00:00:00Z"),
    ]
    assert ada.registered_at == t1
    assert isoformat(t2).endswith(".000250Z")  # microseconds survive the store


def test_recorded_at_survives_reloading_from_the_store(clocked_ledger, clock) -> None:
    ada = clocked_ledger.subscribers.register(email="ada@example.com", name="Ada")
    clock.advance(days=30)

    loaded = clocked_ledger.subscribers.get(ada.id)

    assert loaded.registered_at == utc(2026, 6, 1, 12)
    assert loaded.modified_on == utc(2026, 6, 1, 12)


def test_no_command_lets_the_client_supply_recorded_at() -> None:
    commands = [cls for cls in vars(writes).values()
                if isinstance(cls, type) and issubclass(cls, writes.Write) and is_dataclass(cls)]
    assert len(commands) >= 15
    for command in commands:
        assert not {"recorded_at", "timestamp"} & {f.name for f in fields(command)}, command
    services = [Catalog, Subscribers, Subscriptions, Payments, Periods]
    methods = [m for s in services for _, m in inspect.getmembers(s, inspect.isfunction)
               if "idempotency" in inspect.signature(m).parameters]
    assert len(methods) >= 15
    for method in methods:
        assert not {"recorded_at", "timestamp"} & set(inspect.signature(method).parameters), method
