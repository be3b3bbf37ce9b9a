"""Closing a period seals its figures; later changes show up as restatements."""

from __future__ import annotations

from datetime import UTC, datetime


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def _basic_plan(ledger) -> None:  # type: ignore[no-untyped-def]
    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD", amount=1000,
                               interval="month", effective_at=at(1, 1))


def _signup(ledger, name: str, when: datetime, token: str = "tok_visa"):  # type: ignore[no-untyped-def]
    subscriber = ledger.subscribers.register(email=f"{name}@example.com", name=name, effective_at=at(1, 1))
    ledger.subscribers.set_payment_method(subscriber.id, gateway="sandbox", token=token, effective_at=at(1, 1))
    return ledger.subscriptions.start(subscriber.id, plan_id="basic", effective_at=when)


def test_a_closed_period_keeps_its_figures_and_shows_the_backdated_signup_that_restated_them(
    ledger, projector, client,  # type: ignore[no-untyped-def]
) -> None:
    _basic_plan(ledger)
    _signup(ledger, "ada", at(3, 10))
    projector.run_once()

    closed = client.post("/periods/2026-03/close")
    assert closed.status_code == 201, closed.text
    assert closed.json()["figures"]["USD"]["mrr"]["mrr"] == "1000.00"
    assert client.post("/periods/2026-03/close").status_code == 409

    late = _signup(ledger, "bo", at(3, 20))  # a March signup recorded after the close
    projector.run_once()

    (item,) = client.get("/reports/restatements").json()["items"]
    assert item["period"] == "2026-03"
    assert item["at_close"]["USD"]["mrr"]["mrr"] == "1000.00"
    assert item["now"]["USD"]["mrr"]["mrr"] == "2000.00"
    assert {"currency": "USD", "report": "mrr", "field": "mrr", "at_close": "1000.00",
            "now": "2000.00"} in item["changed"]
    log = {e["event_id"]: e for e in ledger.event_log.read(0, 1000).items}
    causes = {log[c["event_id"]]["aggregate_id"] for c in item["caused_by"]}
    assert causes == {str(late.id)}
    closed_events = ledger.event_log.read(0, 1000, ["PeriodClosed"]).items
    assert [e["data"]["period"] for e in closed_events] == ["2026-03"]


def test_a_period_that_has_not_ended_or_is_malformed_cannot_be_closed(client) -> None:  # type: ignore[no-untyped-def]
    future = f"{datetime.now(UTC).year + 1}-01"
    assert client.post(f"/periods/{future}/close").json()["type"] == "/problems/period-not-ended"
    assert client.post("/periods/2026-13/close").status_code == 404


def test_an_invoice_of_a_closed_month_paid_after_the_close_restates_its_recognized_revenue(
    ledger, projector, client,  # type: ignore[no-untyped-def]
) -> None:
    from subledger.commands.billing import run_billing

    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD", amount=3000,
                               interval="month", effective_at=at(3, 1))
    ada = ledger.subscribers.register(email="ada@example.com", name="Ada", effective_at=at(3, 1))
    ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok_chargeDeclined",
                                          effective_at=at(3, 1))
    ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=at(4, 25))  # 100 a day, declined
    run_billing(ledger, at(4, 30))  # the retries of Apr 28 and 30 are declined too
    projector.run_once()
    closed = client.post("/periods/2026-04/close")
    assert closed.status_code == 201, closed.text
    assert closed.json()["figures"]["USD"]["revenue"]["recognized"] == "0.00"

    # A new card pays on the retry of May 2: April's 6 days, in May, recorded after the close.
    ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok_visa", effective_at=at(5, 1))
    run_billing(ledger, at(5, 10))
    projector.run_once()

    (item,) = client.get("/reports/restatements").json()["items"]
    assert {"currency": "USD", "report": "revenue", "field": "recognized", "at_close": "0.00",
            "now": "600.00"} in item["changed"]
    log = {e["event_id"]: e for e in ledger.event_log.read(0, 1000).items}
    assert [log[c["event_id"]]["type"] for c in item["caused_by"]] == ["ChargeSucceeded"]


def test_a_close_seals_what_was_owed_at_the_months_end_and_a_later_write_off_of_it_restates_it(
    ledger, projector, client,  # type: ignore[no-untyped-def]
) -> None:
    from subledger.commands.correction_writes import WriteOffInvoice

    _basic_plan(ledger)
    started = _signup(ledger, "bo", at(3, 10), token="tok_chargeDeclined")
    (invoice,) = ledger.subscriptions.get(started.id).invoices
    projector.run_once()

    closed = client.post("/periods/2026-03/close")
    assert closed.status_code == 201, closed.text
    # 1000 owed since March 10: 21 whole days at March 31, 23:59:59.999999.
    assert closed.json()["figures"]["USD"]["receivables"] == {
        "outstanding": 1000, "invoices": 1, "current": 0, "1-30": 1000, "31-60": 0, "61-90": 0,
        "over-90": 0}
    assert "receivables-v1" in closed.json()["metrics_versions"]

    # Written off as of March 20, recorded after the close: no cash figure moves, only what
    # was owed at the month's end.
    ledger.execute(WriteOffInvoice(invoice, effective_at=at(3, 20)))
    projector.run_once()

    (item,) = client.get("/reports/restatements").json()["items"]
    assert [(c["report"], c["field"], c["at_close"], c["now"]) for c in item["changed"]
            if c["report"] == "receivables"] == [
        ("receivables", "1-30", 1000, 0), ("receivables", "invoices", 1, 0),
        ("receivables", "outstanding", 1000, 0)]
    log = {e["event_id"]: e for e in ledger.event_log.read(0, 1000).items}
    assert "InvoiceMarkedUncollectible" in [log[c["event_id"]]["type"] for c in item["caused_by"]]


def test_a_period_closed_before_receivables_were_sealed_is_not_restated_for_them(
    ledger, projector, client,  # type: ignore[no-untyped-def]
) -> None:
    from subledger.projections.period_close import restatement

    _basic_plan(ledger)
    _signup(ledger, "ada", at(3, 10))
    projector.run_once()
    closed = client.post("/periods/2026-03/close").json()
    [event] = ledger.event_log.read(0, 1000, ["PeriodClosed"]).items
    older = {**event, "data": {**event["data"], "figures": {
        currency: {k: v for k, v in figures.items() if k != "receivables"}
        for currency, figures in closed["figures"].items()}}}

    again = restatement(projector.store, older, datetime.now(UTC))

    assert again["changed"] == [] and "receivables" in again["now"]["USD"]
