"""A refund reversed at the provider in the revenue report, against figures worked out by
hand: refunded comes back in the reversal's own bucket (net = collected - refunded), the
recognition the refund took off from the reversal on, and the charge refundable again."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient

from subledger.commands.billing import run_billing
from subledger.commands.gateways.notices import REFUND_FAILED, GatewayNotice
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


def _refunded_then_reversed(ledger: Ledger) -> str:
    """Ada pays 3000 on Apr 1 for April (30 days); 1000 refunded on Apr 16; the refund fails
    at the gateway on Apr 21; May renews. Returns the charge id."""
    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD",
                               amount=3000, interval="month", effective_at=at(3, 1))
    ada = ledger.subscribers.register(email="ada@example.com", name="Ada", effective_at=at(3, 1))
    ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok_visa",
                                          effective_at=at(3, 1))
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=at(4, 1))
    charge_id, charge = next(iter(ledger.subscriptions.get(sub.id).charges.items()))
    refunded, _refund_id = ledger.payments.refund_charge(charge_id, amount=1000, effective_at=at(4, 16))
    [refund] = refunded.refunds.values()
    outcome = ledger.gateway_notices.record("sandbox", GatewayNotice(
        kind=REFUND_FAILED, occurred_at=at(4, 21), ref=refund["gateway_ref"],
        charge_refs=(charge["gateway_ref"],), amount=1000, currency="USD", reason="unknown"))
    assert outcome.outcome == "recorded", outcome
    run_billing(ledger, at(5, 10))
    return charge_id


def _buckets(client: TestClient, day_from: str, day_to: str, interval: str) -> dict[str, Any]:
    body = client.get("/reports/revenue", params={"from": day_from, "to": day_to,
                                                   "interval": interval}).json()
    return {b["date"]: b for b in body["buckets"]}


def test_a_reversed_refund_comes_back_in_the_bucket_of_its_reversal(
        ledger: Ledger, projector: Any, client: TestClient) -> None:
    charge_id = _refunded_then_reversed(ledger)
    projector.run_once()

    april = _buckets(client, "2026-04-01", "2026-04-30", "month")["2026-04-01"]
    assert (april["collected"], april["refunded"], april["net"]) == (3000, 0, 3000)
    assert (april["recognized"], april["deferred"]) == ("3000.00", "0.00")

    days = _buckets(client, "2026-04-16", "2026-04-21", "day")
    assert (days["2026-04-16"]["refunded"], days["2026-04-16"]["net"]) == (1000, -1000)
    assert (days["2026-04-21"]["refunded"], days["2026-04-21"]["net"]) == (-1000, 1000)
    # 100 a day less 1000/15 while refunded; what was recognized then stays.
    assert days["2026-04-20"]["recognized"] == "33.34"
    # On Apr 21 the day's 100, and the 333.33 the refund took off Apr 16-20, at once.
    assert days["2026-04-21"]["recognized"] == "433.33"
    assert days["2026-04-21"]["deferred"] == "900.00"  # as if never refunded

    charge = client.get(f"/charges/{charge_id}").json()
    assert (charge["refunded"], charge["refundable"]) == (0, 3000)


def test_the_reversal_is_traceable_to_its_event(ledger: Ledger, projector: Any,
                                                 client: TestClient) -> None:
    _refunded_then_reversed(ledger)
    projector.run_once()
    items = client.get("/reports/revenue/lines", params={"from": "2026-04-21", "to": "2026-04-21"}).json()["items"]
    log = {e["event_id"]: e["type"] for e in ledger.event_log.read(0, 1000).items}
    assert [(i["kind"], i["amount"], log[i["event_id"]]) for i in items] \
        == [("refunded", -1000, "RefundReversed")]


def test_the_replayed_revenue_report_counts_the_reversal_as_the_read_model_does(
        ledger: Ledger, projector: Any) -> None:
    _refunded_then_reversed(ledger)
    projector.run_once()
    book = run_fold(Replay(ledger.event_log, Selection(), batch=5), Book()).value
    standpoint = Standpoint(datetime(2026, 6, 1, tzinfo=UTC), None)
    for window in (Window(date(2026, 4, 1), date(2026, 5, 31), "month"),
                   Window(date(2026, 4, 14), date(2026, 4, 23), "day")):
        replayed = revenue.revenue_report(book, window, "USD", standpoint)["buckets"]
        assert replayed == revenue_reports.revenue_report(projector.store, window, "USD", standpoint)["buckets"]
        assert sum(b["refunded"] for b in replayed) == 0
