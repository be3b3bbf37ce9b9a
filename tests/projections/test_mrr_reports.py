"""MRR movements and the MRR and churn reports, against figures worked out by hand."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

from subledger.bootstrap import build_projector
from subledger.commands.demo import generate


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def _subscriber(ledger, name: str, when: datetime):  # type: ignore[no-untyped-def]
    subscriber = ledger.subscribers.register(email=f"{name}@example.com", name=name, effective_at=when)
    ledger.subscribers.set_payment_method(subscriber.id, gateway="sandbox", token="tok_visa", effective_at=when)
    return subscriber


def _book(ledger) -> None:  # type: ignore[no-untyped-def]
    """Ada: basic monthly 1000 x2 from Jan 10, x3 from Feb 10, canceled Apr 20.
    Bo: pro yearly 12000 (1000 a month) from Jan 20, paused Mar 5, resumed Apr 2."""
    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD", amount=1000,
                       interval="month", effective_at=at(1, 1))
    ledger.catalog.create_plan(plan_id="pro-y", name="Pro yearly", tier="pro", currency="USD", amount=12000,
                       interval="year", effective_at=at(1, 1))
    ada = _subscriber(ledger, "ada", at(1, 10))
    bo = _subscriber(ledger, "bo", at(1, 20))
    ada_sub = ledger.subscriptions.start(ada.id, plan_id="basic", quantity=2, effective_at=at(1, 10))
    bo_sub = ledger.subscriptions.start(bo.id, plan_id="pro-y", effective_at=at(1, 20))
    ledger.subscriptions.change(ada_sub.id, quantity=3, effective_at=at(2, 10))
    ledger.subscriptions.pause(bo_sub.id, effective_at=at(3, 5))
    ledger.subscriptions.resume(bo_sub.id, effective_at=at(4, 2))
    ledger.subscriptions.cancel(ada_sub.id, when="now", effective_at=at(4, 20))


def test_the_mrr_report_matches_the_figures_worked_by_hand(ledger, projector, client) -> None:  # type: ignore[no-untyped-def]
    _book(ledger)
    projector.run_once()
    body = client.get("/reports/mrr", params={"from": "2026-01-01", "to": "2026-04-30"}).json()
    assert body["currency"] == "USD"
    rows = [(b["date"], b["mrr"], b["arr"], b["new"], b["expansion"], b["reactivation"],
             b["contraction"], b["churn"], b["subscribers"]) for b in body["buckets"]]
    assert rows == [
        ("2026-01-01", "3000.00", "36000.00", "3000.00", "0.00", "0.00", "0.00", "0.00", 2),
        ("2026-02-01", "4000.00", "48000.00", "0.00", "1000.00", "0.00", "0.00", "0.00", 2),
        ("2026-03-01", "3000.00", "36000.00", "0.00", "0.00", "0.00", "0.00", "1000.00", 1),
        ("2026-04-01", "1000.00", "12000.00", "0.00", "0.00", "1000.00", "0.00", "3000.00", 1),
    ]
    assert body["position"] == ledger.event_log.max_position()
    assert body["metrics_version"] == "mrr-v4"


def test_the_churn_report_matches_the_rates_worked_by_hand(ledger, projector, client) -> None:  # type: ignore[no-untyped-def]
    _book(ledger)
    projector.run_once()
    periods = client.get("/reports/churn", params={"from": "2026-01-01", "to": "2026-04-30"}).json()["periods"]
    assert [(p["period_start"], p["customers_start"], p["churned_customers"], p["mrr_start"],
             p["customer_churn_rate"], p["gross_mrr_churn_rate"], p["net_mrr_churn_rate"],
             p["net_revenue_retention"]) for p in periods] == [
        ("2026-01-01", 0, 0, "0.00", None, None, None, None),
        ("2026-02-01", 2, 0, "3000.00", "0.000000", "0.000000", "-0.333333", "1.333333"),
        ("2026-03-01", 2, 1, "4000.00", "0.500000", "0.250000", "0.250000", "0.750000"),
        ("2026-04-01", 1, 1, "3000.00", "1.000000", "1.000000", "0.666667", "0.333333"),
    ]


def test_each_movement_names_the_events_and_positions_that_caused_it(ledger, projector, client) -> None:  # type: ignore[no-untyped-def]
    _book(ledger)
    projector.run_once()
    churns = client.get("/reports/mrr/movements",
                        params={"from": "2026-03-01", "to": "2026-03-31", "kind": "churn"}).json()["items"]
    assert len(churns) == 1 and churns[0]["amount"] == "1000.00"
    log = {e["event_id"]: e for e in ledger.event_log.read(0, 1000).items}
    caused_by = [log[i] for i in churns[0]["event_ids"]]
    # The pause, and its credit invoice at the same instant (which moves no MRR itself).
    assert [e["type"] for e in caused_by] == ["SubscriptionPaused", "InvoiceIssued"]
    assert churns[0]["positions"] == [e["position"] for e in caused_by]


def test_a_backdated_subscription_rederives_movements_and_the_past_belief_stays_queryable(
    ledger, projector, client,  # type: ignore[no-untyped-def]
) -> None:
    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD", amount=1000,
                       interval="month", effective_at=at(1, 1))
    ada = _subscriber(ledger, "ada", at(1, 1))
    ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=at(1, 10))
    time.sleep(0.01)
    known_before = datetime.now(UTC)
    time.sleep(0.01)
    ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=at(1, 5))  # backdated
    projector.run_once()

    def kinds(**params: str) -> list[tuple[str, str, str]]:
        items = client.get("/reports/mrr/movements",
                           params={"from": "2026-01-01", "to": "2026-01-31", **params}).json()["items"]
        return [(i["effective_at"][:10], i["kind"], i["amount"]) for i in items]

    assert kinds() == [("2026-01-05", "new", "1000.00"), ("2026-01-10", "expansion", "1000.00")]
    assert kinds(as_known_at=known_before.isoformat()) == [("2026-01-10", "new", "1000.00")]
    then = client.get("/reports/mrr", params={"from": "2026-01-01", "to": "2026-01-31",
                                              "as_known_at": known_before.isoformat()}).json()
    assert then["buckets"][0]["mrr"] == "1000.00"


def test_mrr_follows_the_movement_identity_in_every_bucket_of_a_demo_book(ledger, projector, client) -> None:  # type: ignore[no-untyped-def]
    generate(ledger, subscribers=40, months=6, seed=21)
    projector.run_once()
    today = datetime.now(UTC).date()
    buckets = client.get("/reports/mrr", params={"from": "2025-01-01", "to": today.isoformat(),
                                                  "interval": "month"}).json()["buckets"]
    previous = Decimal(0)
    for b in buckets:
        flow = (Decimal(b["new"]) + Decimal(b["expansion"]) + Decimal(b["reactivation"])
                - Decimal(b["contraction"]) - Decimal(b["churn"]))
        # Each figure is rounded to the cent on its own: the identity holds within them.
        assert abs(previous + flow - Decimal(b["mrr"])) <= Decimal("0.03"), b
        previous = Decimal(b["mrr"])


def test_the_incremental_mrr_model_equals_a_rebuild_from_zero(settings, ledger) -> None:  # type: ignore[no-untyped-def]
    runner = build_projector(settings, ledger)
    runner.page_size = 13
    generate(ledger, subscribers=15, months=4, seed=8)
    runner.run_once()

    def believed() -> list[tuple]:
        with runner.store.transaction() as tx:
            return tx.execute(
                "SELECT subscriber_id, currency, at, kind, amount, mrr_before, mrr_after, event_ids"
                " FROM view_mrr_movements WHERE recorded_to = '9999-12-31T23:59:59.999999Z'"
                " ORDER BY 1, 2, 3, 4, 5").fetchall()

    incremental = believed()
    runner.rebuild("mrr")
    assert believed() == incremental
    runner.close()
    runner.store.close()


def test_reports_refuse_bad_parameters_with_problems(ledger, projector, client) -> None:  # type: ignore[no-untyped-def]
    _book(ledger)
    projector.run_once()
    for params in ({"from": "2026-05-01", "to": "2026-04-01"},
                   {"from": "2026-01-01", "to": "2026-02-01", "interval": "week"},
                   {"from": "not-a-date", "to": "2026-02-01"},
                   {"to": "2026-02-01"}):
        response = client.get("/reports/mrr", params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    for report in ("churn", "revenue", "mrr/movements", "revenue/lines", "revenue/recognition"):
        for params in ({"from": "2026-05-01", "to": "2026-04-01"}, {"from": "2026-13-01", "to": "2026-02-01"}):
            response = client.get(f"/reports/{report}", params=params)
            assert response.status_code == 422, (report, params, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")


def test_an_empty_ledger_answers_empty_buckets_and_no_currency(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/reports/mrr", params={"from": "2026-01-01", "to": "2026-02-28"}).json()
    assert (body["currency"], body["buckets"]) == (None, [])
