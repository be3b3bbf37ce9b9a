"""Churn and retention rates of a period (docs/business-rules.md): exact, and null (None) when the
denominator is 0, never an error and never 0. Expected figures are written by hand."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from support.factories import utc

from subledger.domain.money import round_rate
from subledger.domain.movements import bridge, churn_rates
from subledger.domain.mrr import mrr_timeline
from subledger.domain.time import isoformat


def test_the_four_rates_by_hand() -> None:
    rates = churn_rates(customers_start=40, churned_customers=3, mrr_start=100000, churn=5000,
                        contraction=1000, expansion=3000, reactivation=500)
    assert rates == {
        "customer_churn_rate": Fraction(3, 40),  # 0.075
        "gross_mrr_churn_rate": Fraction(6, 100),  # 6000 / 100000
        "net_mrr_churn_rate": Fraction(25, 1000),  # (6000 - 3500) / 100000
        "net_revenue_retention": Fraction(975, 1000),  # (100000 + 3500 - 6000) / 100000
    }
    assert round_rate(rates["customer_churn_rate"]) == Decimal("0.075000")


def test_a_third_is_shown_with_six_decimals() -> None:
    rates = churn_rates(customers_start=3, churned_customers=1, mrr_start=3000, churn=1000,
                        contraction=0, expansion=0, reactivation=0)
    assert rates["customer_churn_rate"] == Fraction(1, 3)
    assert round_rate(rates["customer_churn_rate"]) == Decimal("0.333333")
    assert round_rate(rates["net_revenue_retention"]) == Decimal("0.666667")


def test_expansion_beyond_losses_is_a_negative_net_churn() -> None:
    rates = churn_rates(customers_start=10, churned_customers=0, mrr_start=10000, churn=0,
                        contraction=0, expansion=2000, reactivation=0)
    assert rates["net_mrr_churn_rate"] == Fraction(-1, 5)
    assert rates["net_revenue_retention"] == Fraction(6, 5)
    assert rates["customer_churn_rate"] == 0  # a zero numerator is 0, not None


def test_zero_denominators_are_none() -> None:
    rates = churn_rates(customers_start=0, churned_customers=0, mrr_start=0, churn=0,
                        contraction=0, expansion=0, reactivation=0)
    assert rates == {"customer_churn_rate": None, "gross_mrr_churn_rate": None,
                     "net_mrr_churn_rate": None, "net_revenue_retention": None}


def test_no_customers_at_start_but_movements_in_the_period_is_still_none() -> None:
    """Everyone in the period signed up in it (and one churned again): rates are None."""
    rates = churn_rates(customers_start=0, churned_customers=1, mrr_start=0, churn=1000,
                        contraction=0, expansion=0, reactivation=0)
    assert all(value is None for value in rates.values())


def test_exact_figures_of_yearly_plans_are_accepted() -> None:
    rates = churn_rates(customers_start=2, churned_customers=1, mrr_start=Fraction(5000, 3),
                        churn=Fraction(2500, 3), contraction=0, expansion=0,
                        reactivation=Decimal("0"))
    assert rates["gross_mrr_churn_rate"] == Fraction(1, 2)


@given(
    customers=st.integers(0, 1000), churned=st.integers(0, 1000),
    figures=st.lists(st.fractions(min_value=0, max_value=10**9), min_size=5, max_size=5),
)
def test_rates_are_none_exactly_when_their_denominator_is_zero(
    customers: int, churned: int, figures: list[Fraction]
) -> None:
    mrr_start, churn, contraction, expansion, reactivation = figures
    rates = churn_rates(customers_start=customers, churned_customers=churned, mrr_start=mrr_start,
                        churn=churn, contraction=contraction, expansion=expansion,
                        reactivation=reactivation)
    assert (rates["customer_churn_rate"] is None) == (customers == 0)
    mrr_rates = [rates["gross_mrr_churn_rate"], rates["net_mrr_churn_rate"], rates["net_revenue_retention"]]
    assert all((rate is None) == (mrr_start == 0) for rate in mrr_rates)
    if mrr_start:
        assert rates["net_revenue_retention"] == 1 - rates["net_mrr_churn_rate"]  # type: ignore[operator]


def _start(subscriber: str, subscription: str, at: Any, amount: int) -> dict[str, Any]:
    return {"position": 0, "event_id": f"{subscription}/1", "type": "SubscriptionStarted",
            "schema_version": 1, "subscriber_id": subscriber, "aggregate_id": subscription,
            "aggregate_version": 1, "recorded_at": "2030-01-01T00:00:00Z",
            "effective_at": isoformat(at),
            "data": {"amount": amount, "currency": "USD", "interval": "month", "quantity": 1,
                     "status": "active"}}


def _event(subscriber: str, subscription: str, version: int, kind: str, at: Any, **data: Any) -> dict[str, Any]:
    return {**_start(subscriber, subscription, at, 0), "position": version,
            "event_id": f"{subscription}/{version}", "type": kind, "aggregate_version": version,
            "data": data}


def test_rates_of_march_from_three_subscribers_bridges() -> None:
    """Ann (1000) churns in March; Bo (2000) expands to 3000; Cy joins in March (new, outside
    the rates); Di (500) churned in February and comes back in March (reactivation)."""
    feb, mar, apr = utc(2026, 2, 1), utc(2026, 3, 1), utc(2026, 4, 1)
    histories = {
        "ann": [_start("ann", "a", utc(2026, 1, 5), 1000),
                _event("ann", "a", 2, "SubscriptionCanceled", utc(2026, 3, 10))],
        "bo": [_start("bo", "b", utc(2026, 1, 5), 2000),
               _event("bo", "b", 2, "SubscriptionChanged", mar, amount=3000, currency="USD",
                      interval="month", quantity=1)],  # exactly at the period's start: in March
        "cy": [_start("cy", "c", utc(2026, 3, 20), 700)],
        "di": [_start("di", "d", utc(2026, 1, 5), 500),
               _event("di", "d", 2, "SubscriptionPaused", feb),
               _event("di", "d", 3, "SubscriptionResumed", utc(2026, 3, 15), status="active")],
    }
    bridges = [bridge(mrr_timeline(h), "USD", mar, apr) for h in histories.values()]
    customers_start = sum(1 for b in bridges if b.mrr_start > 0)
    assert customers_start == 2  # Ann and Bo; Di was paused
    totals = {k: sum((getattr(b, k) for b in bridges), Fraction(0))
              for k in ("mrr_start", "new", "churn", "contraction", "expansion", "reactivation", "mrr_end")}
    assert totals == {"mrr_start": 3000, "new": 700, "churn": 1000, "contraction": 0,
                      "expansion": 1000, "reactivation": 500, "mrr_end": 4200}
    rates = churn_rates(customers_start=customers_start,
                        churned_customers=sum(b.churned_customers for b in bridges),
                        mrr_start=totals["mrr_start"], churn=totals["churn"],
                        contraction=totals["contraction"], expansion=totals["expansion"],
                        reactivation=totals["reactivation"])
    assert rates == {
        "customer_churn_rate": Fraction(1, 2),
        "gross_mrr_churn_rate": Fraction(1, 3),  # 1000 / 3000
        "net_mrr_churn_rate": Fraction(-1, 6),  # (1000 - 1500) / 3000
        "net_revenue_retention": Fraction(7, 6),  # (3000 + 1500 - 1000) / 3000
    }
