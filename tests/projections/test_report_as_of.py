"""One report instant, ``as_of``: a bucket reads the same in every window that contains it,
and what arrives after its period (an invoice paid late) counts in it once ``as_of`` is past
it, over HTTP on both stores."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from subledger.commands.billing import run_billing
from subledger.commands.demo import generate

REVENUE_FIGURES = ("billed", "collected", "refunded", "net", "recognized")
MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churn")


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def _late_payer(ledger: Any) -> None:
    """Ada starts Apr 25 (3000 a month, 100 a day of Apr 25 - May 25) with a card that is
    declined; the dunning retries of Apr 28 and 30 fail; a new card set on May 1 pays on the
    retry of May 2. So April's 6 days (600) are paid in May."""
    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD", amount=3000,
                               interval="month", effective_at=at(3, 1))
    ada = ledger.subscribers.register(email="ada@example.com", name="Ada", effective_at=at(3, 1))
    ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok_chargeDeclined",
                                          effective_at=at(3, 1))
    ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=at(4, 25))
    run_billing(ledger, at(4, 30))
    ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok_visa", effective_at=at(5, 1))


def _report(client: Any, report: str, day_from: str, day_to: str, interval: str = "month",
            **params: str) -> dict[str, Any]:
    answer = client.get(f"/reports/{report}", params={"from": day_from, "to": day_to,
                                                      "interval": interval, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _bucket(client: Any, report: str, day_from: str, day_to: str, date: str, **params: str) -> dict[str, Any]:
    body = _report(client, report, day_from, day_to, **params)
    rows = body.get("buckets", body.get("periods"))
    (row,) = [r for r in rows if r.get("date", r.get("period_start")) == date]
    return row  # type: ignore[no-any-return]


WINDOWS = [("2026-04-01", "2026-04-30"), ("2026-01-01", "2026-12-31"), ("2026-04-20", "2026-05-10")]
"""Windows whose month buckets include April's (the last starts it on Apr 20: the 20th to the
30th, the same recognized figure since Ada's service starts on the 25th)."""


def test_an_invoice_paid_after_its_service_month_counts_in_that_month_in_every_window(
    ledger, projector, client,  # type: ignore[no-untyped-def]
) -> None:
    _late_payer(ledger)
    run_billing(ledger, at(5, 10))
    projector.run_once()
    april = [_bucket(client, "revenue", a, b, a if a > "2026-04-01" else "2026-04-01") for a, b in WINDOWS]
    assert [(b["billed"], b["collected"], b["recognized"]) for b in april] == [(3000, 0, "600.00")] * 3
    days = _report(client, "revenue", "2026-04-01", "2026-04-30", interval="day")["buckets"]
    assert sum(Decimal(b["recognized"]) for b in days) == Decimal("600.00")
    may = _bucket(client, "revenue", "2026-05-01", "2026-05-31", "2026-05-01")
    assert (may["collected"], may["recognized"], may["deferred"]) == (3000, "2400.00", "0.00")


def test_an_invoice_paid_late_counts_in_no_window_as_of_an_instant_before_its_payment(
    ledger, projector, client,  # type: ignore[no-untyped-def]
) -> None:
    _late_payer(ledger)
    run_billing(ledger, at(5, 10))
    projector.run_once()
    before, paid = "2026-05-01T23:59:59Z", "2026-05-02T00:00:00Z"
    for day_from, day_to in WINDOWS:
        first = day_from if day_from > "2026-04-01" else "2026-04-01"
        then = _bucket(client, "revenue", day_from, day_to, first, as_of=before)
        assert (then["billed"], then["recognized"], then["deferred"]) == (3000, "0.00", "0.00")
        assert _bucket(client, "revenue", day_from, day_to, first, as_of=paid)["recognized"] == "600.00"
    # Nothing effective after as_of counts anywhere: not May's charge, nor its line.
    may = _bucket(client, "revenue", "2026-05-01", "2026-05-31", "2026-05-01", as_of=before)
    assert (may["collected"], may["recognized"]) == (0, "0.00")
    window = {"from": "2026-04-01", "to": "2026-05-31", "as_of": before}
    assert [i["kind"] for i in client.get("/reports/revenue/lines", params=window).json()["items"]] == ["billed"]
    assert client.get("/reports/revenue/recognition", params=window).json()["items"] == []
    body = _report(client, "revenue", "2026-04-01", "2026-04-30", as_of="2026-05-02T02:00:00+02:00")
    assert (body["as_of"], body["as_known_at"]) == ("2026-05-02T00:00:00.000000Z", None)


def test_as_of_defaults_to_as_known_at_and_judges_only_what_was_known_then(
    ledger, projector, client,  # type: ignore[no-untyped-def]
) -> None:
    _late_payer(ledger)
    time.sleep(0.01)
    known_before_payment = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    run_billing(ledger, at(5, 10))
    projector.run_once()
    then = _report(client, "revenue", "2026-04-01", "2026-04-30", as_known_at=known_before_payment)
    assert then["as_of"] == then["as_known_at"]
    assert then["buckets"][0]["recognized"] == "0.00"  # the payment was not recorded yet
    known_now = datetime.now(UTC).isoformat()
    assert _bucket(client, "revenue", "2026-04-01", "2026-04-30", "2026-04-01",
                   as_known_at=known_now)["recognized"] == "600.00"
    assert _bucket(client, "revenue", "2026-04-01", "2026-04-30", "2026-04-01", as_known_at=known_now,
                   as_of="2026-05-01T00:00:00Z")["recognized"] == "0.00"
    later = client.get("/reports/revenue", params={"from": "2026-04-01", "to": "2026-04-30",
                                                   "as_known_at": known_before_payment, "as_of": known_now})
    assert later.status_code == 422 and later.json()["type"] == "/problems/invalid-as-of"


def test_a_month_reads_the_same_in_a_one_month_a_twelve_month_and_a_daily_report(
    ledger, projector, client,  # type: ignore[no-untyped-def]
) -> None:
    generate(ledger, subscribers=30, months=6, seed=5, end=at(7, 1))
    projector.run_once()
    as_of = {"as_of": "2026-07-15T00:00:00Z"}
    march = _bucket(client, "revenue", "2026-03-01", "2026-03-31", "2026-03-01", **as_of)
    assert march["billed"] > 0 and Decimal(march["recognized"]) > 0 and Decimal(march["deferred"]) > 0
    assert _bucket(client, "revenue", "2025-07-01", "2026-06-30", "2026-03-01", **as_of) == march
    days = _report(client, "revenue", "2026-03-01", "2026-03-31", interval="day", **as_of)["buckets"]
    for figure in REVENUE_FIGURES:
        assert sum(Decimal(str(d[figure])) for d in days) == Decimal(str(march[figure])), figure
    assert days[-1]["deferred"] == march["deferred"]

    mrr = _bucket(client, "mrr", "2026-03-01", "2026-03-31", "2026-03-01", **as_of)
    assert _bucket(client, "mrr", "2025-07-01", "2026-06-30", "2026-03-01", **as_of) == mrr
    days = _report(client, "mrr", "2026-03-01", "2026-03-31", interval="day", **as_of)["buckets"]
    for kind in MOVEMENTS:
        assert sum(Decimal(d[kind]) for d in days) == Decimal(mrr[kind]), kind
    assert (days[-1]["mrr"], days[-1]["subscribers"]) == (mrr["mrr"], mrr["subscribers"])
    churn = _bucket(client, "churn", "2026-03-01", "2026-03-31", "2026-03-01", **as_of)
    assert _bucket(client, "churn", "2025-07-01", "2026-06-30", "2026-03-01", **as_of) == churn


def test_the_cash_and_movements_of_the_as_of_day_count_up_to_the_instant_and_not_after(
    ledger, projector, client,  # type: ignore[no-untyped-def]
) -> None:
    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD", amount=3000,
                               interval="month", effective_at=at(3, 1))
    for hour, email in ((9, "ada@example.com"), (15, "bob@example.com")):
        payer = ledger.subscribers.register(email=email, name=email, effective_at=at(3, 1))
        ledger.subscribers.set_payment_method(payer.id, gateway="sandbox", token="tok_visa",
                                              effective_at=at(3, 1))
        ledger.subscriptions.start(payer.id, plan_id="basic", effective_at=at(4, 10).replace(hour=hour))
    projector.run_once()
    cash = ("billed", "collected")
    for as_of, paid in (("2026-04-10T08:59:59Z", 0), ("2026-04-10T12:00:00Z", 3000),
                        ("2026-04-10T15:00:00Z", 6000), ("2026-04-11T00:00:00Z", 6000)):
        month = _bucket(client, "revenue", "2026-04-01", "2026-04-30", "2026-04-01", as_of=as_of)
        day = _bucket(client, "revenue", "2026-04-01", "2026-04-30", "2026-04-10", interval="day", as_of=as_of)
        year = _bucket(client, "revenue", "2025-05-01", "2026-04-30", "2026-04-01", as_of=as_of)
        assert [[row[figure] for figure in cash] for row in (month, day, year)] == [[paid, paid]] * 3, as_of
        mrr = [_bucket(client, "mrr", "2026-04-01", "2026-04-30", "2026-04-01", as_of=as_of),
               _bucket(client, "mrr", "2026-04-01", "2026-04-30", "2026-04-10", interval="day", as_of=as_of),
               _bucket(client, "mrr", "2025-05-01", "2026-04-30", "2026-04-01", as_of=as_of)]
        expected = {"mrr": f"{paid}.00", "new": f"{paid}.00", "subscribers": paid // 3000}
        assert [{key: row[key] for key in expected} for row in mrr] == [expected] * 3, as_of
        churn = _bucket(client, "churn", "2026-04-01", "2026-05-31", "2026-05-01", as_of=as_of)
        assert churn["customers_start"] == paid // 3000, as_of
