"""Revenue recognition (docs/business-rules.md, Revenue): each paid invoice line evenly over its service
period; deferred revenue = collected for service after t minus refunds of it, a refund taken
off its invoice's lines in proportion to their remaining service. Figures written by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.factories import RECORDED_AT, SUBSCRIBER_ID, pay_ok, plan_terms, utc
from support.revenue_log import Log

from subledger.contract.envelope import to_envelope
from subledger.domain.money import round_minor
from subledger.domain.revenue import RevenueLine, deferred_at, recognized, revenue_lines
from subledger.domain.subscription import Subscription

JAN, FEB, MAR, APR, MAY, JUN = (utc(2026, m, 1) for m in range(1, 7))


def line(amount: int, start: datetime, end: datetime, settled_at: datetime | None = None,
         currency: str = "USD") -> RevenueLine:
    return RevenueLine(Fraction(amount), currency, start, end,
                       start if settled_at is None else settled_at, "recurring", "inv")


# -- recognition -----------------------------------------------------------------------------


def test_half_of_a_monthly_invoice_over_half_its_period() -> None:
    april = [line(3000, APR, MAY)]  # 30 days
    assert recognized(april, APR, utc(2026, 4, 16)) == 1500
    assert recognized(april, utc(2026, 4, 16), MAY) == 1500


def test_recognition_is_exact_at_period_boundaries() -> None:
    april = [line(3000, APR, MAY)]
    assert recognized(april, APR, MAY) == 3000
    assert recognized(april, MAR, APR) == 0
    assert recognized(april, MAY, JUN) == 0
    assert recognized(april, MAR, JUN) == 3000
    assert recognized(april, APR, APR) == 0


def test_a_31_day_month_is_spread_per_second() -> None:
    january = [line(1000, JAN, FEB)]
    assert recognized(january, JAN, utc(2026, 1, 11)) == Fraction(10000, 31)
    assert round_minor(recognized(january, JAN, utc(2026, 1, 11))) == Decimal("322.58")
    assert recognized(january, JAN, JAN + timedelta(seconds=1)) == Fraction(1000, 31 * 86400)


def test_a_zero_length_line_is_recognized_at_its_instant() -> None:
    t = utc(2026, 4, 10, 12)
    manual = [RevenueLine(Fraction(500), "USD", t, t, t, "manual", "inv")]
    assert recognized(manual, t, t + timedelta(seconds=1)) == 500
    assert recognized(manual, t - timedelta(seconds=1), t) == 0
    assert deferred_at(manual, t) == 0


def test_lines_of_several_currencies_are_refused() -> None:
    with pytest.raises(ValueError, match="currencies"):
        recognized([line(1, APR, MAY), line(1, APR, MAY, currency="EUR")], APR, MAY)


boundaries = st.integers(0, 400 * 86400).map(lambda s: JAN + timedelta(seconds=s))


@given(
    lines=st.lists(
        st.tuples(st.integers(-10**6, 10**6), boundaries,
                  st.sampled_from([0, 1, 86400, 28 * 86400, 31 * 86400, 92 * 86400, 365 * 86400])),
        max_size=6,
    ),
    cuts=st.lists(boundaries, max_size=8),
)
def test_recognition_over_a_partition_of_time_sums_to_the_total(
    lines: list[tuple[int, datetime, int]], cuts: list[datetime]
) -> None:
    items = [line(a, s, s + timedelta(seconds=d)) for a, s, d in lines]
    edges = [utc(2025, 1, 1), *sorted(cuts), utc(2030, 1, 1)]
    parts = [recognized(items, a, b) for a, b in zip(edges, edges[1:], strict=False)]
    assert sum(parts) == sum(a for a, _s, _d in lines)


@given(
    lines=st.lists(st.tuples(st.integers(-10**6, 10**6), boundaries,
                             st.sampled_from([0, 1, 86400, 31 * 86400, 365 * 86400])), max_size=6),
    t=boundaries,
)
def test_recognized_before_plus_deferred_is_what_was_collected(
    lines: list[tuple[int, datetime, int]], t: datetime
) -> None:
    """For lines collected when their service starts: recognized before t + recognized at
    t's instant + deferred at t = everything collected by t, plus nothing else."""
    items = [line(a, s, s + timedelta(seconds=d)) for a, s, d in lines]
    at_t = sum(i.amount for i in items if i.start == i.end == t)
    collected = sum(i.amount for i in items if i.settled_at <= t)
    assert recognized([i for i in items if i.settled_at <= t], utc(2025, 1, 1), t) + at_t + deferred_at(items, t) == collected


