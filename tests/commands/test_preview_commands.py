"""The previews service on the ledger (``ledger.previews``), on each store: it appends
nothing and asks no gateway, it is refused as the change itself is, and what it previews is
what the change and the billing clock then record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from fakes.gateways import RecordingGateway, recording_ledger
from support.factories import utc
from support.ledger import add_plan, invoices_of, log_envelopes, paying_subscriber

from subledger.commands.billing import run_billing
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.errors import (
    EffectiveAtInFuture,
    EffectiveAtOutOfOrder,
    NoUpcomingInvoice,
    SubscriptionNotFound,
    UnknownReference,
)
from subledger.domain.previews import InvoicePreview
from subledger.domain.time import isoformat

APRIL_1, MAY_1, MAY_21 = utc(2026, 4, 1), utc(2026, 5, 1), utc(2026, 5, 21)


@pytest.fixture
def recorded(settings: Settings) -> Iterator[tuple[Ledger, RecordingGateway]]:
    """A ledger on the store under test whose sandbox gateway records the money it moves,
    with plans basic (10.00 a month) and premium (30.00 a month)."""
    gateway = RecordingGateway()
    ledger = recording_ledger(settings, gateway)
    try:
        add_plan(ledger, "basic", amount=1000)
        add_plan(ledger, "premium", amount=3000)
        yield ledger, gateway
    finally:
        ledger.close()


def as_logged(invoice: InvoicePreview) -> dict[str, Any]:
    """A previewed invoice as its ``InvoiceIssued`` envelope's data shows it (id aside)."""
    return {"reason": invoice.reason, "currency": invoice.currency, "total": invoice.total,
            "lines": [{**line, "period_start": isoformat(line["period_start"]),
                       "period_end": isoformat(line["period_end"])} for line in invoice.lines],
            "credit_applied": invoice.credit_applied, "credit_added": invoice.credit_added,
            "amount_due": invoice.amount_due}


def logged(envelope: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in envelope["data"].items() if k != "invoice_id"}


def test_a_preview_appends_nothing_and_asks_no_gateway_though_a_renewal_falls_due_before_it(
    recorded: tuple[Ledger, RecordingGateway],
) -> None:
    ledger, gateway = recorded
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=APRIL_1)
    log, charged = log_envelopes(ledger), dict(gateway.charged)

    preview = ledger.previews.change(sub.id, plan_id="premium", effective_at=MAY_21)
    ledger.previews.upcoming_invoice(sub.id)

    assert (log_envelopes(ledger), gateway.charged) == (log, charged)
    assert preview.invoice is not None
    ledger.subscriptions.change(sub.id, plan_id="premium", effective_at=MAY_21)
    renewal, proration = invoices_of(ledger, sub.id)[-2:]
    assert (renewal["effective_at"], renewal["data"]["total"]) == (isoformat(MAY_1), 1000)
    assert logged(proration) == as_logged(preview.invoice)
    assert sorted(gateway.charged.values()) == [710, 1000, 1000]  # 11 of 31 days: 1065 - 355


def test_the_upcoming_invoice_is_what_the_billing_clock_then_issues(ledger: Ledger) -> None:
    add_plan(ledger, "basic", amount=1000)
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", quantity=2, trial_days=10,
                                     effective_at=APRIL_1)
    upcoming = ledger.previews.upcoming_invoice(sub.id)
    assert (upcoming.reason, upcoming.issued_at, upcoming.total) == ("trial_end", utc(2026, 4, 11), 2000)

    run_billing(ledger, upcoming.issued_at)

    (issued,) = invoices_of(ledger, sub.id)
    assert (issued["effective_at"], logged(issued)) == (isoformat(upcoming.issued_at), as_logged(upcoming))


def test_a_preview_is_refused_as_the_change_itself_is(ledger: Ledger) -> None:
    add_plan(ledger, "basic", amount=1000)
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=APRIL_1)
    log = log_envelopes(ledger)
    cases: list[tuple[dict[str, Any], type[Exception]]] = [
        ({"subscription_id": uuid4(), "quantity": 2}, SubscriptionNotFound),
        ({"subscription_id": sub.id, "plan_id": "no-such-plan"}, UnknownReference),
        ({"subscription_id": sub.id, "quantity": 2, "effective_at": utc(2026, 3, 1)},
         EffectiveAtOutOfOrder),
        ({"subscription_id": sub.id, "quantity": 2,
          "effective_at": ledger.clock() + timedelta(hours=1)}, EffectiveAtInFuture),
    ]
    for arguments, error in cases:
        subscription_id = arguments.pop("subscription_id")
        with pytest.raises(error):
            ledger.previews.change(subscription_id, **arguments)
        with pytest.raises(error):
            ledger.subscriptions.change(subscription_id, **arguments)
    assert log_envelopes(ledger) == log


def test_a_subscription_canceled_at_its_period_end_has_no_upcoming_invoice(ledger: Ledger) -> None:
    add_plan(ledger, "basic", amount=1000)
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=APRIL_1)
    ledger.subscriptions.cancel(sub.id, when="period_end", effective_at=utc(2026, 4, 10))
    with pytest.raises(NoUpcomingInvoice, match="to be canceled at 2026-05-01T00:00:00Z"):
        ledger.previews.upcoming_invoice(sub.id)
    with pytest.raises(SubscriptionNotFound):
        ledger.previews.upcoming_invoice(uuid4())
