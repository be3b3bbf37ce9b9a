"""Document numbers and an invoice's status as its document shows it (pure rules)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from support.factories import utc

from subledger.domain.document_numbers import (
    CREDIT_NOTE_PREFIX,
    INVOICE_PREFIX,
    NUMBER,
    document_number,
    series,
)
from subledger.domain.invoice_status import invoice_status


def test_a_series_is_named_by_its_prefix_and_the_utc_year_of_issue() -> None:
    assert series(INVOICE_PREFIX, utc(2026, 12, 31, 23, 59, 59)) == "SL-2026"
    assert series(CREDIT_NOTE_PREFIX, utc(2027, 1, 1)) == "CN-2027"
    # 00:30 on New Year's Day in Paris is still the old year in UTC.
    paris = timezone(timedelta(hours=1))
    assert series(INVOICE_PREFIX, datetime(2027, 1, 1, 0, 30, tzinfo=paris)) == "SL-2026"


def test_numbers_have_six_digits_and_a_seventh_from_the_millionth_on() -> None:
    assert document_number("SL-2026", 1) == "SL-2026-000001"
    assert document_number("CN-2026", 999_999) == "CN-2026-999999"
    assert document_number("SL-2026", 1_000_000) == "SL-2026-1000000"
    for number in ("SL-2026-000001", "CN-2026-999999", "SL-2026-1000000"):
        assert re.fullmatch(NUMBER, number)
    with pytest.raises(ValueError):
        document_number("SL-2026", 0)


@pytest.mark.parametrize("previous,due,failed,status", [
    ("open", 1000, 0, "open"),
    ("open", 1000, 1, "past_due"),
    ("past_due", 0, 2, "paid"),
    ("open", 0, 0, "paid"),
    ("open", -5, 0, "paid"),
    ("void", 1000, 1, "void"),
    ("uncollectible", 600, 3, "uncollectible"),
])
def test_an_invoice_is_paid_once_nothing_is_due_and_void_or_uncollectible_for_good(
    previous: str, due: int, failed: int, status: str,
) -> None:
    assert invoice_status(previous, amount_due=due, failed_attempts=failed) == status
