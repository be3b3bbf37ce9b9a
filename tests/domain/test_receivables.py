"""What is owed on an invoice after each event, and how it is aged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from subledger.domain.receivables import (
    AGING_BUCKETS,
    aging_bucket,
    amount_due_after,
    days_overdue,
    outstanding,
)

ISSUED = datetime(2026, 3, 2, tzinfo=UTC)


@given(st.integers(0, 100_000))
def test_every_day_count_falls_in_exactly_the_one_bucket_whose_range_holds_it(days: int) -> None:
    holding = [b.name for b in AGING_BUCKETS
               if b.first_day <= days and (b.last_day is None or days <= b.last_day)]
    assert holding == [aging_bucket(days)]


def test_the_buckets_follow_each_other_from_the_day_of_issue_with_no_gap() -> None:
    assert AGING_BUCKETS[0].first_day == 0 and AGING_BUCKETS[-1].last_day is None
    for before, after in zip(AGING_BUCKETS, AGING_BUCKETS[1:], strict=False):
        assert before.last_day is not None and after.first_day == before.last_day + 1


@given(st.timedeltas(timedelta(0), timedelta(days=4000)))
def test_days_overdue_counts_whole_days_since_the_issue(elapsed: timedelta) -> None:
    days = days_overdue(ISSUED, ISSUED + elapsed)
    assert ISSUED + timedelta(days=days) <= ISSUED + elapsed < ISSUED + timedelta(days=days + 1)


def test_an_invoice_is_current_for_its_first_day_and_never_overdue_before_its_issue() -> None:
    assert days_overdue(ISSUED, ISSUED + timedelta(hours=23, minutes=59)) == 0
    assert days_overdue(ISSUED, ISSUED + timedelta(days=1)) == 1
    assert days_overdue(ISSUED, ISSUED - timedelta(days=3)) == 0
    assert aging_bucket(0) == "current" and aging_bucket(30) == "1-30" and aging_bucket(91) == "over-90"


@given(st.integers(1, 10**9), st.integers(1, 10**9))
def test_a_payment_or_a_void_leaves_nothing_due_and_a_denied_charge_makes_its_amount_due(
        due: int, amount: int) -> None:
    assert amount_due_after(due, "ChargeSucceeded", {"amount": amount}) == 0
    assert amount_due_after(due, "InvoiceVoided", {}) == 0
    assert amount_due_after(0, "ChargeReversed", {"amount": amount}) == amount
    assert amount_due_after(due, "ChargeFailed", {"attempt": 1}) == due
    assert amount_due_after(due, "RefundIssued", {"amount": amount}) == due


@given(st.integers(0, 10**9), st.integers(1, 10**9))
def test_only_a_credit_note_settled_against_the_amount_due_takes_its_total_off(due: int, total: int) -> None:
    assert amount_due_after(due, "CreditNoteIssued", {"settlement": "amount_due", "total": total}) == due - total
    for settlement in ("refund", "credit_balance"):
        assert amount_due_after(due, "CreditNoteIssued", {"settlement": settlement, "total": total}) == due


@given(st.integers(-10**9, 10**9))
def test_a_void_or_written_off_invoice_owes_nothing_and_an_open_one_what_is_due(due: int) -> None:
    assert outstanding("void", due) == outstanding("uncollectible", due) == 0
    for status in ("open", "past_due", "paid"):
        assert outstanding(status, due) == max(due, 0)
