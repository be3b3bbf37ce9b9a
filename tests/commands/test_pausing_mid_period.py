"""A pause in the middle of a paid period, on each store: the unused part is credited in an
invoice of its own (reason `pause`), kept as the credit balance, and the resume's invoice
charges only what the credit does not cover."""

from __future__ import annotations

import pytest
from support.factories import utc
from support.ledger import add_plan, events_of, invoices_of, line_amounts, paying_subscriber

APR, APR_11, MAY = utc(2026, 4, 1), utc(2026, 4, 11), utc(2026, 5, 1)


@pytest.fixture
def pro(ledger):  # type: ignore[no-untyped-def]
    """pro 30.00/month."""
    add_plan(ledger, "pro", amount=3000)
    return ledger


def test_a_pause_on_day_ten_credits_twenty_days_and_the_resume_charges_the_rest(pro) -> None:
    ledger = pro
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=APR)

    paused = ledger.subscriptions.pause(sub.id, effective_at=APR_11)

    assert (paused.status, paused.credit_balance) == ("paused", 2000)
    credit = invoices_of(ledger, sub.id)[-1]["data"]
    assert (credit["reason"], credit["total"], credit["credit_added"], credit["amount_due"]) == (
        "pause", -2000, 2000, 0)
    assert line_amounts(invoices_of(ledger, sub.id)[-1]) == [("proration_credit", -2000)]
    assert (credit["lines"][0]["period_start"], credit["lines"][0]["period_end"]) == (
        "2026-04-11T00:00:00Z", "2026-05-01T00:00:00Z")

    resumed = ledger.subscriptions.resume(sub.id, effective_at=utc(2026, 5, 20))

    invoice = invoices_of(ledger, sub.id)[-1]["data"]
    assert (invoice["reason"], invoice["total"], invoice["credit_applied"],
            invoice["amount_due"]) == ("resume", 3000, 2000, 1000)
    assert [c["data"]["amount"] for c in events_of(ledger, sub.id, "ChargeSucceeded")] == [
        3000, 1000]
    assert resumed.credit_balance == 0


def test_a_pause_at_the_renewal_instant_issues_no_credit_invoice(pro) -> None:
    ledger = pro
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=APR)

    paused = ledger.subscriptions.pause(sub.id, effective_at=MAY)

    assert [i["data"]["reason"] for i in invoices_of(ledger, sub.id)] == ["subscription_create"]
    assert paused.credit_balance == 0


def test_a_pause_while_past_due_credits_the_unused_part_and_dunning_goes_on(pro) -> None:
    ledger = pro
    bea = paying_subscriber(ledger, "bea@example.com", token="tok_chargeDeclined")
    sub = ledger.subscriptions.start(bea.id, plan_id="pro", effective_at=APR)

    paused = ledger.subscriptions.pause(sub.id, effective_at=utc(2026, 4, 3))

    assert [(i["data"]["reason"], i["data"]["total"]) for i in invoices_of(ledger, sub.id)] == [
        ("subscription_create", 3000), ("pause", -2800)]
    assert (paused.credit_balance, len(paused.open_invoices)) == (2800, 1)
