"""What an event makes due (``messages.plan``), as a pure function: written by hand from
envelopes, no store."""

from __future__ import annotations

from typing import Any

from support.factories import utc

from subledger.domain.time import isoformat
from subledger.messages.plan import Timing, plan

TIMING = Timing(renewal_days=7, winback_coupon="COMEBACK", winback_days=30)


def _envelope(kind: str, at: Any, **data: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": f"ev-{kind}", "position": 9, "subscriber_id": "ada",
            "aggregate_id": "sub-1", "effective_at": isoformat(at), "data": data}


def _due(decided: Any) -> list[tuple[str, str | None]]:
    return [(m.kind, None if m.due_at is None else isoformat(m.due_at)) for m in decided.messages]


def test_a_trial_start_schedules_the_notice_three_days_before_its_end_and_no_reminder() -> None:
    start = _envelope("SubscriptionStarted", utc(2026, 1, 1), status="trialing",
                      trial_end="2026-01-15T00:00:00Z", billing_anchor=None,
                      current_period_end="2026-01-15T00:00:00Z")
    decided = plan(start, TIMING)
    assert _due(decided) == [("trial_ending", "2026-01-12T00:00:00Z")]
    assert decided.ended == [("win_back", "ada")]  # a new subscription ends a pending offer


def test_a_trial_of_two_days_gets_its_notice_at_once() -> None:
    start = _envelope("SubscriptionStarted", utc(2026, 1, 1), status="trialing",
                      trial_end="2026-01-03T00:00:00Z", current_period_end="2026-01-03T00:00:00Z")
    assert _due(plan(start, TIMING)) == [("trial_ending", "2026-01-01T00:00:00Z")]


def test_a_paid_period_schedules_its_renewal_reminder_and_ends_the_previous_one() -> None:
    renewed = _envelope("SubscriptionRenewed", utc(2026, 2, 1), billing_anchor="2026-01-01T00:00:00Z",
                        current_period_end="2026-03-01T00:00:00Z")
    decided = plan(renewed, TIMING)
    assert _due(decided) == [("renewal_reminder", "2026-02-22T00:00:00Z")]
    assert decided.ended == [("renewal_reminder", "sub-1")]


def test_no_reminder_when_turned_off_or_when_the_period_is_shorter_than_the_notice() -> None:
    renewed = _envelope("SubscriptionRenewed", utc(2026, 2, 25),
                        current_period_end="2026-03-01T00:00:00Z")
    assert _due(plan(renewed, TIMING)) == []
    longer = _envelope("SubscriptionRenewed", utc(2026, 2, 1), current_period_end="2026-03-01T00:00:00Z")
    assert _due(plan(longer, Timing(renewal_days=0))) == []


def test_a_voluntary_cancellation_schedules_the_win_back_offer_an_involuntary_one_does_not() -> None:
    voluntary = plan(_envelope("SubscriptionCanceled", utc(2026, 1, 25), reason="voluntary",
                               comment=None), TIMING)
    assert _due(voluntary) == [("subscription_canceled", None), ("win_back", "2026-02-24T00:00:00Z")]
    assert voluntary.messages[1].data == {"coupon": "COMEBACK"}
    assert set(voluntary.ended) == {("renewal_reminder", "sub-1"), ("trial_ending", "sub-1")}
    involuntary = plan(_envelope("SubscriptionCanceled", utc(2026, 1, 25), reason="involuntary",
                                 comment=None), TIMING)
    assert _due(involuntary) == [("subscription_canceled", None)]
    assert _due(plan(_envelope("SubscriptionCanceled", utc(2026, 1, 25), reason="voluntary",
                               comment=None), Timing())) == [("subscription_canceled", None)]


def test_payments_make_receipts_and_failure_notices_keyed_by_their_event() -> None:
    paid = plan(_envelope("ChargeSucceeded", utc(2026, 1, 18), charge_id="c", invoice_id="i",
                          amount=1900, currency="USD"), TIMING)
    [receipt] = paid.messages
    assert (receipt.kind, receipt.message_id, receipt.due_at) == ("receipt", "ev-ChargeSucceeded:receipt", None)
    assert receipt.data["paid_at"] == "2026-01-18T00:00:00Z"
    manual = plan(_envelope("ChargeSucceeded", utc(2026, 1, 18), charge_id="c", invoice_id=None,
                            amount=1900, currency="USD"), TIMING)
    assert manual.messages == []
    failed = plan(_envelope("ChargeFailed", utc(2026, 1, 15), invoice_id="i", amount=1900,
                            currency="USD", decline_code="card_declined", attempt=1,
                            next_attempt_at="2026-01-18T00:00:00Z"), TIMING)
    assert [m.data["next_attempt_at"] for m in failed.messages] == ["2026-01-18T00:00:00Z"]


def test_a_payment_denied_after_it_was_taken_is_told_as_a_failed_payment() -> None:
    denied = plan(_envelope("ChargeReversed", utc(2026, 1, 15), reversal_id="r", charge_id="c",
                            invoice_id="i", amount=1900, currency="USD", gateway="paypal",
                            gateway_ref="CAP1", reason="denied",
                            next_attempt_at="2026-01-18T00:00:00Z"), TIMING)
    assert [(m.kind, m.data["decline_code"], m.data["attempt"], m.data["next_attempt_at"])
            for m in denied.messages] == [("payment_failed", "denied", None, "2026-01-18T00:00:00Z")]


def test_a_pause_ends_the_reminder_and_other_events_make_nothing() -> None:
    assert plan(_envelope("SubscriptionPaused", utc(2026, 1, 5)), TIMING).ended == [
        ("renewal_reminder", "sub-1")]
    nothing = plan(_envelope("CouponApplied", utc(2026, 1, 5), coupon_id="x"), TIMING)
    assert (nothing.messages, nothing.ended) == ([], [])
