"""A JSON number is judged by the exact decimal it writes, not by the float it would round to:
a whole number written with a point or an exponent is that number, any other is refused
(422) and appends nothing, in every number field; on both stores."""

from __future__ import annotations

import httpx
import pytest
from support.http import CATALOG_AT_ISO, Case, World, api_events, assert_refused

ROUNDED_AWAY = ["1899.9999999999999999", "4.99999999999999999", "1e-400",
                "0.9999999999999999999", "1.0000000000000000001", "20.000000000000000001"]
"""Numbers with a fraction that a float reads as a whole number."""


def _raw(body: str, **headers: str) -> dict[str, object]:
    """httpx arguments sending the JSON text ``body`` as written (``json=`` would write
    Python's float)."""
    return {"content": body.encode(), "headers": {"content-type": "application/json", **headers}}


def _plan(plan_id: str, amount: str) -> str:
    return (f'{{"plan_id": "{plan_id}", "name": "Plan", "tier": "basic", "currency": "USD",'
            f' "amount": {amount}, "interval": "month", "effective_at": "{CATALOG_AT_ISO}"}}')


@pytest.mark.parametrize("number", ROUNDED_AWAY)
def test_a_number_with_a_fraction_a_float_would_round_away_is_refused_in_every_number_field(
    http: httpx.Client, world: World, number: str,
) -> None:
    w = world
    charge = http.post(f"/subscriptions/{w.active}/charges", json={
        "amount": 4900, "currency": "USD", "gateway": "sandbox", "gateway_ref": "pi_exact"})
    assert charge.status_code == 201, charge.text
    start = f"/subscribers/{w.subscriber_id}/subscriptions"
    fraction = number.lstrip("0123456789")  # what follows its whole digits: ".999…", "e-400"
    whole_numbers: list[Case] = [
        ("POST", "/plans", _raw(_plan("exact-m", number))),
        ("POST", "/plans/basic-m/prices", _raw(f'{{"amount": {number}}}')),
        ("POST", "/coupons", _raw(f'{{"coupon_id": "EXACT", "amount_off": {number},'
                                  f' "currency": "USD", "duration": "once"}}')),
        ("POST", "/coupons", _raw(f'{{"coupon_id": "EXACT", "percent_off": 10,'
                                  f' "duration": "repeating", "duration_in_months": {number}}}')),
        ("POST", start, _raw(f'{{"plan_id": "pro-m", "quantity": {number}}}')),
        ("POST", start, _raw(f'{{"plan_id": "basic-m", "trial_days": {number}}}')),
        ("POST", f"/subscriptions/{w.active}/change", _raw(f'{{"quantity": {number}}}')),
        ("POST", f"/charges/{charge.json()['charge_id']}/refunds", _raw(f'{{"amount": {number}}}')),
        ("POST", f"/subscribers/{w.subscriber_id}/balance",
         _raw(f'{{"amount": {number}, "reason": "goodwill", "subscription_id": "{w.active}"}}')),
        ("POST", f"/subscribers/{w.subscriber_id}/portal-session",
         _raw(f'{{"ttl_seconds": 3600{fraction}}}')),
    ]
    assert_refused(http, whole_numbers, 422, "validation-error")
    assert_refused(http, [
        ("POST", "/coupons", _raw(f'{{"coupon_id": "EXACT", "percent_off": {number},'
                                  f' "duration": "once"}}')),
    ], 422, "invalid-input")


def test_a_whole_number_written_with_a_point_or_an_exponent_is_that_number_and_replays_as_it(
    http: httpx.Client,
) -> None:
    for n, written in enumerate(["1900.0", "1.9e3", "19E+2", "1900.000000000000000000000",
                                 "190000e-2"]):
        created = http.post("/plans", **_raw(_plan(f"p{n}", written), **{"Idempotency-Key": f"k{n}"}))
        assert created.status_code == 201, (written, created.text)
        assert created.json()["amount"] == 1900
        log = api_events(http)
        again = http.post("/plans", **_raw(_plan(f"p{n}", "1900"), **{"Idempotency-Key": f"k{n}"}))
        assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
        assert api_events(http) == log
    coupon = http.post("/coupons", **_raw('{"coupon_id": "TWENTY", "percent_off": 20.0,'
                                          ' "duration": "once"}'))
    assert coupon.status_code == 201, coupon.text
    assert coupon.json()["percent_off"] == "20"
    assert_refused(http, [("POST", "/plans", _raw(_plan("p9", "1899.9999999999999999")))], 422)
