"""A refund and a credit note never give the same money back twice (docs/business-rules.md,
Corrections): what a paid invoice's subscriber has back of it (refunds of its charge,
requested or issued, and credit notes kept as credit balance) is at most its total, and a
discount is never credited. A refused correction leaves the subscription as it was; what a
provider did on its own (a refund from its dashboard) is recorded whatever the ledger said."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import (
    RECORDED_AT,
    SUBSCRIBER_ID,
    pay_ok,
    plan_terms,
    start_subscription,
    state,
    utc,
)

from subledger.domain.coupons import CouponTerms
from subledger.domain.errors import InvoiceNotCreditable, RefundExceedsCharge
from subledger.domain.subscription import Subscription

START = utc(2026, 3, 1)
LATER = utc(2026, 3, 2, 12)
AT = {"effective_at": LATER, "recorded_at": RECORDED_AT}


def paid(amount: int = 3000) -> tuple[Subscription, str, str]:
    """A subscription whose first invoice was paid: (subscription, invoice id, charge id)."""
    sub = start_subscription(plan_terms(amount=amount), at=START, pay=pay_ok)
    (invoice_id,) = sub.invoices
    (charge_id,) = sub.charges
    return sub, invoice_id, charge_id


def refund(sub: Subscription, charge_id: str, amount: int, *, succeeded: bool = True) -> None:
    intent = sub.request_refund(charge_id, amount, reason=None, **AT)
    sub.record_refund_outcome(intent, succeeded=succeeded, gateway_ref=f"re_{intent.refund_id}",
                              failure_code=None if succeeded else "declined",
                              recorded_at=RECORDED_AT)


def given_back(sub: Subscription, invoice_id: str, charge_id: str) -> int:
    """Cash refunded or reserved for a refund, and credit notes kept as credit balance."""
    charge = sub.charges[charge_id]
    pending = sum(r["amount"] for r in sub.pending_refunds.values() if r["charge_id"] == charge_id)
    kept = sum(note["total"] for note in sub.credit_notes.values()
               if note["invoice_id"] == invoice_id and note["settlement"] == "credit_balance")
    return int(charge["refunded"]) + pending + kept


def test_a_fully_refunded_invoice_cannot_also_be_credited_to_the_balance() -> None:
    sub, invoice_id, charge_id = paid()
    refund(sub, charge_id, 3000)
    before = copy.deepcopy(state(sub))
    for settlement in ("credit_balance", "refund"):
        with pytest.raises(InvoiceNotCreditable, match="nothing left to credit"):
            sub.issue_credit_note(invoice_id, lines=None, settlement=settlement, reason=None, **AT)
        with pytest.raises(InvoiceNotCreditable, match="0 left to credit"):
            sub.issue_credit_note(invoice_id, lines=[(0, 1)], settlement=settlement, reason=None, **AT)
    assert state(sub) == before
    assert sub.credit_balance == 0


def test_an_invoice_credited_to_the_balance_cannot_also_be_refunded() -> None:
    sub, invoice_id, charge_id = paid()
    sub.issue_credit_note(invoice_id, lines=None, settlement="credit_balance", reason=None, **AT)
    before = copy.deepcopy(state(sub))
    with pytest.raises(RefundExceedsCharge, match="0 USD minor units left to refund"):
        sub.request_refund(charge_id, 1, reason=None, **AT)
    assert state(sub) == before


def test_a_partial_refund_leaves_the_rest_to_credit_and_no_more() -> None:
    sub, invoice_id, charge_id = paid()
    refund(sub, charge_id, 1200)
    with pytest.raises(InvoiceNotCreditable, match="1800 left to credit"):
        sub.issue_credit_note(invoice_id, lines=[(0, 1801)], settlement="credit_balance",
                              reason=None, **AT)
    sub.issue_credit_note(invoice_id, lines=None, settlement="credit_balance", reason=None, **AT)
    assert sub.credit_balance == 1800
    assert sub.invoices[invoice_id]["credited"] == [1800]


def test_a_refund_waiting_for_its_gateway_counts_as_given_back() -> None:
    sub, invoice_id, charge_id = paid()
    sub.request_refund(charge_id, 2000, reason=None, **AT)
    with pytest.raises(InvoiceNotCreditable, match="1000 left to credit"):
        sub.issue_credit_note(invoice_id, lines=[(0, 1500)], settlement="credit_balance",
                              reason=None, **AT)


def test_a_refund_the_gateway_refused_gave_nothing_back() -> None:
    sub, invoice_id, charge_id = paid()
    refund(sub, charge_id, 3000, succeeded=False)
    sub.issue_credit_note(invoice_id, lines=None, settlement="credit_balance", reason=None, **AT)
    assert sub.credit_balance == 3000


def test_a_credit_note_paid_back_as_a_refund_is_counted_once() -> None:
    sub, invoice_id, charge_id = paid()
    sub.issue_credit_note(invoice_id, lines=[(0, 1000)], settlement="refund", reason=None, **AT)
    sub.issue_credit_note(invoice_id, lines=[(0, 1000)], settlement="credit_balance",
                          reason=None, **AT)
    refund(sub, charge_id, 1000)
    assert given_back(sub, invoice_id, charge_id) == 3000
    with pytest.raises(RefundExceedsCharge):
        sub.request_refund(charge_id, 1, reason=None, **AT)


@pytest.mark.parametrize(("percent", "total"), [(50, 1500), (100, 0)])
def test_a_line_is_credited_at_most_what_the_discounted_invoice_billed(percent: int, total: int) -> None:
    coupon = CouponTerms(f"off{percent}", Decimal(percent), None, None, "forever", None)
    sub = Subscription.start(subscriber_id=SUBSCRIBER_ID,
                             terms=plan_terms(amount=3000), quantity=1, trial_days=None,
                             effective_at=START, recorded_at=RECORDED_AT, coupon=coupon)
    sub.advance_to(START, recorded_at=RECORDED_AT, pay=pay_ok)
    (invoice_id,) = sub.invoices
    assert sub.invoices[invoice_id]["total"] == total
    before = copy.deepcopy(state(sub))
    with pytest.raises(InvoiceNotCreditable, match=f"{total} left to credit"):
        sub.issue_credit_note(invoice_id, lines=[(0, total + 1)], settlement="credit_balance",
                              reason=None, **AT)
    assert state(sub) == before
    if total:
        sub.issue_credit_note(invoice_id, lines=[(0, total)], settlement="credit_balance",
                              reason=None, **AT)
        assert sub.credit_balance == total


def test_a_refund_made_at_the_provider_is_recorded_though_the_ledger_gave_the_money_back() -> None:
    sub, invoice_id, charge_id = paid()
    sub.issue_credit_note(invoice_id, lines=None, settlement="credit_balance", reason=None, **AT)
    assert sub.refunded_at_gateway(charge_id, gateway_ref="re_dashboard", amount=3000,
                                   reason=None, **AT)
    assert sub.charges[charge_id]["refunded"] == 3000


ACTIONS = st.lists(st.tuples(st.sampled_from(["refund", "failed_refund", "refund_note",
                                              "balance_note", "line_note"]),
                             st.integers(min_value=1, max_value=3500)), max_size=8)


@settings(max_examples=60, deadline=None)
@given(ACTIONS)
def test_whatever_is_tried_no_more_than_the_invoice_is_given_back(actions: list[tuple[str, int]]) -> None:
    sub, invoice_id, charge_id = paid()
    for action, amount in actions:
        before = copy.deepcopy(state(sub))
        try:
            _try(sub, invoice_id, charge_id, action, amount)
        except (InvoiceNotCreditable, RefundExceedsCharge):
            assert state(sub) == before
        assert given_back(sub, invoice_id, charge_id) <= 3000
        assert sum(sub.invoices[invoice_id]["credited"]) <= 3000


def _try(sub: Subscription, invoice_id: str, charge_id: str, action: str, amount: int) -> Any:
    if action in ("refund", "failed_refund"):
        return refund(sub, charge_id, amount, succeeded=action == "refund")
    settlement = "refund" if action == "refund_note" else "credit_balance"
    lines = None if action == "balance_note" else [(0, amount)]
    return sub.issue_credit_note(invoice_id, lines=lines, settlement=settlement, reason=None, **AT)
