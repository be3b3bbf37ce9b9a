"""The public envelope of an event (docs/events.md)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.factories import (
    RECORDED_AT,
    SUBSCRIBER_ID,
    create_coupon,
    create_plan,
    pay_fail_first,
    pay_ok,
    plan_terms,
    start_subscription,
    utc,
)

from subledger.contract.envelope import EVENT_TYPES, event_id, event_id_text, to_envelope
from subledger.domain.base import EVENT_ENVELOPE_FIELDS
from subledger.domain.subscriber import Subscriber

ENVELOPE_KEYS = {
    "position", "event_id", "type", "schema_version", "subscriber_id", "aggregate_id",
    "aggregate_version", "recorded_at", "effective_at", "data",
}

CATALOGUE_SO_FAR = {
    "SubscriberRegistered", "SubscriberDetailsChanged", "PaymentMethodSet", "PlanCreated",
    "PlanPriceVersionAdded", "CouponCreated", "SubscriptionStarted", "TrialEnded",
    "SubscriptionChanged", "ChangeScheduled", "CouponApplied", "CancellationScheduled",
    "CancellationRevoked", "SubscriptionCanceled", "SubscriptionPaused", "SubscriptionResumed",
    "SubscriptionPastDue", "SubscriptionRecovered", "InvoiceIssued", "ChargeSucceeded",
    "ChargeFailed", "RefundIssued",
}

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def subscription_events() -> list[Any]:
    sub = start_subscription(plan_terms(trial_days=14), at=utc(2026, 1, 1, 8, 30))
    sub.advance_to(utc(2026, 2, 20), recorded_at=RECORDED_AT, pay=pay_ok)
    return sub.collect_events()


def billing_events() -> list[Any]:
    """A failed charge, its recovery on the first retry, and a partial refund."""
    sub = start_subscription(plan_terms(), at=utc(2026, 1, 1), pay=pay_fail_first)
    sub.advance_to(utc(2026, 1, 5), recorded_at=RECORDED_AT, pay=pay_fail_first)
    (charge_id,) = sub.charges
    intent = sub.request_refund(charge_id, 400, reason="goodwill", effective_at=utc(2026, 1, 6),
                                recorded_at=RECORDED_AT)
    sub.record_refund_outcome(intent, succeeded=True, gateway_ref="sb_re_1", failure_code=None,
                              recorded_at=RECORDED_AT)
    events = sub.collect_events()
    assert [type(e).__name__ for e in events] == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeFailed", "SubscriptionPastDue",
        "ChargeSucceeded", "SubscriptionRecovered", "RefundRequested", "RefundIssued",
    ]
    return events


def subscriber_events() -> list[Any]:
    subscriber = Subscriber.register(
        email="ada@example.com", name="Ada", external_ref=None,
        effective_at=utc(2026, 1, 1), recorded_at=RECORDED_AT,
    )
    subscriber.set_payment_method(gateway="fake", token="tok_1", effective_at=utc(2026, 1, 2),
                                  recorded_at=RECORDED_AT)
    return subscriber.collect_events()


def all_sample_events() -> list[Any]:
    plan = create_plan()
    plan.add_price(amount=1500, effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)
    coupon = create_coupon(percent_off="12.5")
    return (plan.collect_events() + coupon.collect_events() + subscriber_events()
            + subscription_events() + billing_events())


def test_the_envelope_has_exactly_the_contracts_keys() -> None:
    for event in all_sample_events():
        assert set(to_envelope(1, event)) == ENVELOPE_KEYS


def test_the_envelope_of_a_subscription_start_carries_its_ids_versions_and_times() -> None:
    started = subscription_events()[0]

    envelope = to_envelope(42, started)

    assert envelope["position"] == 42
    assert envelope["type"] == "SubscriptionStarted"
    assert envelope["schema_version"] == 1
    assert envelope["subscriber_id"] == str(SUBSCRIBER_ID)
    assert envelope["aggregate_id"] == str(started.originator_id)
    assert envelope["aggregate_version"] == 1
    assert envelope["recorded_at"] == "2030-01-01T00:00:00Z"
    assert envelope["effective_at"] == "2026-01-01T08:30:00Z"
    assert envelope["data"]["plan_id"] == "basic"
    assert envelope["data"]["plan_version"] == 1
    assert envelope["data"]["quantity"] == 1
    assert envelope["data"]["status"] == "trialing"
    assert envelope["data"]["trial_end"] == "2026-01-15T08:30:00Z"


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value, nested ones (invoice lines) included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_every_time_in_an_envelope_is_iso_8601_utc_ending_in_z() -> None:
    for event in all_sample_events():
        envelope = to_envelope(1, event)
        times = [envelope["recorded_at"], envelope["effective_at"]] + [
            v for v in _strings(envelope["data"]) if re.match(r"^\d{4}-\d\d-\d\dT", v)
        ]
        for text in times:
            assert text.endswith("Z")
            assert "+00:00" not in text


def test_the_envelope_is_json_serialisable() -> None:
    for event in all_sample_events():
        envelope = to_envelope(1, event)
        assert json.loads(json.dumps(envelope)) == envelope


def test_data_holds_no_envelope_fields() -> None:
    for event in all_sample_events():
        assert not set(to_envelope(1, event)["data"]) & EVENT_ENVELOPE_FIELDS


def test_decimal_percent_off_is_written_as_a_string() -> None:
    (created,) = create_coupon(percent_off="12.5").collect_events()

    assert to_envelope(1, created)["data"]["percent_off"] == "12.5"


def test_event_id_is_stable_for_the_same_event_whatever_its_position() -> None:
    event = subscription_events()[0]

    first, again = to_envelope(1, event)["event_id"], to_envelope(99, event)["event_id"]

    assert first == again
    assert UUID_RE.match(first)
    assert first == str(event_id(event.originator_id, event.originator_version))


@given(aggregate=st.uuids(), version=st.integers(min_value=1, max_value=2**53))
def test_the_envelopes_event_id_is_the_name_based_uuid_of_its_place(aggregate: Any, version: int) -> None:
    assert event_id_text(aggregate, version) == str(event_id(aggregate, version))


def test_event_ids_differ_between_events() -> None:
    events = all_sample_events()

    ids = {to_envelope(1, e)["event_id"] for e in events}

    assert len(ids) == len(events)


def test_catalog_events_have_a_null_subscriber_id() -> None:
    plan = create_plan()
    plan.add_price(amount=1500, effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)
    for event in plan.collect_events() + create_coupon().collect_events():
        assert to_envelope(1, event)["subscriber_id"] is None


def test_subscriber_events_carry_the_subscribers_own_id() -> None:
    for event in subscriber_events():
        assert to_envelope(1, event)["subscriber_id"] == str(event.originator_id)


def test_subscription_events_carry_the_subscriber_id() -> None:
    events = subscription_events()
    assert [to_envelope(1, e)["type"] for e in events] == [
        "SubscriptionStarted", "TrialEnded", "InvoiceIssued", "ChargeSucceeded",
        "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded",
    ]
    for event in events + billing_events():
        assert to_envelope(1, event)["subscriber_id"] == str(SUBSCRIBER_ID)


@pytest.mark.parametrize("name", sorted(CATALOGUE_SO_FAR))
def test_event_types_contains_every_catalogue_name_of_the_contract(name: str) -> None:
    assert name in EVENT_TYPES
    assert EVENT_TYPES[name].__name__ == name


def test_event_types_are_keyed_by_their_class_names() -> None:
    assert all(cls.__name__ == name for name, cls in EVENT_TYPES.items())
    assert "Event" not in EVENT_TYPES and "Created" not in EVENT_TYPES
