"""The revenue report against figures worked out by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from subledger.bootstrap import build_projector
from subledger.commands.billing import run_billing


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def _april(ledger):  # type: ignore[no-untyped-def]
    """Ada pays 3000 on Apr 1 for April (30 days); May renews; 1000 refunded on Apr 16."""
    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD", amount=3000,
                       interval="month", effective_at=at(3, 1))
    ada = ledger.subscribers.register(email="ada@example.com", name="Ada", effective_at=at(3, 1))
    ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok_visa", effective_at=at(3, 1))
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=at(4, 1))
    charge_id = next(iter(ledger.subscriptions.get(sub.id).charges))
    return sub, charge_id


def _bucket(client, day_from: str, day_to: str, interval: str = "month", **extra: str) -> dict:  # type: ignore[no-untyped-def]
    body = client.get("/reports/revenue", params={"from": day_from, "to": day_to,
                                                   "interval": interval, **extra}).json()
    return {b["date"]: b for b in body["buckets"]}


def test_revenue_is_billed_collected_and_recognized_per_second_over_service(ledger, projector, client) -> None:  # type: ignore[no-untyped-def]
    _sub, charge_id = _april(ledger)
    time.sleep(0.01)
    before_refund = datetime.now(UTC)
    time.sleep(0.01)
    ledger.payments.refund_charge(charge_id, amount=1000, effective_at=at(4, 16))
    run_billing(ledger, at(5, 10))
    projector.run_once()

    months = _bucket(client, "2026-04-01", "2026-05-31")
    april, may = months["2026-04-01"], months["2026-05-01"]
    assert (april["billed"], april["collected"], april["refunded"], april["net"]) == (3000, 3000, 1000, 2000)
    # 1000 of the 1500 still to serve on Apr 16 is refunded: April recognizes 3000 - 1000.
    assert (april["recognized"], april["deferred"]) == ("2000.00", "0.00")
    assert (may["billed"], may["collected"], may["recognized"], may["deferred"]) == (3000, 3000, "3000.00", "0.00")

    days = _bucket(client, "2026-04-10", "2026-04-20", interval="day")
    assert days["2026-04-10"]["recognized"] == "100.00"   # 3000 / 30 days
    assert days["2026-04-10"]["deferred"] == "2000.00"    # 20 of 30 days left after Apr 11
    # After the refund: 1000 - 1000 x 10/15 left to serve after Apr 21.
    assert days["2026-04-20"]["deferred"] == "333.33"
    # 100 - 1000/15 a day, rounded where it is summed up: 1666.67 served by Apr 21 less
    # 1633.33 by Apr 20, so that the days add up to their month.
    assert days["2026-04-20"]["recognized"] == "33.34"

    then = _bucket(client, "2026-04-01", "2026-04-30", as_known_at=before_refund.isoformat())
    assert (then["2026-04-01"]["refunded"], then["2026-04-01"]["recognized"]) == (0, "3000.00")


def test_every_cash_figure_is_traceable_to_its_event(ledger, projector, client) -> None:  # type: ignore[no-untyped-def]
    _sub, charge_id = _april(ledger)
    ledger.payments.refund_charge(charge_id, amount=1000, effective_at=at(4, 16))
    projector.run_once()
    items = client.get("/reports/revenue/lines", params={"from": "2026-04-01", "to": "2026-04-30"}).json()["items"]
    assert [(i["kind"], i["amount"]) for i in items] == [("billed", 3000), ("collected", 3000), ("refunded", 1000)]
    log = {e["event_id"]: e["type"] for e in ledger.event_log.read(0, 1000).items}
    assert [log[i["event_id"]] for i in items] == ["InvoiceIssued", "ChargeSucceeded", "RefundIssued"]


def test_the_incremental_revenue_model_equals_a_rebuild(settings, ledger) -> None:  # type: ignore[no-untyped-def]
    from subledger.commands.demo import generate

    runner = build_projector(settings, ledger)
    runner.page_size = 17
    generate(ledger, subscribers=15, months=4, seed=13)
    runner.run_once()

    def rows() -> list[tuple]:
        with runner.store.transaction() as tx:
            cash = tx.execute("SELECT * FROM view_revenue_cash ORDER BY event_id").fetchall()
            lines = tx.execute("SELECT subscription_id, kind, amount, start_at, end_at, settled_at, source"
                               " FROM view_revenue_lines ORDER BY 1, 2, 3, 4, 5, 6, 7").fetchall()
        return cash + lines

    before = rows()
    runner.rebuild("revenue")
    assert rows() == before
    runner.close()
    runner.store.close()


def test_recognized_and_deferred_are_traceable_to_the_lines_and_events_behind_them(ledger, projector, client) -> None:  # type: ignore[no-untyped-def]
    _sub, charge_id = _april(ledger)
    ledger.payments.refund_charge(charge_id, amount=1000, effective_at=at(4, 16))
    projector.run_once()
    window = {"from": "2026-04-10", "to": "2026-04-20"}  # [Apr 10, Apr 21): 11 days
    items = client.get("/reports/revenue/recognition", params=window).json()["items"]
    log = {e["event_id"]: e for e in ledger.event_log.read(0, 1000).items}
    invoice, refund = items
    # April's line: 3000 over 30 days, 11 of them in the window, 10 still to serve after it.
    assert (invoice["kind"], invoice["amount"], invoice["recognized"], invoice["deferred"]) == (
        "recurring", "3000.00", "1100.00", "1000.00")
    assert log[invoice["event_id"]]["type"] == "InvoiceIssued"
    assert log[invoice["event_id"]]["data"]["invoice_id"] == invoice["source"]
    # The refund takes 1000 off the 1500 left to serve on Apr 16, over [Apr 16, May 1):
    # 5 of its 15 days fall in the window, 10 after it.
    assert (refund["kind"], refund["amount"], refund["recognized"], refund["deferred"]) == (
        "refund", "-1000.00", "-333.33", "-666.67")
    assert (refund["service_start"], refund["service_end"]) == ("2026-04-16T00:00:00.000000Z",
                                                                "2026-05-01T00:00:00.000000Z")
    assert log[refund["event_id"]]["type"] == "RefundIssued"
    # ... and they add up to the report's figures for the same days (one bucket: the window).
    whole = _bucket(client, "2026-04-10", "2026-04-20")["2026-04-10"]
    assert (whole["recognized"], whole["deferred"]) == ("766.67", "333.33")
    # Before the refund was recorded, only the invoice's line was known.
    before = client.get("/reports/revenue/recognition", params={
        **window, "as_known_at": log[refund["event_id"]]["recorded_at"].replace("Z", "+00:00")}).json()["items"]
    assert len(before) == 2  # recorded at that very instant
    earlier = client.get("/reports/revenue/recognition", params={
        **window, "as_known_at": log[invoice["event_id"]]["recorded_at"].replace("Z", "+00:00")}).json()["items"]
    assert [i["kind"] for i in earlier] == ["recurring"]
