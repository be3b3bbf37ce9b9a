"""What each correction does to billed, collected, refunded, recognized and deferred revenue
(docs/business-rules.md, Corrections), worked by hand on a 30.00 USD monthly subscription
started and paid on April 1 (April has 30 days: 1.00 a day)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from fractions import Fraction
from typing import Any

from support.factories import (
    RECORDED_AT,
    pay_declined,
    pay_ok,
    plan_terms,
    start_subscription,
    utc,
)

from subledger.contract.envelope import to_envelope
from subledger.domain.charges import ChargeOutcome
from subledger.domain.revenue import deferred_at, recognized, revenue_lines
from subledger.domain.subscription import Subscription

APR, MAY = utc(2026, 4, 1), utc(2026, 5, 1)
APR_16 = utc(2026, 4, 16)


def at(instant: datetime) -> dict[str, Any]:
    return {"effective_at": instant, "recorded_at": RECORDED_AT}


def figures(sub: Subscription, start: datetime = APR, end: datetime = MAY) -> dict[str, Any]:
    """The revenue figures of [start, end) from the subscription's events, as the revenue
    model defines them: cash by event, recognition from the lines."""
    envelopes = [to_envelope(n, e) for n, e in enumerate(sub.pending_events, start=1)]
    cash = {"billed": 0, "collected": 0, "refunded": 0}
    moves: dict[str, Callable[[dict[str, Any]], tuple[str, int]]] = {
        "InvoiceIssued": lambda d: ("billed", d["total"]),
        "InvoiceVoided": lambda d: ("billed", -d["total"]),
        "CreditNoteIssued": lambda d: ("billed", -d["total"]),
        "BalanceAdjusted": lambda d: ("billed", -d["amount"]),
        "ChargeSucceeded": lambda d: ("collected", d["amount"]),
        "RefundIssued": lambda d: ("refunded", d["amount"]),
        "RefundReversed": lambda d: ("refunded", -d["amount"]),
    }
    for envelope in envelopes:
        move = moves.get(envelope["type"])
        if move is not None:
            figure, amount = move(envelope["data"])
            cash[figure] += amount
    lines = revenue_lines(envelopes)
    return {**cash, "recognized": recognized(lines, start, end), "lines": lines}


def paid_in_april() -> tuple[Subscription, str]:
    sub = start_subscription(plan_terms(amount=3000), at=APR, pay=pay_ok)
    (invoice_id,) = sub.invoices
    return sub, invoice_id


def refund_all_pending(sub: Subscription) -> None:
    for intent in sub.pending_refund_intents():
        sub.record_refund_outcome(intent, succeeded=True, gateway_ref="re_1", failure_code=None,
                                  recorded_at=RECORDED_AT)


def test_a_full_credit_note_refunded_mid_month_keeps_what_was_served_and_nets_april_to_zero() -> None:
    sub, invoice_id = paid_in_april()
    sub.issue_credit_note(invoice_id, lines=None, settlement="refund", reason="outage", **at(APR_16))
    refund_all_pending(sub)
    f = figures(sub)
    assert (f["billed"], f["collected"], f["refunded"]) == (0, 3000, 3000)
    assert recognized(f["lines"], APR, APR_16) == 1500  # served before the note stays
    assert recognized(f["lines"], APR_16, MAY) == -1500  # the rest, and what was served, off
    assert f["recognized"] == 0
    assert deferred_at(f["lines"], utc(2026, 4, 20)) == 0
    # the refund settling the note is cash only: it is not taken off the lines a second time
    assert [line.kind for line in f["lines"]] == ["recurring", "credit_note", "credit_note"]


def test_a_partial_credit_to_the_balance_comes_off_the_rest_of_the_period() -> None:
    sub, invoice_id = paid_in_april()
    sub.issue_credit_note(invoice_id, lines=[(0, 1000)], settlement="credit_balance", reason=None,
                          **at(APR_16))
    f = figures(sub)
    assert (f["billed"], f["collected"], f["refunded"]) == (2000, 3000, 0)
    assert recognized(f["lines"], APR, APR_16) == 1500
    assert recognized(f["lines"], APR_16, MAY) == 500
    assert deferred_at(f["lines"], APR_16) == 1500 - 1000


def test_a_voided_invoice_is_billed_then_unbilled_and_never_recognized() -> None:
    sub = start_subscription(plan_terms(amount=3000), at=APR, pay=pay_declined)
    (invoice_id,) = sub.invoices
    sub.void_invoice(invoice_id, reason="billed in error", **at(utc(2026, 4, 2)))
    f = figures(sub)
    assert (f["billed"], f["collected"], f["refunded"], f["recognized"]) == (0, 0, 0, 0)


def test_a_written_off_invoice_stays_billed_and_is_never_collected_or_recognized() -> None:
    sub = start_subscription(plan_terms(amount=3000), at=APR, pay=pay_declined)
    (invoice_id,) = sub.invoices
    sub.write_off(invoice_id, reason=None, **at(utc(2026, 4, 2)))
    f = figures(sub)
    assert (f["billed"], f["collected"], f["recognized"]) == (3000, 0, 0)


def test_a_balance_credit_and_a_debit_are_billed_and_recognized_at_their_instant() -> None:
    sub, _ = paid_in_april()
    sub.adjust_balance(500, reason="goodwill", **at(utc(2026, 4, 10)))
    f = figures(sub)
    assert f["billed"] == 2500
    one_second = Fraction(3000, 30 * 86400)
    assert recognized(f["lines"], utc(2026, 4, 10), utc(2026, 4, 10, 0, 0, 1)) == one_second - 500
    assert f["recognized"] == 2500
    sub.adjust_balance(-200, reason="late fee", **at(utc(2026, 4, 11)))
    f = figures(sub)
    assert (f["billed"], f["recognized"]) == (2700, 2700)


def test_a_credit_off_what_is_due_counts_with_its_invoice_when_the_rest_is_paid() -> None:
    sub = start_subscription(plan_terms(amount=3000), at=APR, pay=pay_declined)
    (invoice_id,) = sub.invoices
    sub.issue_credit_note(invoice_id, lines=[(0, 1000)], settlement="amount_due", reason=None,
                          **at(utc(2026, 4, 2)))
    assert figures(sub)["recognized"] == 0  # not paid yet: neither the invoice nor its credit
    intent = sub.next_step(utc(2026, 4, 4), recorded_at=RECORDED_AT)
    assert intent is not None and intent.amount == 2000
    sub.record_charge(intent, ChargeOutcome(True, "sandbox", "ch_2"), recorded_at=RECORDED_AT)
    f = figures(sub)
    assert (f["billed"], f["collected"], f["recognized"]) == (2000, 2000, 2000)
    # the credit is off the line from the note on: 1/30 of 3000 served on April 1
    assert recognized(f["lines"], APR, utc(2026, 4, 2)) == 100
    assert recognized(f["lines"], utc(2026, 4, 2), MAY) == 2900 - 1000


def test_a_credit_that_takes_what_is_due_to_zero_settles_the_invoice_to_nothing() -> None:
    sub = start_subscription(plan_terms(amount=3000), at=APR, pay=pay_declined)
    (invoice_id,) = sub.invoices
    sub.issue_credit_note(invoice_id, lines=None, settlement="amount_due", reason=None,
                          **at(utc(2026, 4, 2)))
    f = figures(sub)
    assert (f["billed"], f["collected"]) == (0, 0)
    assert recognized(f["lines"], APR, utc(2026, 4, 2)) == 100
    assert f["recognized"] == 0


def test_a_refund_after_a_credit_note_is_attributed_to_what_the_note_left() -> None:
    sub, invoice_id = paid_in_april()
    sub.issue_credit_note(invoice_id, lines=[(0, 1500)], settlement="credit_balance", reason=None,
                          **at(APR))
    (charge_id,) = sub.charges
    sub.request_refund(charge_id, 1000, reason=None, **at(APR_16))
    refund_all_pending(sub)
    f = figures(sub)
    # left unserved on April 16: 1500 of the line less 750 of the note; 750 of the refund is
    # spread over the rest of April, 250 taken at once
    assert (f["billed"], f["collected"], f["refunded"]) == (1500, 3000, 1000)
    assert f["recognized"] == 500
    assert deferred_at(f["lines"], APR_16) == 0


# -- refunds and credit notes of one invoice, each net of the earlier ones -----------------
# A 3000 April, paid on April 1: 100 a day. Each correction takes off what is left of the
# line to serve after its instant, net of every earlier refund and credit note, and the rest
# at its instant; so deferred revenue never falls below 0.


def refund(sub: Subscription, amount: int, instant: datetime) -> None:
    (charge_id,) = sub.charges
    sub.request_refund(charge_id, amount, reason=None, **at(instant))
    refund_all_pending(sub)


def credit(sub: Subscription, invoice_id: str, amount: int, instant: datetime) -> None:
    sub.issue_credit_note(invoice_id, lines=[(0, amount)], settlement="credit_balance",
                          reason=None, **at(instant))


def test_a_credit_note_after_a_refund_takes_off_only_what_the_refund_left_to_serve() -> None:
    sub, invoice_id = paid_in_april()
    refund(sub, 1500, APR_16)  # 1500 unserved on April 16: all of it refunded
    credit(sub, invoice_id, 1200, APR_16)  # nothing left to serve: all of it at once
    lines = figures(sub)["lines"]
    assert deferred_at(lines, APR_16) == 0
    assert deferred_at(lines, utc(2026, 4, 23)) == 0
    assert recognized(lines, APR_16, utc(2026, 4, 17)) == -1200
    assert recognized(lines, utc(2026, 4, 17), MAY) == 0
    assert recognized(lines, APR, MAY) == 3000 - 1500 - 1200


def test_a_credit_note_after_a_partial_refund_spreads_what_is_left_and_takes_the_rest_at_once() -> None:
    sub, invoice_id = paid_in_april()
    refund(sub, 600, APR_16)  # 900 of April 16's 1500 left to serve
    credit(sub, invoice_id, 1200, APR_16)  # 900 over the rest of April, 300 at once
    lines = figures(sub)["lines"]
    assert deferred_at(lines, APR_16) == 0
    assert recognized(lines, APR_16, utc(2026, 4, 17)) == -300
    assert recognized(lines, APR, MAY) == 3000 - 600 - 1200


def test_a_second_credit_note_of_a_line_takes_off_what_the_first_left_to_serve() -> None:
    sub, invoice_id = paid_in_april()
    credit(sub, invoice_id, 1000, APR)  # 2000 left to serve over April: 2/3 of each day
    credit(sub, invoice_id, 2000, APR_16)  # 1000 left on April 16: spread; 1000 at once
    lines = figures(sub)["lines"]
    assert deferred_at(lines, APR_16) == 0
    assert recognized(lines, APR, APR_16) == 1000
    assert recognized(lines, APR_16, utc(2026, 4, 17)) == -1000
    assert recognized(lines, utc(2026, 4, 17), MAY) == 0


def test_a_refund_after_a_refund_and_a_credit_note_takes_off_what_both_left() -> None:
    sub, invoice_id = paid_in_april()
    refund(sub, 1000, utc(2026, 4, 6))  # of 2500 left: 1500 left
    credit(sub, invoice_id, 300, utc(2026, 4, 11))  # of 1200 left: 900 left
    refund(sub, 1000, utc(2026, 4, 21))  # of 900 x 10/20 = 450 left: 550 at once
    lines = figures(sub)["lines"]
    assert deferred_at(lines, utc(2026, 4, 11)) == 900
    assert deferred_at(lines, utc(2026, 4, 21)) == 0
    assert recognized(lines, utc(2026, 4, 21), utc(2026, 4, 22)) == -550
    assert recognized(lines, APR, MAY) == 3000 - 1000 - 300 - 1000
