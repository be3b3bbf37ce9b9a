"""Every correction through the ledger's Python API (``Ledger.execute`` of the write that
``POST /invoices/...``, ``/subscribers/{id}/balance`` and ``/charges/{id}/retry`` run), on
both stores: what it answers, what it appends, and that a retry with the same key appends
nothing while another command under the key is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from subledger.commands.correction_writes import (
    AdjustBalance,
    IssueCreditNote,
    RetryCharge,
    VoidInvoice,
    WriteOffInvoice,
)
from subledger.commands.gateways.notices import CHARGE_DENIED, GatewayNotice
from subledger.commands.idempotency import IdempotencyKey
from subledger.commands.ledger import Ledger
from subledger.domain.errors import ChargeNotFound, IdempotencyKeyReused, InvoiceNotOpen

START = datetime(2026, 3, 1, tzinfo=UTC)
NEXT_DAY = datetime(2026, 3, 2, tzinfo=UTC)


def _subscription(ledger: Ledger, token: str) -> Any:
    ledger.catalog.create_plan(plan_id=f"m-{token}", name="M", tier="basic", currency="USD",
                               amount=3000, interval="month", effective_at=START)
    who = ledger.subscribers.register(email=f"{token}@example.com", name="S", effective_at=START)
    ledger.subscribers.set_payment_method(who.id, gateway="sandbox", token=token, effective_at=START)
    return ledger.subscriptions.start(who.id, plan_id=f"m-{token}", effective_at=START)


def _types(ledger: Ledger) -> list[str]:
    return [e["type"] for e in ledger.event_log.read(0, 10_000, ()).items]


def test_a_void_answers_the_invoice_void_and_a_second_is_refused(ledger: Ledger) -> None:
    sub = _subscription(ledger, "tok_chargeDeclined")
    (invoice_id,) = sub.invoices
    answer = ledger.execute(VoidInvoice(invoice_id, reason="issued by mistake", effective_at=NEXT_DAY))
    assert (answer.body["status"], answer.body["amount_due"], answer.body["total"]) == ("void", 0, 3000)
    assert _types(ledger)[-2:] == ["InvoiceVoided", "SubscriptionRecovered"]
    with pytest.raises(InvoiceNotOpen):
        ledger.execute(VoidInvoice(invoice_id, effective_at=NEXT_DAY))


def test_a_write_off_answers_the_invoice_uncollectible(ledger: Ledger) -> None:
    sub = _subscription(ledger, "tok_chargeDeclined")
    (invoice_id,) = sub.invoices
    answer = ledger.execute(WriteOffInvoice(invoice_id, effective_at=NEXT_DAY))
    assert (answer.body["status"], answer.body["amount_due"]) == ("uncollectible", 3000)
    assert _types(ledger)[-2:] == ["InvoiceMarkedUncollectible", "SubscriptionRecovered"]


def test_a_credit_note_to_the_balance_answers_the_note_and_credits_the_balance(ledger: Ledger) -> None:
    sub = _subscription(ledger, "tok_visa")
    (invoice_id,) = sub.invoices
    answer = ledger.execute(IssueCreditNote(invoice_id, "credit_balance", ((0, 700),), "outage", NEXT_DAY))
    assert (answer.created, answer.body["total"], answer.body["invoice_id"]) == (True, 700, invoice_id)
    assert ledger.subscriptions.get(sub.id).credit_balance == 700
    assert _types(ledger)[-1] == "CreditNoteIssued"


def test_a_balance_credit_answers_the_new_balance(ledger: Ledger) -> None:
    sub = _subscription(ledger, "tok_visa")
    answer = ledger.execute(AdjustBalance(sub.subscriber_id, 250, "goodwill", effective_at=NEXT_DAY))
    assert (answer.body["amount"], answer.body["credit_balance"], answer.body["subscription_id"]) == (
        250, 250, str(sub.id))
    assert _types(ledger)[-1] == "BalanceAdjusted"


def test_a_retry_by_hand_takes_one_more_attempt_at_once(ledger: Ledger) -> None:
    sub = _subscription(ledger, "tok_chargeDeclined")
    (invoice_id,) = sub.invoices
    (failed,) = [e["data"] for e in ledger.event_log.read(0, 10_000, ("ChargeFailed",)).items]
    ledger.subscribers.set_payment_method(sub.subscriber_id, gateway="sandbox", token="tok_visa",
                                          effective_at=NEXT_DAY)
    answer = ledger.execute(RetryCharge(failed["charge_id"], effective_at=NEXT_DAY))
    assert (answer.body["status"], answer.body["invoice_id"]) == ("succeeded", invoice_id)
    assert _types(ledger)[-3:] == ["ChargeRetryScheduled", "ChargeSucceeded", "SubscriptionRecovered"]



def test_a_charge_the_provider_denied_after_it_succeeded_is_retried_through_its_invoice(
        ledger: Ledger) -> None:
    sub = _subscription(ledger, "tok_visa")
    ((charge_id, charge),) = ledger.subscriptions.get(sub.id).charges.items()
    ledger.gateway_notices.record("sandbox", GatewayNotice(
        kind=CHARGE_DENIED, occurred_at=NEXT_DAY, ref=charge["gateway_ref"],
        charge_refs=(charge["gateway_ref"],), amount=3000, currency="USD", reason="denied"))
    with pytest.raises(ChargeNotFound):  # no failed attempt of that id in the index
        ledger.execute(RetryCharge(charge_id, effective_at=NEXT_DAY))

    answer = ledger.execute(RetryCharge(charge_id, effective_at=NEXT_DAY,
                                        invoice_id=charge["invoice_id"]))

    assert (answer.body["status"], answer.body["invoice_id"]) == ("succeeded", charge["invoice_id"])
    assert _types(ledger)[-3:] == ["ChargeRetryScheduled", "ChargeSucceeded", "SubscriptionRecovered"]

def test_a_correction_retried_with_its_key_appends_nothing_and_another_under_the_key_is_refused(
        ledger: Ledger) -> None:
    sub = _subscription(ledger, "tok_visa")
    (invoice_id,) = sub.invoices
    key = IdempotencyKey("open", "credit-1")
    note = IssueCreditNote(invoice_id, "credit_balance", ((0, 100),), None, NEXT_DAY)
    first = ledger.execute(note, key)
    count = len(_types(ledger))
    again = ledger.execute(note, key)
    assert (again.body, again.replayed) == (first.body, True)
    assert len(_types(ledger)) == count
    with pytest.raises(IdempotencyKeyReused):
        ledger.execute(AdjustBalance(sub.subscriber_id, 5, "fee", effective_at=NEXT_DAY), key)
