"""Coupons on a subscription: applied, kept across a change, never redeemed twice
(docs/business-rules.md).

The subscription and its commands come from ``support/subscriptions.py``.
"""

from __future__ import annotations

import pytest
from support.factories import RECORDED_AT, SUBSCRIBER_ID, utc
from support.subscriptions import BASIC, PRO, change, started
from support.subscriptions import coupon_terms as _coupon

from subledger.domain.errors import CouponAlreadyRedeemed, CurrencyMismatch
from subledger.domain.subscription import Subscription


def test_a_repeating_coupon_is_applied_with_its_end_and_stays_across_a_plan_change() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    sub.apply_coupon(_coupon(), effective_at=utc(2026, 1, 31), recorded_at=RECORDED_AT)
    change(sub, utc(2026, 2, 10), terms=PRO)

    applied = sub.collect_events()[0]
    assert type(applied).__name__ == "CouponApplied"
    assert applied.ends_at == utc(2026, 4, 30)
    assert sub.coupon is not None
    assert (sub.coupon["coupon_id"], sub.coupon["ends_at"]) == ("welcome", utc(2026, 4, 30))


def test_an_amount_off_coupon_in_another_currency_is_a_currency_mismatch() -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))

    with pytest.raises(CurrencyMismatch):
        sub.apply_coupon(_coupon("forever", None, currency="EUR", amount_off=500),
                         effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)


@pytest.mark.parametrize("duration,months", [("once", None), ("repeating", 3), ("forever", None)])
def test_a_coupon_the_subscription_had_is_not_redeemed_again(duration: str, months: int | None) -> None:
    sub = started(BASIC, at=utc(2026, 1, 31))
    sub.apply_coupon(_coupon(duration, months), effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)
    sub.apply_coupon(_coupon(duration, months, coupon_id="other"), effective_at=utc(2026, 2, 2),
                     recorded_at=RECORDED_AT)
    sub.collect_events()

    with pytest.raises(CouponAlreadyRedeemed) as info:  # not even after another one replaced it
        sub.apply_coupon(_coupon(duration, months), effective_at=utc(2026, 4, 1), recorded_at=RECORDED_AT)

    assert info.value.code == "coupon-already-redeemed"
    assert sub.collect_events() == []  # nothing, not even the renewals it would have caught up
    assert sub.coupon is not None and sub.coupon["coupon_id"] == "other"


def test_a_coupon_given_at_signup_is_not_redeemed_again() -> None:
    sub = Subscription.start(subscriber_id=SUBSCRIBER_ID, terms=BASIC, quantity=1, trial_days=None,
                             effective_at=utc(2026, 1, 31), recorded_at=RECORDED_AT,
                             coupon=_coupon("once", None))
    with pytest.raises(CouponAlreadyRedeemed):
        sub.apply_coupon(_coupon("once", None), effective_at=utc(2026, 3, 1), recorded_at=RECORDED_AT)
