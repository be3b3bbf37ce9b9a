"""A preview's guarantee, under random histories (``support.histories``): the invoice a
change is previewed to issue is the one it then issues, and the upcoming invoice is the one
the billing clock then issues at its due instant; a change refused is refused by its preview
with the same error; the MRR it shows is the MRR the events fold to.

The real runs take every charge to the subscriber's card, which may decline. A preview
assumes each charge paid, so the one difference a card can make is the dunning's end: an
involuntary cancellation on the way. Such an example proves nothing and is left out;
every other outcome of a charge (past due, recovered) must change no invoice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from support.factories import RECORDED_AT
from support.histories import (
    USD_PLANS,
    change,
    change_commands,
    commands,
    next_instant,
    play,
    signup_instants,
)

from subledger.contract.envelope import to_envelope
from subledger.domain.errors import DomainError, NoUpcomingInvoice
from subledger.domain.invoicing import InvoiceIssued
from subledger.domain.mrr import aggregate_mrr, fold_subscription, mrr_at
from subledger.domain.previews import (
    CLOCK_REASONS,
    InvoicePreview,
    preview_command,
    upcoming_invoice,
)
from subledger.domain.subscription import Subscription

histories = {
    "signup": signup_instants(),
    "terms": st.sampled_from(USD_PLANS),
    "trial_days": st.sampled_from([None, 0, 7, 30]),
    "steps": st.lists(commands, min_size=0, max_size=15),
}
BEYOND_ANY_PERIOD = timedelta(days=3 * 366)
"""Longer than a trial and a yearly period together: a subscription still billed by then
has been invoiced by the clock."""


def issued(invoice: InvoicePreview | InvoiceIssued | None) -> tuple[Any, ...] | None:
    """What a previewed invoice promises of the one issued (its id aside)."""
    if invoice is None:
        return None
    at = invoice.issued_at if isinstance(invoice, InvoicePreview) else invoice.effective_at
    return (invoice.reason, at, invoice.currency, [dict(line) for line in invoice.lines],
            invoice.total, invoice.credit_applied, invoice.credit_added, invoice.amount_due)


def involuntary_end(events: list[Any]) -> bool:
    return any(type(e).__name__ == "SubscriptionCanceled" and e.reason == "involuntary"
               for e in events)


def clock_invoices(events: list[Any]) -> list[InvoiceIssued]:
    return [e for e in events if isinstance(e, InvoiceIssued) and e.reason in CLOCK_REASONS]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**histories, command=change_commands)
def test_a_previewed_change_issues_the_invoice_the_change_then_issues(
    signup: datetime, terms: Any, trial_days: int | None, steps: list[tuple[Any, ...]],
    command: tuple[Any, ...],
) -> None:
    history = play(signup, terms, trial_days, steps)
    sub = history.subscription
    at = next_instant(sub, history.now, command[1])
    try:
        preview = preview_command(sub, lambda probe: change(probe, command, at), at=at,
                                  recorded_at=RECORDED_AT)
        refused: type[DomainError] | None = None
    except DomainError as error:
        preview, refused = None, type(error)

    # The change as the application runs it: what is due first, with the subscriber's card.
    sub.advance_to(at, recorded_at=RECORDED_AT, pay=history.pay)
    if involuntary_end(sub.collect_events()):
        event("left out: the dunning ended on the way")
        return
    try:
        change(sub, command, at)
    except DomainError as error:
        event(f"refused: {error.code}")
        assert refused is type(error)
        return
    assert refused is None and preview is not None
    made = list(sub.pending_events)
    invoices = [e for e in made if isinstance(e, InvoiceIssued)]
    event(f"invoice now: {'yes' if invoices else 'none'}")
    assert issued(preview.invoice) == issued(invoices[0] if invoices else None)
    sub.advance_to(at, recorded_at=RECORDED_AT, pay=history.pay)
    assert_next_clock_invoice(sub, preview.upcoming_invoice, history.pay)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**histories)
def test_the_upcoming_invoice_is_the_one_the_billing_clock_then_issues_at_its_due_instant(
    signup: datetime, terms: Any, trial_days: int | None, steps: list[tuple[Any, ...]],
) -> None:
    history = play(signup, terms, trial_days, steps)
    try:
        upcoming: InvoicePreview | None = upcoming_invoice(history.subscription, recorded_at=RECORDED_AT)
    except NoUpcomingInvoice:
        upcoming = None
    assert_next_clock_invoice(history.subscription, upcoming, history.pay)


def assert_next_clock_invoice(sub: Subscription, expected: InvoicePreview | None, pay: Any) -> None:
    """Run the billing clock on ``sub`` up to ``expected``'s instant (far ahead when None):
    the first invoice it issues is ``expected``, at that instant (none when None)."""
    sub.collect_events()
    horizon = expected.issued_at if expected is not None else sub.last_effective_at + BEYOND_ANY_PERIOD
    sub.advance_to(horizon, recorded_at=RECORDED_AT, pay=pay)
    made = sub.collect_events()
    if involuntary_end(made):
        event("left out: the dunning ended on the way")
        return
    invoices = clock_invoices(made)
    event(f"upcoming: {expected.reason if expected is not None else 'none'}")
    assert issued(invoices[0] if invoices else None) == issued(expected)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**histories, later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_the_mrr_of_a_subscription_decided_on_is_the_mrr_its_events_fold_to(
    signup: datetime, terms: Any, trial_days: int | None, steps: list[tuple[Any, ...]],
    later: timedelta,
) -> None:
    history = play(signup, terms, trial_days, steps)
    state = None
    for position, recorded in enumerate(history.events, start=1):
        state = fold_subscription(state, to_envelope(position, recorded))
    assert state is not None
    at = history.now + later
    assert aggregate_mrr(history.subscription, at) == mrr_at(state, at)
