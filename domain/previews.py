"""Previews: the invoice a command or the billing clock would issue, and the subscription
after it, found by running the very code that issues it on a copy of the subscription.

Nothing here prices anything: a preview performs the command (``Subscription.change``)
or the billing schedule (``BillingSchedule.advance_to``) on a deep copy, and reads the
``InvoiceIssued`` that it recorded. The copy is never saved, so a preview appends nothing,
and a command the subscription would refuse raises the very error it would raise.

Charges falling due on the copy are assumed paid (:func:`~.charges.assume_paid`), as for a
subscriber whose card pays: what is due before a command is performed first, exactly as the
application does, and only a payment that fails (the dunning that may follow) could make
the real answer differ.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from .charges import assume_paid
from .errors import NoUpcomingInvoice
from .invoicing import DISCOUNT, InvoiceIssued
from .lifecycle import CANCELED, PAUSED, TRIALING
from .mrr import aggregate_mrr
from .subscription import Subscription
from .time import isoformat

CLOCK_REASONS = frozenset({"renewal", "trial_end"})
"""The invoices the billing clock issues by itself (the others follow a command)."""

Command = Callable[[Subscription], Any]
"""A command on a subscription, with its instants already bound."""


@dataclass(frozen=True)
class AppliedDiscount:
    coupon_id: str
    amount: int
    """What the coupon's discount lines take off the invoice (negative, as on the lines)."""


@dataclass(frozen=True)
class InvoicePreview:
    """An invoice as ``InvoiceIssued`` would record it (its id aside: ids are derived from
    the subscription's sequence, which other commands may move on before it is issued)."""

    reason: str
    issued_at: datetime
    currency: str
    lines: tuple[dict[str, Any], ...]
    total: int
    credit_applied: int
    credit_added: int
    amount_due: int
    discounts: tuple[AppliedDiscount, ...]


@dataclass(frozen=True)
class CommandPreview:
    """What a command at ``effective_at`` would do, with every charge due paid."""

    effective_at: datetime
    subscription: Subscription
    """A copy as the command would leave it (never saved)."""
    invoice: InvoicePreview | None
    """The invoice the command itself would issue, if any."""
    upcoming_invoice: InvoicePreview | None
    """The next invoice the billing clock would issue after it, if any."""
    mrr_before: Fraction
    mrr_after: Fraction
    """The subscription's MRR at ``effective_at``, before and after the command."""


def caught_up(subscription: Subscription, at: datetime, *, recorded_at: datetime) -> Subscription:
    """A copy of ``subscription`` with everything due up to ``at`` performed, as the
    application performs it before a command, every charge due paid."""
    probe = copy.deepcopy(subscription)
    probe.advance_to(at, recorded_at=recorded_at, pay=assume_paid)
    return probe


def preview_command(subscription: Subscription, command: Command, *, at: datetime,
                    recorded_at: datetime) -> CommandPreview:
    """Run ``command`` at ``at`` on a copy of ``subscription`` as the application would
    (what is due first, then the command, then the charges it makes due); raises what the
    command raises."""
    probe = caught_up(subscription, at, recorded_at=recorded_at)
    mrr_before = aggregate_mrr(probe, at)
    mark = len(probe.pending_events)
    command(probe)
    issued = _issued(probe.pending_events[mark:], None)
    invoice = None if issued is None else _preview(issued, probe)
    probe.advance_to(at, recorded_at=recorded_at, pay=assume_paid)
    return CommandPreview(
        effective_at=at, subscription=probe, invoice=invoice,
        upcoming_invoice=next_clock_invoice(probe, recorded_at=recorded_at),
        mrr_before=mrr_before, mrr_after=aggregate_mrr(probe, at),
    )


def next_clock_invoice(subscription: Subscription, *, recorded_at: datetime) -> InvoicePreview | None:
    """The next invoice the billing clock would issue to ``subscription`` (a renewal or a
    trial's conversion, stamped with its due instant, which may already be past if the clock
    has not run since), or None when it will issue none."""
    probe = copy.deepcopy(subscription)
    while (due := probe.next_due()) is not None:
        mark = len(probe.pending_events)
        probe.advance_to(due, recorded_at=recorded_at, pay=assume_paid)
        issued = _issued(probe.pending_events[mark:], CLOCK_REASONS)
        if issued is not None:
            return _preview(issued, probe)
    return None


def upcoming_invoice(subscription: Subscription, *, recorded_at: datetime) -> InvoicePreview:
    """:func:`next_clock_invoice`, or :class:`NoUpcomingInvoice` saying why there is none."""
    invoice = next_clock_invoice(subscription, recorded_at=recorded_at)
    if invoice is None:
        raise NoUpcomingInvoice(_why_none(subscription))
    return invoice


def _issued(events: Sequence[Any], reasons: frozenset[str] | None) -> InvoiceIssued | None:
    """The first invoice among ``events`` (of one of ``reasons``, if given)."""
    for event in events:
        if isinstance(event, InvoiceIssued) and (reasons is None or event.reason in reasons):
            return event
    return None


def _preview(event: InvoiceIssued, subscription: Subscription) -> InvoicePreview:
    taken = sum(line["amount"] for line in event.lines if line["kind"] == DISCOUNT)
    # Only the subscription's coupon writes discount lines, so it is theirs.
    discounts = (AppliedDiscount(subscription.coupon["coupon_id"], taken),) \
        if taken and subscription.coupon is not None else ()
    return InvoicePreview(
        reason=event.reason, issued_at=event.effective_at, currency=event.currency,
        lines=tuple(dict(line) for line in event.lines), total=event.total,
        credit_applied=event.credit_applied, credit_added=event.credit_added,
        amount_due=event.amount_due, discounts=discounts,
    )


def _why_none(sub: Subscription) -> str:
    if sub.status == CANCELED:
        return f"subscription {sub.id} is canceled"
    if sub.status == PAUSED:
        return f"subscription {sub.id} is paused: nothing is invoiced until it is resumed"
    if sub.cancel_at is not None:
        ends = "its trial is not converted" if sub.status == TRIALING else "it is not renewed"
        return f"subscription {sub.id} is to be canceled at {isoformat(sub.cancel_at)}, so {ends}"
    return f"the billing clock will issue no more invoices to subscription {sub.id}"
