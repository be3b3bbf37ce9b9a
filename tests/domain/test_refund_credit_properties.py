"""Refunds, lost disputes and credit notes of one paid invoice (its lines that charge, and
a coupon's discount line), in any order and amounts the domain accepts (docs/business-rules.md, Revenue):
each takes off what is left of the lines to serve net of every earlier one, and the rest at
its instant. So, at every instant:

- deferred revenue is never below 0 (exactly: the lines are exact fractions, rounded only
  when a report shows them);
- deferred revenue never grows after the invoice is paid (no correction adds service);
- over all time, recognized = billed - (refunded - what credit notes paid back as refunds):
  billed is the invoice less its credit notes, and a note's refund is cash only.

Every history gives back at most what was paid in all (refunds, disputes and credit notes
together), which is within the domain's caps today and within "paid less refunded".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import RECORDED_AT, SUBSCRIBER_ID, pay_ok, plan_terms, utc
from support.revenue_log import Log

from subledger.contract.envelope import to_envelope
from subledger.domain.coupons import CouponTerms
from subledger.domain.revenue import RevenueLine, deferred_at, recognized, revenue_lines
from subledger.domain.subscription import Subscription

KINDS = ["refund", "dispute_lost", "credit_balance", "credit_refund"]
PLANS = [
    plan_terms("basic", amount=1000),
    plan_terms("odd", amount=997),
    plan_terms("team", amount=2700, interval="quarter"),
    plan_terms("annual", amount=10000, interval="year"),
]
gaps = st.one_of(st.just(timedelta(0)), st.timedeltas(timedelta(0), timedelta(days=40)),
                 st.timedeltas(timedelta(0), timedelta(days=200)))
corrections = st.lists(st.tuples(st.sampled_from(KINDS), gaps, st.integers(1, 100), st.integers(0, 3)),
                       min_size=1, max_size=6)
"""(what, how long after the previous one, the percent of what is left to give back, the
line a credit note credits: its index modulo the invoice's lines)."""


def check(envelopes: list[dict[str, Any]]) -> None:
    lines = revenue_lines(envelopes)
    instants = sorted({t for line in lines for t in (line.start, line.end, line.settled_at)})
    # Deferred revenue is piecewise linear between these instants: its least value is at one.
    deferred = [deferred_at(lines, t) for t in instants]
    assert min(deferred) >= 0, list(zip(instants, deferred, strict=True))
    assert all(later <= earlier for earlier, later in zip(deferred, deferred[1:], strict=False))
    assert total(lines) == billed(envelopes) - refunded(envelopes) + paid_back_by_notes(envelopes)


def total(lines: list[RevenueLine]) -> Any:
    return recognized(lines, utc(2000, 1, 1), utc(2100, 1, 1))


def billed(envelopes: list[dict[str, Any]]) -> int:
    return (sum(e["data"]["total"] for e in envelopes if e["type"] == "InvoiceIssued")
            - sum(e["data"]["total"] for e in envelopes if e["type"] == "CreditNoteIssued"))


def refunded(envelopes: list[dict[str, Any]]) -> int:
    return (sum(e["data"]["amount"] for e in envelopes if e["type"] == "RefundIssued")
            + sum(e["data"]["amount"] for e in envelopes
                  if e["type"] == "DisputeClosed" and e["data"]["outcome"] == "lost"))


def paid_back_by_notes(envelopes: list[dict[str, Any]]) -> int:
    return sum(e["data"]["total"] for e in envelopes
               if e["type"] == "CreditNoteIssued" and e["data"]["settlement"] == "refund")


# -- through the aggregate ------------------------------------------------------------------


def give_back(sub: Subscription, kind: str, amount: int, at: datetime, n: int) -> None:
    (invoice_id,) = sub.invoices
    (charge_id,) = sub.charges
    when = {"effective_at": at, "recorded_at": RECORDED_AT}
    if kind == "refund":
        sub.request_refund(charge_id, amount, reason=None, **when)
    elif kind == "dispute_lost":
        sub.dispute_closed(charge_id, gateway_ref=f"dp_{n}", amount=amount, outcome="lost", **when)
    else:
        settlement = "credit_balance" if kind == "credit_balance" else "refund"
        sub.issue_credit_note(invoice_id, lines=[(0, amount)], settlement=settlement, reason=None,
                              **when)
    for intent in sub.pending_refund_intents():
        sub.record_refund_outcome(intent, succeeded=True, gateway_ref=f"re_{n}", failure_code=None,
                                  recorded_at=RECORDED_AT)


@settings(max_examples=300, deadline=None)
@given(
    signup=st.integers(0, 3 * 365 * 86400).map(lambda s: utc(2025, 1, 1) + timedelta(seconds=s)),
    terms=st.sampled_from(PLANS),
    quantity=st.integers(1, 3),
    percent_off=st.sampled_from([None, 20, 50, 99]),
    steps=corrections,
)
def test_refunds_disputes_and_credit_notes_of_a_paid_invoice_never_take_deferred_revenue_below_zero(
    signup: datetime, terms: Any, quantity: int, percent_off: int | None,
    steps: list[tuple[str, timedelta, int, int]],
) -> None:
    at = signup
    coupon = None if percent_off is None else CouponTerms(
        "off", Decimal(percent_off), None, None, "forever", None)
    sub = Subscription.start(subscriber_id=SUBSCRIBER_ID, terms=terms, quantity=quantity,
                             trial_days=None, effective_at=at, recorded_at=RECORDED_AT, coupon=coupon)
    sub.advance_to(at, recorded_at=RECORDED_AT, pay=pay_ok)
    # One invoice: the subscription ends with its first period.
    sub.cancel(when="period_end", at=None, comment=None, effective_at=at, recorded_at=RECORDED_AT)
    left = sum(charge["amount"] for charge in sub.charges.values())
    for n, (kind, gap, percent, _line) in enumerate(steps):
        if left == 0:
            break
        amount = max(1, left * percent // 100)
        at += gap
        give_back(sub, kind, amount, at, n)
        left -= amount
    check([to_envelope(n, e) for n, e in enumerate(sub.collect_events(), start=1)])


# -- an invoice of several lines, from envelopes --------------------------------------------

APR, MAY = utc(2026, 4, 1), utc(2026, 5, 1)
invoice_lines = st.lists(
    st.tuples(st.integers(1, 100_000), st.integers(0, 30 * 86400 - 1), st.booleans()),
    min_size=1, max_size=4,
)
"""(amount, seconds into April its service starts, whether it is a manual line: served at
that instant, with no length)."""


@settings(max_examples=300, deadline=None)
@given(lines=invoice_lines, steps=corrections)
def test_corrections_of_an_invoice_of_several_lines_never_take_deferred_revenue_below_zero(
    lines: list[tuple[int, int, bool]], steps: list[tuple[str, timedelta, int, int]],
) -> None:
    log = Log()
    starts = [APR + timedelta(seconds=s) for _a, s, _m in lines]
    log.invoice("inv", APR, [("manual", a, start, start) if manual else ("recurring", a, start, MAY)
                             for (a, _s, manual), start in zip(lines, starts, strict=True)])
    paid = sum(a for a, _s, _m in lines)
    log.charge("ch", "inv", APR, paid)
    creditable = [a for a, _s, _m in lines]
    left, at = paid, APR
    for n, (kind, gap, percent, index) in enumerate(steps):
        at += gap
        if kind in ("refund", "dispute_lost"):
            amount = max(1, left * percent // 100)
            if kind == "refund":
                log.refund(f"r{n}", "ch", at, amount)
            else:
                log.add("DisputeClosed", at, dispute_id=f"d{n}", charge_id="ch", outcome="lost",
                        amount=amount, currency="USD", gateway="stripe", gateway_ref=f"dp_{n}")
        else:
            line = index % len(lines)
            room = min(left, creditable[line])
            if room == 0:
                continue
            amount = max(1, room * percent // 100)
            log.credit_note(f"cn{n}", "inv", at, [(line, amount)],
                            refund_of="ch" if kind == "credit_refund" else None)
            creditable[line] -= amount
        left -= amount
        if left == 0:
            break
    check(log.envelopes)
