"""A charge its provider denied after it was counted collected, in the reports, against
figures worked out by hand: collected goes down in the reversal's own bucket, the
invoice's recognition stops there, the invoice is due again and dunning runs as after a
failed charge; MRR follows the subscription (past due still counts, canceled does not)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient

from subledger.commands.billing import run_billing
from subledger.commands.gateways.notices import CHARGE_DENIED, GatewayNotice
from subledger.commands.ledger import Ledger
from subledger.projections import revenue_reports
from subledger.projections.report_window import Standpoint, Window
from subledger.replay import revenue
from subledger.replay.book import Book
from subledger.replay.folds import run_fold
from subledger.replay.reader import Replay
from subledger.replay.selection import Selection


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def _paid_then_denied(ledger: Ledger, token: str = "tok_visa") -> tuple[str, str, str]:
    """Ada pays 3000 on Apr 1 for April (30 days, 100 a day); the gateway denies that
    payment on Apr 21; her card is then ``token``. (subscription, charge, invoice ids)."""
    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD",
                               amount=3000, interval="month", effective_at=at(3, 1))
    ada = ledger.subscribers.register(email="ada@example.com", name="Ada", effective_at=at(3, 1))
    ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok_visa",
                                          effective_at=at(3, 1))
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=at(4, 1))
    charge_id, charge = next(iter(ledger.subscriptions.get(sub.id).charges.items()))
    ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token=token,
                                          effective_at=at(4, 2))
    outcome = ledger.gateway_notices.record("sandbox", GatewayNotice(
        kind=CHARGE_DENIED, occurred_at=at(4, 21), ref=charge["gateway_ref"],
        charge_refs=(charge["gateway_ref"],), amount=3000, currency="USD", reason="denied"))
    assert outcome.outcome == "recorded", outcome
    return str(sub.id), charge_id, charge["invoice_id"]


def _buckets(client: TestClient, day_from: str, day_to: str, interval: str) -> dict[str, Any]:
    body = client.get("/reports/revenue", params={"from": day_from, "to": day_to,
                                                   "interval": interval}).json()
    return {b["date"]: b for b in body["buckets"]}


def test_a_denied_charge_leaves_collected_in_the_bucket_of_its_denial(
        ledger: Ledger, projector: Any, client: TestClient) -> None:
    _paid_then_denied(ledger)
    projector.run_once()
    april = _buckets(client, "2026-04-01", "2026-04-30", "month")["2026-04-01"]
    assert (april["billed"], april["collected"], april["refunded"], april["net"]) == (3000, 0, 0, 0)
    assert (april["recognized"], april["deferred"]) == ("0.00", "0.00")
    days = _buckets(client, "2026-04-01", "2026-04-22", "day")
    assert (days["2026-04-01"]["collected"], days["2026-04-21"]["collected"]) == (3000, -3000)
    assert (days["2026-04-21"]["net"], days["2026-04-21"]["refunded"]) == (-3000, 0)
    assert days["2026-04-20"]["recognized"] == "100.00"  # what was recognized before stays
    # On Apr 21 the day's 100 comes off with it, and the 2000 of Apr 1-20 at once.
    assert days["2026-04-21"]["recognized"] == "-2000.00"
    assert (days["2026-04-20"]["deferred"], days["2026-04-21"]["deferred"]) == ("1000.00", "0.00")


def test_the_invoice_is_due_again_and_the_subscription_past_due(
        ledger: Ledger, projector: Any, client: TestClient) -> None:
    sub_id, _charge_id, invoice_id = _paid_then_denied(ledger)
    projector.run_once()
    invoice = client.get(f"/invoices/{invoice_id}").json()
    assert (invoice["status"], invoice["amount_due"], invoice["amount_paid"]) == ("past_due", 3000, 0)
    assert invoice["next_attempt_at"].startswith("2026-04-24")
    assert client.get(f"/subscriptions/{sub_id}").json()["status"] == "past_due"
    mrr = _mrr(client)
    assert (mrr["2026-04-22"]["mrr"], mrr["2026-04-22"]["churn"]) == ("3000.00", "0.00")


def _mrr(client: TestClient) -> dict[str, Any]:
    body = client.get("/reports/mrr", params={"from": "2026-04-20", "to": "2026-04-30",
                                               "interval": "day"}).json()
    return {b["date"]: b for b in body["buckets"]}


def test_dunning_runs_after_the_denial_and_cancels_when_every_retry_fails(
        ledger: Ledger, projector: Any, client: TestClient) -> None:
    sub_id, _charge_id, invoice_id = _paid_then_denied(ledger, token="tok_chargeDeclined")
    run_billing(ledger, at(4, 30))
    projector.run_once()
    history = client.get(f"/subscriptions/{sub_id}").json()
    assert history["status"] == "canceled"
    log = [e for e in ledger.event_log.read(0, 1000).items if e["aggregate_id"] == sub_id]
    failed = [(e["data"]["attempt"], e["effective_at"][:10]) for e in log if e["type"] == "ChargeFailed"]
    assert failed == [(2, "2026-04-24"), (3, "2026-04-26"), (4, "2026-04-28")]
    mrr = _mrr(client)
    assert (mrr["2026-04-28"]["churn"], mrr["2026-04-28"]["mrr"]) == ("3000.00", "0.00")
    assert client.get(f"/invoices/{invoice_id}").json()["amount_due"] == 3000


def test_a_retry_that_succeeds_collects_and_recognizes_the_invoice_again(
        ledger: Ledger, projector: Any, client: TestClient) -> None:
    sub_id, _charge_id, invoice_id = _paid_then_denied(ledger)
    run_billing(ledger, at(4, 25))
    projector.run_once()
    assert client.get(f"/subscriptions/{sub_id}").json()["status"] == "active"
    assert client.get(f"/invoices/{invoice_id}").json()["status"] == "paid"
    april = _buckets(client, "2026-04-01", "2026-04-30", "month")["2026-04-01"]
    assert (april["collected"], april["net"], april["recognized"]) == (3000, 3000, "3000.00")


def test_the_replayed_revenue_report_counts_the_reversal_as_the_read_model_does(
        ledger: Ledger, projector: Any) -> None:
    _paid_then_denied(ledger)
    projector.run_once()
    book = run_fold(Replay(ledger.event_log, Selection(), batch=5), Book()).value
    standpoint = Standpoint(datetime(2026, 6, 1, tzinfo=UTC), None)
    for window in (Window(date(2026, 4, 1), date(2026, 5, 31), "month"),
                   Window(date(2026, 4, 14), date(2026, 4, 23), "day")):
        replayed = revenue.revenue_report(book, window, "USD", standpoint)["buckets"]
        assert replayed == revenue_reports.revenue_report(projector.store, window, "USD", standpoint)["buckets"]
        assert [b["collected"] for b in replayed if b["collected"]] \
            == ([-3000] if window.interval == "day" else [])


def test_a_credit_note_on_a_reversed_invoice_never_paid_again_recognizes_nothing(
        ledger: Ledger, projector: Any, client: TestClient) -> None:
    sub_id, _charge_id, invoice_id = _paid_then_denied(ledger, token="tok_chargeDeclined")
    # The reversal already took the whole invoice off revenue: crediting 1000 of what is due
    # again takes nothing more off, since nothing of it is recognized any more.
    ledger.corrections.issue_credit_note(invoice_id, settlement="amount_due", lines=[(0, 1000)],
                                         effective_at=at(4, 22))
    run_billing(ledger, at(4, 30))
    projector.run_once()
    assert client.get(f"/subscriptions/{sub_id}").json()["status"] == "canceled"
    assert client.get(f"/invoices/{invoice_id}").json()["amount_due"] == 2000
    april = _buckets(client, "2026-04-01", "2026-05-31", "month")
    assert [april[m]["recognized"] for m in ("2026-04-01", "2026-05-01")] == ["0.00", "0.00"]
    assert april["2026-04-01"]["deferred"] == "0.00"


def test_a_credit_note_on_a_reversed_invoice_paid_again_comes_off_what_is_recognized_once(
        ledger: Ledger, projector: Any, client: TestClient) -> None:
    _sub_id, _charge_id, invoice_id = _paid_then_denied(ledger)
    ledger.corrections.issue_credit_note(invoice_id, settlement="amount_due", lines=[(0, 1000)],
                                         effective_at=at(4, 22))
    run_billing(ledger, at(4, 25))  # the retry on Apr 24 pays the 2000 left
    projector.run_once()
    assert client.get(f"/invoices/{invoice_id}").json()["status"] == "paid"
    months = _buckets(client, "2026-04-01", "2026-05-31", "month")
    assert (months["2026-04-01"]["collected"], months["2026-04-01"]["recognized"]) == (2000, "2000.00")
    assert months["2026-05-01"]["recognized"] == "0.00"


def test_a_credit_note_that_covers_what_a_reversal_left_due_settles_it_with_nothing_recognized(
        ledger: Ledger, projector: Any, client: TestClient) -> None:
    _sub_id, _charge_id, invoice_id = _paid_then_denied(ledger, token="tok_chargeDeclined")
    ledger.corrections.issue_credit_note(invoice_id, settlement="amount_due", effective_at=at(4, 22))
    projector.run_once()
    assert client.get(f"/invoices/{invoice_id}").json()["amount_due"] == 0
    months = _buckets(client, "2026-04-01", "2026-05-31", "month")
    assert (months["2026-04-01"]["collected"], months["2026-04-01"]["recognized"]) == (0, "0.00")
    assert months["2026-04-01"]["deferred"] == "0.00"
