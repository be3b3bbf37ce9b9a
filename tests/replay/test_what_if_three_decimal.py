"""What-if prices in a three-decimal currency follow the ledger's rounding: a repriced plan
price, and every invoice line, charge and refund scaled from it, is a multiple of 10 fils
(half-even), as the ledger would have computed it; a fixed what-if price the ledger would
refuse (not a multiple of 10) is refused; what is not repriced is shown as recorded."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subledger.domain.errors import InvalidInput
from subledger.replay.prices import Price, Repricer

SUB, INVOICE, CHARGE = "sub-1", "inv-1", "ch-1"


def envelope(kind: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "aggregate_id": SUB, "data": data}


def replayed(prices: dict[str, Price], currency: str, price: int, lines: list[int],
             credit_applied: int = 0) -> list[dict[str, Any]]:
    total = sum(lines)
    repricer = Repricer(prices)
    return [repricer(e) for e in (
        envelope("SubscriptionStarted", plan_id="pro", amount=price, currency=currency),
        envelope("InvoiceIssued", invoice_id=INVOICE, currency=currency, total=total,
                 lines=[{"kind": "recurring", "amount": a} for a in lines],
                 amount_due=total - credit_applied, credit_applied=credit_applied,
                 credit_added=0),
        envelope("ChargeSucceeded", charge_id=CHARGE, invoice_id=INVOICE, currency=currency,
                 amount=total - credit_applied),
        envelope("RefundIssued", charge_id=CHARGE, currency=currency, amount=lines[0]),
    )]


def amounts(events: list[dict[str, Any]]) -> list[int]:
    started, invoice, charge, refund = (e["data"] for e in events)
    return [started["amount"], invoice["total"], invoice["amount_due"], invoice["credit_applied"],
            *(line["amount"] for line in invoice["lines"]), charge["amount"], refund["amount"]]


def test_a_percent_on_a_kwd_price_is_rounded_half_even_to_tens() -> None:
    # 3.280 KWD + 12.5% = 3.690; 1.230 + 12.5% = 1.38375 -> 1.380; 2.050 -> 2.30625 -> 2.310
    events = replayed({"pro": Price(percent=Fraction(25, 2))}, "KWD", 3280, [1230, 2050])

    assert amounts(events) == [3690, 3690, 3690, 0, 1380, 2310, 3690, 1380]


def test_the_same_percent_in_a_two_decimal_currency_is_rounded_to_whole_cents() -> None:
    events = replayed({"pro": Price(percent=Fraction(25, 2))}, "USD", 3280, [1230, 2050])

    assert amounts(events) == [3690, 3690, 3690, 0, 1384, 2306, 3690, 1384]


def test_a_fixed_kwd_price_in_single_fils_is_refused_as_the_ledger_would() -> None:
    with pytest.raises(InvalidInput, match="multiple of 10"):
        replayed({"pro": Price(amount=3285)}, "KWD", 3280, [3280])


def test_what_is_not_repriced_is_shown_as_recorded_even_in_single_fils() -> None:
    events = replayed({"other": Price(amount=5000)}, "KWD", 3285, [3285])

    assert amounts(events) == [3285, 3285, 3285, 0, 3285, 3285, 3285]


@settings(max_examples=200, deadline=None)
@given(currency=st.sampled_from(["BHD", "JOD", "KWD", "LYD", "OMR", "TND"]),
       price=st.integers(1, 10**6).map(lambda n: n * 10),
       lines=st.lists(st.integers(-10**6, 10**6).map(lambda n: n * 10), min_size=1, max_size=4),
       percent=st.fractions(min_value=-99, max_value=500, max_denominator=10_000),
       fixed=st.none() | st.integers(0, 10**6).map(lambda n: n * 10))
def test_every_what_if_amount_in_a_three_decimal_currency_is_a_multiple_of_10(
        currency: str, price: int, lines: list[int], percent: Fraction, fixed: int | None) -> None:
    what_if = Price(amount=fixed) if fixed is not None else Price(percent=percent)

    events = replayed({"pro": what_if}, currency, price, lines)

    assert all(amount % 10 == 0 for amount in amounts(events))
