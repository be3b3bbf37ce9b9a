"""Corrections in the reports, worked by hand (docs/invoices-and-corrections.md): four
subscribers on 30.00 a month from April 1 (30 days), each with one correction in April."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from subledger.commands.billing import run_billing


def at(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _april(ledger: Any) -> dict[str, Any]:
    """Ada's invoice credited in full and refunded on Apr 16; Bob's unpaid invoice voided and
    Cy's written off on Apr 2; Dee credited 5.00 by hand on Apr 10."""
    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD",
                               amount=3000, interval="month", effective_at=at(3, 1))
    subs = {}
    for name, token in (("ada", "tok_visa"), ("bob", "tok_chargeDeclined"),
                        ("cy", "tok_chargeDeclined"), ("dee", "tok_visa")):
        person = ledger.subscribers.register(email=f"{name}@example.com", name=name.title(),
                                             effective_at=at(3, 1))
        ledger.subscribers.set_payment_method(person.id, gateway="sandbox", token=token,
                                              effective_at=at(3, 1))
        subs[name] = ledger.subscriptions.start(person.id, plan_id="basic", effective_at=at(4, 1))
    invoice = {name: next(iter(sub.invoices)) for name, sub in subs.items()}
    ledger.corrections.void_invoice(invoice["bob"], reason="billed in error", effective_at=at(4, 2))
    ledger.corrections.write_off(invoice["cy"], reason="unreachable", effective_at=at(4, 2))
    ledger.corrections.adjust_balance(subs["dee"].subscriber_id, amount=500, reason="goodwill",
                                      effective_at=at(4, 10))
    ledger.corrections.issue_credit_note(invoice["ada"], settlement="refund", reason="outage",
                                         effective_at=at(4, 16))
    run_billing(ledger, at(4, 30))
    return subs


def _month(client: Any, path: str = "/reports/revenue", **extra: str) -> dict[str, Any]:
    body = client.get(path, params={"from": "2026-04-01", "to": "2026-04-30", "interval": "month",
                                    **extra}).json()
    return body["buckets"][0]  # type: ignore[no-any-return]


def test_each_correction_moves_billed_collected_refunded_and_recognized_as_worked_by_hand(
        ledger: Any, projector: Any, client: Any) -> None:
    _april(ledger)
    projector.run_once()
    april = _month(client)
    # billed: 4 x 3000, less Ada's note (3000), Bob's void (3000) and Dee's credit (500);
    # Cy's write-off stays billed.
    assert april["billed"] == 4 * 3000 - 3000 - 3000 - 500
    assert (april["collected"], april["refunded"], april["net"]) == (6000, 3000, 3000)
    # recognized: Ada nets to 0 (half served, then all of it taken off by the note), Bob and
    # Cy never paid, Dee's 3000 less the 500 credited at once.
    assert (april["recognized"], april["deferred"]) == ("2500.00", "0.00")


def test_corrections_never_move_mrr(ledger: Any, projector: Any, client: Any) -> None:
    _april(ledger)
    projector.run_once()
    april = _month(client, "/reports/mrr")
    assert april["new"] == "12000.00" and april["mrr"] == "12000.00", april
    for movement in ("expansion", "contraction", "churn", "reactivation"):
        assert april[movement] == "0.00", april


def test_every_correction_is_a_traceable_cash_row_with_its_event(
        ledger: Any, projector: Any, client: Any) -> None:
    _april(ledger)
    projector.run_once()
    items = client.get("/reports/revenue/lines", params={"from": "2026-04-01", "to": "2026-04-30"}).json()["items"]
    log = {e["event_id"]: e["type"] for e in ledger.event_log.read(0, 1000).items}
    rows = sorted((log[i["event_id"]], i["kind"], i["amount"]) for i in items
                  if log[i["event_id"]] not in ("InvoiceIssued", "ChargeSucceeded"))
    assert rows == [("BalanceAdjusted", "billed", -500), ("CreditNoteIssued", "billed", -3000),
                    ("InvoiceVoided", "billed", -3000), ("RefundIssued", "refunded", 3000)]
    recognition = client.get("/reports/revenue/recognition",
                             params={"from": "2026-04-01", "to": "2026-04-30"}).json()["items"]
    kinds = sorted((i["kind"], i["amount"]) for i in recognition if i["kind"] != "recurring")
    assert kinds == [("balance_adjustment", "-500.00"), ("credit_note", "-1500.00"),
                     ("credit_note", "-1500.00")]
    assert {log[i["event_id"]] for i in recognition if i["kind"] == "credit_note"} == {"CreditNoteIssued"}


def test_a_report_as_known_before_the_corrections_shows_the_book_without_them(
        ledger: Any, projector: Any, client: Any) -> None:
    _april(ledger)
    projector.run_once()
    log = ledger.event_log.read(0, 1000).items
    void = next(i for i, e in enumerate(log) if e["type"] == "InvoiceVoided")
    before = _month(client, as_known_at=log[void - 1]["recorded_at"].replace("Z", "+00:00"))
    assert before["billed"] == 4 * 3000


def test_a_credit_note_after_a_refund_of_the_same_invoice_projected_page_by_page_leaves_nothing_deferred(
        ledger: Any, projector: Any, client: Any) -> None:
    """Eve pays 30.00 for April; on Apr 16 the 15.00 left to serve is refunded, then 12.00 of
    the invoice credited to her balance, each projected on a page of its own (the model's
    book resumed): the note finds nothing left to serve and takes its 12.00 at once."""
    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD",
                               amount=3000, interval="month", effective_at=at(3, 1))
    eve = ledger.subscribers.register(email="eve@example.com", name="Eve", effective_at=at(3, 1))
    ledger.subscribers.set_payment_method(eve.id, gateway="sandbox", token="tok_visa",
                                          effective_at=at(3, 1))
    sub = ledger.subscriptions.start(eve.id, plan_id="basic", effective_at=at(4, 1))
    ((invoice_id, invoice),) = sub.invoices.items()
    projector.run_once()
    ledger.payments.refund_charge(invoice["charge_id"], amount=1500, effective_at=at(4, 16))
    projector.run_once()
    ledger.corrections.issue_credit_note(invoice_id, settlement="credit_balance", lines=[(0, 1200)],
                                         effective_at=at(4, 16))
    projector.run_once()
    days = client.get("/reports/revenue", params={"from": "2026-04-15", "to": "2026-04-17",
                                                  "interval": "day"}).json()["buckets"]
    assert [(d["recognized"], d["deferred"]) for d in days] == [
        ("100.00", "1500.00"), ("-1200.00", "0.00"), ("0.00", "0.00")]