# -- from envelopes: paid invoices, refunds ------------------------------------------------


def april_paid() -> Log:
    log = Log()
    log.invoice("apr", APR, [("recurring", 3000, APR, MAY)])
    log.charge("ch", "apr", APR, 3000)
    return log


def test_a_paid_invoice_is_deferred_then_recognized() -> None:
    lines = revenue_lines(april_paid().envelopes)
    assert deferred_at(lines, APR) == 3000
    assert deferred_at(lines, utc(2026, 4, 11)) == 2000
    assert deferred_at(lines, MAY) == 0
    assert deferred_at(lines, MAR) == 0
    assert recognized(lines, APR, MAY) == 3000


def test_an_unpaid_invoice_is_neither_recognized_nor_deferred() -> None:
    log = Log()
    log.invoice("apr", APR, [("recurring", 3000, APR, MAY)])
    log.add("ChargeFailed", APR, charge_id="c1", invoice_id="apr", amount=3000, currency="USD",
            gateway="sandbox", decline_code="card_declined", attempt=1, next_attempt_at=None)
    lines = revenue_lines(log.envelopes)
    assert lines == []
    assert recognized(lines, APR, MAY) == 0


def test_an_invoice_paid_late_is_deferred_from_its_payment() -> None:
    log = Log()
    log.invoice("apr", APR, [("recurring", 3000, APR, MAY)])
    log.charge("ch", "apr", utc(2026, 4, 4), 3000)  # a retry 3 days later
    lines = revenue_lines(log.envelopes)
    assert deferred_at(lines, utc(2026, 4, 2)) == 0
    assert deferred_at(lines, utc(2026, 4, 4)) == 2700  # 27 of 30 days
    assert recognized(lines, APR, utc(2026, 4, 4)) == 300  # accrual: the service of Apr 1-4


def test_a_discount_line_is_recognized_with_its_period() -> None:
    log = Log()
    log.invoice("apr", APR, [("recurring", 3000, APR, MAY), ("discount", -600, APR, MAY)])
    log.charge("ch", "apr", APR, 2400)
    lines = revenue_lines(log.envelopes)
    assert recognized(lines, APR, utc(2026, 4, 16)) == 1200
    assert deferred_at(lines, utc(2026, 4, 16)) == 1200


def test_an_invoice_with_nothing_due_is_settled_when_issued() -> None:
    log = Log()
    log.invoice("apr", APR, [("recurring", 1000, APR, MAY)], amount_due=0)  # covered by credit
    lines = revenue_lines(log.envelopes)
    assert deferred_at(lines, APR) == 1000


def test_a_partial_refund_comes_off_the_remaining_service() -> None:
    """3000 for April; 600 refunded on Apr 11 when 2000 of service is left: each remaining
    second loses 600/2000 = 30 %; the service already delivered stays recognized."""
    log = april_paid()
    log.refund("r1", "ch", utc(2026, 4, 11), 600)
    lines = revenue_lines(log.envelopes)
    assert deferred_at(lines, utc(2026, 4, 10)) == 2100  # before the refund
    assert deferred_at(lines, utc(2026, 4, 11)) == 1400
    assert deferred_at(lines, utc(2026, 4, 21)) == 700
    assert recognized(lines, APR, utc(2026, 4, 11)) == 1000
    assert recognized(lines, utc(2026, 4, 11), MAY) == 1400
    assert recognized(lines, MAR, JUN) == 2400


def _dispute_closed(log: Log, outcome: str, at: datetime, amount: int) -> None:
    log.add("DisputeClosed", at, dispute_id="d1", charge_id="ch", outcome=outcome, amount=amount,
            currency="USD", gateway="stripe", gateway_ref="dp_1")


