"""The worked proration example of docs/billing.md, figure by figure."""

from __future__ import annotations

from datetime import UTC, datetime

from subledger.commands.billing import run_billing
from subledger.commands.ledger import Ledger

MARCH_1 = datetime(2026, 3, 1, tzinfo=UTC)
MARCH_22 = datetime(2026, 3, 22, tzinfo=UTC)
APRIL_1 = datetime(2026, 4, 1, tzinfo=UTC)


def _ada_on(ledger: Ledger, plan_id: str) -> object:
    for pid, amount in (("basic", 1000), ("pro", 3000)):
        ledger.catalog.create_plan(plan_id=pid, name=pid, tier=pid, currency="USD", amount=amount,
                           interval="month", effective_at=MARCH_1)
    ada = ledger.subscribers.register(email="ada@example.com", name="Ada", effective_at=MARCH_1)
    ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok_visa", effective_at=MARCH_1)
    return ledger.subscriptions.start(ada.id, plan_id=plan_id, effective_at=MARCH_1)


def _invoices(ledger: Ledger) -> list[dict]:
    return [e["data"] for e in ledger.event_log.read(0, 1000, ["InvoiceIssued"]).items]


def test_the_readme_upgrade_credits_323_charges_968_and_collects_645(ledger: Ledger) -> None:
    subscription = _ada_on(ledger, "basic")
    ledger.subscriptions.change(subscription.id, plan_id="pro", when="now", effective_at=MARCH_22)
    proration = _invoices(ledger)[-1]
    assert [(line["kind"], line["amount"]) for line in proration["lines"]] == [
        ("proration_credit", -323), ("proration_charge", 968)]
    assert (proration["total"], proration["amount_due"]) == (645, 645)
    charges = [e["data"]["amount"] for e in ledger.event_log.read(0, 1000, ["ChargeSucceeded"]).items]
    assert charges == [1000, 645]
    assert ledger.subscriptions.get(subscription.id).billing_anchor == MARCH_1


def test_the_readme_downgrade_keeps_645_as_credit_for_aprils_invoice(ledger: Ledger) -> None:
    subscription = _ada_on(ledger, "pro")
    ledger.subscriptions.change(subscription.id, plan_id="basic", when="now", effective_at=MARCH_22)
    proration = _invoices(ledger)[-1]
    assert (proration["total"], proration["credit_added"], proration["amount_due"]) == (-645, 645, 0)
    assert ledger.subscriptions.get(subscription.id).credit_balance == 645
    run_billing(ledger, APRIL_1)
    april = _invoices(ledger)[-1]
    assert (april["reason"], april["total"], april["credit_applied"], april["amount_due"]) == (
        "renewal", 1000, 645, 355)
    assert ledger.subscriptions.get(subscription.id).credit_balance == 0
