"""A renewal whose period holds a scheduled cancellation, on each store: the billing clock
invoices and charges that period only up to the cancellation; a revoke after it bills the
rest of the period at once."""

from __future__ import annotations

import pytest
from support.factories import utc
from support.ledger import add_plan, events_of, invoices_of, paying_subscriber

from subledger.commands.billing import run_billing

APR, MAY, MAY_11, JUN = utc(2026, 4, 1), utc(2026, 5, 1), utc(2026, 5, 11), utc(2026, 6, 1)


@pytest.fixture
def pro(ledger):  # type: ignore[no-untyped-def]
    """pro 30.00/month."""
    add_plan(ledger, "pro", amount=3000)
    return ledger


def _ending_on_may_11(ledger):  # type: ignore[no-untyped-def]
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=APR)
    ledger.subscriptions.cancel(sub.id, when="at", at=MAY_11, effective_at=utc(2026, 4, 10))
    return sub


def _recurring(invoice):  # type: ignore[no-untyped-def]
    return [(line["amount"], line["period_start"], line["period_end"])
            for line in invoice["data"]["lines"] if line["kind"] == "recurring"]


def test_the_clock_bills_the_renewal_up_to_the_cancellation_then_ends_it(pro) -> None:
    ledger = pro
    sub = _ending_on_may_11(ledger)

    run_billing(ledger, JUN)

    renewal = invoices_of(ledger, sub.id)[-1]
    assert renewal["data"]["reason"] == "renewal"
    # 10 of May's 31 days: 3000 * 10 / 31 = 967.74
    assert _recurring(renewal) == [(968, "2026-05-01T00:00:00Z", "2026-05-11T00:00:00Z")]
    assert [c["data"]["amount"] for c in events_of(ledger, sub.id, "ChargeSucceeded")] == [
        3000, 968]
    loaded = ledger.subscriptions.get(sub.id)
    assert (loaded.status, loaded.canceled_at) == ("canceled", MAY_11)


def test_a_revoke_after_the_cut_renewal_bills_and_charges_the_rest_of_the_period(pro) -> None:
    ledger = pro
    sub = _ending_on_may_11(ledger)
    run_billing(ledger, utc(2026, 5, 2))

    revoked = ledger.subscriptions.revoke_cancellation(sub.id, effective_at=utc(2026, 5, 5))

    rest = invoices_of(ledger, sub.id)[-1]
    assert rest["data"]["reason"] == "cancellation_changed"
    # 21 of May's 31 days: 3000 * 21 / 31 = 2032.26
    assert _recurring(rest) == [(2032, "2026-05-11T00:00:00Z", "2026-06-01T00:00:00Z")]
    assert [c["data"]["amount"] for c in events_of(ledger, sub.id, "ChargeSucceeded")] == [
        3000, 968, 2032]
    assert (revoked.status, revoked.cancel_at) == ("active", None)
    run_billing(ledger, JUN)
    assert _recurring(invoices_of(ledger, sub.id)[-1]) == [
        (3000, "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z")]


def test_a_revoke_after_the_cut_invoice_was_voided_bills_and_charges_the_whole_period(pro) -> None:
    ledger = pro
    sub = _ending_on_may_11(ledger)
    ledger.subscribers.set_payment_method(sub.subscriber_id, gateway="sandbox",
                                          token="tok_chargeDeclined", effective_at=utc(2026, 4, 20))
    run_billing(ledger, utc(2026, 5, 2))
    cut = invoices_of(ledger, sub.id)[-1]
    ledger.corrections.void_invoice(cut["data"]["invoice_id"], effective_at=utc(2026, 5, 3))
    ledger.subscribers.set_payment_method(sub.subscriber_id, gateway="sandbox", token="tok_visa",
                                          effective_at=utc(2026, 5, 3))

    ledger.subscriptions.revoke_cancellation(sub.id, effective_at=utc(2026, 5, 5))

    rest = invoices_of(ledger, sub.id)[-1]
    assert rest["data"]["reason"] == "cancellation_changed"
    assert _recurring(rest) == [(3000, "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z")]
    assert [c["data"]["amount"] for c in events_of(ledger, sub.id, "ChargeSucceeded")] == [
        3000, 3000]