def test_a_lost_dispute_comes_off_the_remaining_service_as_a_refund_would() -> None:
    """The figures of the partial refund above, the 600 taken back by the payer's bank."""
    log = april_paid()
    _dispute_closed(log, "lost", utc(2026, 4, 11), 600)
    lines = revenue_lines(log.envelopes)
    assert deferred_at(lines, utc(2026, 4, 10)) == 2100
    assert deferred_at(lines, utc(2026, 4, 11)) == 1400
    assert recognized(lines, APR, utc(2026, 4, 11)) == 1000
    assert recognized(lines, APR, MAY) == 2400
    assert {line.kind for line in lines if line.amount < 0} == {"lost_dispute"}


def test_a_won_dispute_takes_nothing_off() -> None:
    log = april_paid()
    _dispute_closed(log, "won", utc(2026, 4, 11), 3000)
    assert revenue_lines(log.envelopes) == revenue_lines(april_paid().envelopes)


def test_a_refund_beyond_the_remaining_service_reverses_revenue_at_its_instant() -> None:
    """After 600 on Apr 11 (700 deferred on Apr 21), 2000 more on Apr 21: 700 comes off the
    rest of April, 1300 off revenue on Apr 21."""
    log = april_paid()
    log.refund("r1", "ch", utc(2026, 4, 11), 600)
    log.refund("r2", "ch", utc(2026, 4, 21), 2000)
    lines = revenue_lines(log.envelopes)
    assert deferred_at(lines, utc(2026, 4, 21)) == 0
    assert recognized(lines, utc(2026, 4, 21), utc(2026, 4, 22)) == -1300
    assert recognized(lines, utc(2026, 4, 22), MAY) == 0
    assert recognized(lines, MAR, JUN) == 400  # 3000 - 600 - 2000
    assert recognized(lines, APR, utc(2026, 4, 21)) == 1700  # 1000 + 700, unchanged


def test_a_full_refund_at_the_start_leaves_nothing() -> None:
    log = april_paid()
    log.refund("r1", "ch", APR, 3000)
    lines = revenue_lines(log.envelopes)
    assert deferred_at(lines, APR) == 0
    assert recognized(lines, MAR, JUN) == 0


def test_a_refund_of_a_manual_charge_is_taken_off_at_its_instant() -> None:
    log = Log()
    t = utc(2026, 4, 10)
    log.invoice("m", t, [("manual", 5000, t, t)])
    log.charge("ch", "m", t, 5000)
    log.refund("r", "ch", utc(2026, 4, 20), 2000)
    lines = revenue_lines(log.envelopes)
    assert recognized(lines, APR, utc(2026, 4, 15)) == 5000
    assert recognized(lines, utc(2026, 4, 15), MAY) == -2000
    assert deferred_at(lines, utc(2026, 4, 12)) == 0


def test_a_refund_of_an_unknown_charge_is_refused() -> None:
    log = Log()
    log.refund("r", "nowhere", APR, 100)
    with pytest.raises(ValueError, match="ChargeSucceeded"):
        revenue_lines(log.envelopes)


def test_the_aggregates_own_envelopes() -> None:
    """A 3000-cent monthly signup on Apr 1, paid; 600 refunded on Apr 11."""
    subscription = Subscription.start(
        subscriber_id=SUBSCRIBER_ID, terms=plan_terms(amount=3000), quantity=1, trial_days=None,
        effective_at=APR, recorded_at=RECORDED_AT,
    )
    subscription.advance_to(APR, recorded_at=RECORDED_AT, pay=pay_ok)
    (charge_id,) = subscription.charges
    intent = subscription.request_refund(charge_id, 600, reason=None, effective_at=utc(2026, 4, 11),
                                         recorded_at=RECORDED_AT)
    subscription.record_refund_outcome(intent, succeeded=True, gateway_ref="re_1",
                                       failure_code=None, recorded_at=RECORDED_AT)
    envelopes = [to_envelope(n, e) for n, e in enumerate(subscription.collect_events(), start=1)]
    lines = revenue_lines(envelopes)
    assert deferred_at(lines, APR) == 3000
    assert deferred_at(lines, utc(2026, 4, 11)) == 1400
    assert recognized(lines, APR, MAY) == 2400
