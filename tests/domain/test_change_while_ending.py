"""A change or a resume while a cancellation is scheduled (docs/business-rules.md, Changes,
Pause and resume): a new period it starts is billed only up to the cancellation (it was
refused while a new period was billed whole, cut short with nothing given back); a change
within the period goes on, and the subscription still ends when it was to end."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from support.factories import RECORDED_AT, pay_ok, plan_terms, start_subscription, utc

from subledger.domain.lifecycle import CANCELED
from subledger.domain.subscription import Subscription

BASIC = plan_terms("basic", amount=1000)
PRO = plan_terms("pro", amount=3000)
ANNUAL = plan_terms("annual", amount=12000, interval="year")


def ending(when: str = "period_end", cancel_at: datetime | None = None) -> Subscription:
    """A monthly subscription from Jan 31, paid, whose cancellation was asked on Feb 1."""
    sub = start_subscription(BASIC, at=utc(2026, 1, 31), pay=pay_ok)
    sub.cancel(when=when, at=cancel_at, comment=None, effective_at=utc(2026, 2, 1),
               recorded_at=RECORDED_AT)
    sub.collect_events()
    return sub


def change(sub: Subscription, terms: Any, at: datetime) -> Any:
    return sub.change(terms=terms, quantity=None, when="now", effective_at=at,
                      recorded_at=RECORDED_AT)


def invoices(sub: Subscription) -> list[Any]:
    return [e for e in sub.collect_events() if type(e).__name__ == "InvoiceIssued"]


@pytest.mark.parametrize(("when", "cancel_at", "new_period_billed"), [
    # [Feb 14, Feb 28) of a 365-day year: 12000 * 14 / 365 = 460.27
    ("period_end", None, (460, utc(2026, 2, 14), utc(2026, 2, 28))),
    # [Feb 14, Jun 1) of it: 12000 * 107 / 365 = 3517.81
    ("at", utc(2026, 6, 1), (3518, utc(2026, 2, 14), utc(2026, 6, 1))),
])
def test_a_change_to_another_interval_bills_its_new_period_up_to_the_scheduled_cancellation(
        when: str, cancel_at: datetime | None, new_period_billed: tuple[Any, ...]) -> None:
    sub = ending(when, cancel_at)
    change(sub, ANNUAL, utc(2026, 2, 14))

    (invoice,) = invoices(sub)
    credit, recurring = invoice.lines
    # The old month's unused half is credited: [Feb 14, Feb 28) of 28 days.
    assert (credit["kind"], credit["amount"]) == ("proration_credit", -500)
    assert (recurring["kind"], recurring["amount"], recurring["period_start"],
            recurring["period_end"]) == ("recurring", *new_period_billed)
    sub.advance_to(utc(2026, 6, 2), recorded_at=RECORDED_AT, pay=pay_ok)
    assert (sub.status, sub.canceled_at) == (CANCELED, new_period_billed[2])


def test_once_the_cancellation_is_revoked_a_change_of_interval_bills_the_year_whole() -> None:
    sub = ending()
    sub.revoke_cancellation(effective_at=utc(2026, 2, 14), recorded_at=RECORDED_AT)
    proration = change(sub, ANNUAL, utc(2026, 2, 14))
    assert proration.charge == 12000
    assert (sub.current_period_end, sub.cancel_at) == (utc(2027, 2, 14), None)


def test_a_change_within_the_period_goes_on_and_the_subscription_ends_when_it_was_to() -> None:
    sub = ending()
    proration = change(sub, PRO, utc(2026, 2, 14))
    assert proration.charge > 0
    assert sub.cancel_at == utc(2026, 2, 28)
    sub.advance_to(utc(2026, 3, 31), recorded_at=RECORDED_AT, pay=pay_ok)
    renewals = [e for e in sub.collect_events() if type(e).__name__ == "SubscriptionRenewed"]
    assert (sub.status, sub.canceled_at, renewals) == (CANCELED, utc(2026, 2, 28), [])


def paused_and_ending(cancel_at: datetime) -> Subscription:
    """A monthly subscription from Jan 1, paid, paused on Jan 15, to end at ``cancel_at``."""
    sub = start_subscription(BASIC, at=utc(2026, 1, 1), pay=pay_ok)
    sub.pause(effective_at=utc(2026, 1, 15), recorded_at=RECORDED_AT)
    sub.cancel(when="at", at=cancel_at, comment=None, effective_at=utc(2026, 1, 16),
               recorded_at=RECORDED_AT)
    sub.collect_events()
    return sub


def test_a_resume_before_a_scheduled_cancellation_bills_its_period_up_to_it() -> None:
    sub = paused_and_ending(utc(2026, 2, 1))

    sub.resume(effective_at=utc(2026, 1, 20), recorded_at=RECORDED_AT)

    (resumed,) = invoices(sub)
    # [Jan 20, Feb 1) of [Jan 20, Feb 20): 1000 * 12 / 31 = 387.10
    assert (resumed.reason, [(line["amount"], line["period_start"], line["period_end"])
                             for line in resumed.lines]) == (
        "resume", [(387, utc(2026, 1, 20), utc(2026, 2, 1))])
    sub.advance_to(utc(2026, 2, 2), recorded_at=RECORDED_AT, pay=pay_ok)
    assert (sub.status, sub.canceled_at) == (CANCELED, utc(2026, 2, 1))


def test_a_cancellation_scheduled_at_period_end_then_paused_bills_the_resume_up_to_it() -> None:
    sub = start_subscription(BASIC, at=utc(2026, 1, 1), pay=pay_ok)
    sub.cancel(when="period_end", at=None, comment=None, effective_at=utc(2026, 1, 10),
               recorded_at=RECORDED_AT)
    sub.pause(effective_at=utc(2026, 1, 15), recorded_at=RECORDED_AT)
    sub.collect_events()

    sub.resume(effective_at=utc(2026, 1, 20), recorded_at=RECORDED_AT)

    (resumed,) = invoices(sub)
    assert [(line["amount"], line["period_end"]) for line in resumed.lines] == [
        (387, utc(2026, 2, 1))]


def test_a_resume_whose_period_ends_by_the_scheduled_cancellation_goes_on() -> None:
    sub = paused_and_ending(utc(2026, 2, 20))
    sub.resume(effective_at=utc(2026, 1, 20), recorded_at=RECORDED_AT)
    sub.advance_to(utc(2026, 3, 31), recorded_at=RECORDED_AT, pay=pay_ok)
    invoices = [e for e in sub.collect_events() if type(e).__name__ == "InvoiceIssued"]
    assert [i.reason for i in invoices] == ["resume"]
    assert (sub.status, sub.canceled_at) == (CANCELED, utc(2026, 2, 20))
