"""A refund that fails at the provider after it was recorded as issued
(``domain/refund_reversals.py``): the charge has the amount back to refund, cash and revenue
take it back at the reversal's instant, what was recognized before stays. Figures by hand."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from typing import Any

import pytest
from support.factories import (
    RECORDED_AT,
    event_names,
    pay_ok,
    plan_terms,
    replay,
    start_subscription,
    utc,
)

from subledger.contract.envelope import to_envelope
from subledger.domain.errors import CurrencyMismatch, InvalidInput
from subledger.domain.revenue import deferred_at, recognized, revenue_lines
from subledger.domain.subscription import Subscription

APR, MAY = utc(2026, 4, 1), utc(2026, 5, 1)
APR_16, APR_21 = utc(2026, 4, 16), utc(2026, 4, 21)


def at(instant: datetime) -> dict[str, Any]:
    return {"effective_at": instant, "recorded_at": RECORDED_AT}


def refunded_in_april(amount: int = 1500) -> tuple[Subscription, str, str]:
    """30.00 for April paid on April 1, ``amount`` refunded on April 16 (Stripe's re_1):
    (subscription, charge id, refund id)."""
    sub = start_subscription(plan_terms(amount=3000), at=APR, pay=pay_ok)
    (charge_id,) = sub.charges
    intent = sub.request_refund(charge_id, amount, reason=None, **at(APR_16))
    sub.record_refund_outcome(intent, succeeded=True, gateway_ref="re_1", failure_code=None,
                              recorded_at=RECORDED_AT)
    return sub, charge_id, intent.refund_id


def envelopes(sub: Subscription) -> list[dict[str, Any]]:
    return [to_envelope(n, e) for n, e in enumerate(sub.pending_events, start=1)]


def test_a_reversed_refund_gives_the_charge_its_amount_back_to_refund() -> None:
    sub, charge, refund_id = refunded_in_april()
    assert (sub.charges[charge]["refunded"], sub.refundable(charge)) == (1500, 1500)
    assert sub.issued_refund(charge, "re_1") == refund_id
    assert sub.reverse_refund(refund_id, failure_code="expired_or_canceled_card", **at(APR_21))
    assert (sub.charges[charge]["refunded"], sub.refundable(charge)) == (0, 3000)
    [reversed_] = [e for e in sub.pending_events if type(e).__name__ == "RefundReversed"]
    assert (reversed_.refund_id, reversed_.amount, reversed_.gateway_ref, reversed_.failure_code) \
        == (refund_id, 1500, "re_1", "expired_or_canceled_card")
    assert replay(sub.collect_events()).refundable(charge) == 3000


def test_a_refund_is_reversed_once() -> None:
    sub, _charge, refund_id = refunded_in_april()
    assert sub.reverse_refund(refund_id, failure_code="unknown", **at(APR_21))
    assert not sub.reverse_refund(refund_id, failure_code="canceled", **at(APR_21))
    assert event_names(sub.pending_events).count("RefundReversed") == 1


def test_only_an_issued_refund_of_the_ledger_can_be_reversed() -> None:
    sub, charge, _refund_id = refunded_in_april()
    assert sub.issued_refund(charge, "re_unknown") is None
    intent = sub.request_refund(charge, 100, reason=None, **at(APR_16))
    sub.record_refund_outcome(intent, succeeded=False, gateway_ref=None, failure_code="declined",
                              recorded_at=RECORDED_AT)
    with pytest.raises(InvalidInput):  # it never moved money: nothing to reverse
        sub.reverse_refund(intent.refund_id, failure_code="failed", **at(APR_21))


def test_a_reversal_in_another_currency_than_its_charge_is_refused() -> None:
    sub, _charge, refund_id = refunded_in_april()
    with pytest.raises(CurrencyMismatch):
        sub.reverse_refund(refund_id, failure_code="failed", currency="JPY", **at(APR_21))


def test_a_reversal_takes_refunded_back_at_its_own_instant() -> None:
    sub, _charge, refund_id = refunded_in_april()
    sub.reverse_refund(refund_id, failure_code="failed", **at(APR_21))
    cash = [(e["type"], e["effective_at"][:10], e["data"]["amount"]) for e in envelopes(sub)
            if e["type"] in ("RefundIssued", "RefundReversed")]
    assert cash == [("RefundIssued", "2026-04-16", 1500), ("RefundReversed", "2026-04-21", 1500)]


def test_a_reversal_puts_back_what_the_refund_took_off_from_its_instant_on() -> None:
    # The refund took 15.00 off April 16-30 (all that was left to serve). Reversed on April
    # 21: 10.00 of it was still to serve and goes back over April 21-30; the 5.00 it took
    # off April 16-20 stays taken there and comes back at once on April 21.
    sub, _charge, refund_id = refunded_in_april()
    sub.reverse_refund(refund_id, failure_code="failed", **at(APR_21))
    lines = revenue_lines(envelopes(sub))
    assert recognized(lines, APR, APR_16) == 1500
    assert recognized(lines, APR_16, APR_21) == 0  # what was recognized before stays
    assert recognized(lines, APR_21, MAY) == 1500
    assert recognized(lines, APR, MAY) == 3000  # the month as if never refunded
    assert deferred_at(lines, utc(2026, 4, 18)) == 0
    assert deferred_at(lines, utc(2026, 4, 26)) == 500  # as if never refunded
    given = [line for line in lines if line.kind == "refund_reversal"]
    assert sorted(line.amount for line in given) == [Fraction(500), Fraction(1000)]


def test_a_partial_refund_reversed_restores_the_lines_it_shrank() -> None:
    sub, _charge, refund_id = refunded_in_april(amount=600)
    sub.reverse_refund(refund_id, failure_code="failed", **at(APR_21))
    lines = revenue_lines(envelopes(sub))
    assert recognized(lines, APR, MAY) == 3000
    assert deferred_at(lines, utc(2026, 4, 26)) == 500
    # a later refund finds the whole line to serve again
    (charge,) = sub.charges
    intent = sub.request_refund(charge, 3000, reason=None, **at(utc(2026, 4, 26)))
    sub.record_refund_outcome(intent, succeeded=True, gateway_ref="re_2", failure_code=None,
                              recorded_at=RECORDED_AT)
    lines = revenue_lines(envelopes(sub))
    assert deferred_at(lines, utc(2026, 4, 27)) == 0
    assert recognized(lines, APR, MAY) == 0


def test_a_credit_notes_refund_reversed_gives_back_cash_only() -> None:
    # The note stands (its lines stay taken off); the money it paid back did not leave.
    sub = start_subscription(plan_terms(amount=3000), at=APR, pay=pay_ok)
    (invoice_id,) = sub.invoices
    (charge,) = sub.charges
    sub.issue_credit_note(invoice_id, lines=None, settlement="refund", reason=None, **at(APR_16))
    for intent in sub.pending_refund_intents():
        sub.record_refund_outcome(intent, succeeded=True, gateway_ref="re_1", failure_code=None,
                                  recorded_at=RECORDED_AT)
    refund_id = sub.issued_refund(charge, "re_1")
    assert refund_id is not None
    assert sub.reverse_refund(refund_id, failure_code="failed", **at(APR_21))
    lines = revenue_lines(envelopes(sub))
    assert [line.kind for line in lines] == ["recurring", "credit_note", "credit_note"]
    assert recognized(lines, APR, MAY) == 0
    assert sub.charges[charge]["refunded"] == 0
    assert sub.refundable(charge) == 3000  # what the note promised can be paid back again
