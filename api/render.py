"""Aggregates as response bodies: pure functions, so a stored idempotent answer and a
fresh one are rendered the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from subledger.domain.catalog import Coupon, Plan
from subledger.domain.messages import subscription_body
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription import Subscription
from subledger.domain.time import isoformat

__all__ = ["charge_body", "coupon_body", "plan_body", "subscriber_body", "subscription_body"]


def plan_body(plan: Plan) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "name": plan.name,
        "tier": plan.tier,
        "currency": plan.currency,
        "amount": plan.amount,
        "interval": plan.interval.value,
        "trial_days": plan.trial_days,
        "version": plan.latest_version,
        "versions": [
            {"version": v["version"], "amount": v["amount"], "effective_at": isoformat(v["effective_at"])}
            for v in plan.versions
        ],
    }


def coupon_body(coupon: Coupon) -> dict[str, Any]:
    return {
        "coupon_id": coupon.coupon_id,
        "name": coupon.name,
        "percent_off": None if coupon.percent_off is None else str(coupon.percent_off),
        "amount_off": coupon.amount_off,
        "currency": coupon.currency,
        "duration": coupon.duration,
        "duration_in_months": coupon.duration_in_months,
    }


def subscriber_body(subscriber: Subscriber, subscription_ids: Sequence[UUID]) -> dict[str, Any]:
    return {
        "subscriber_id": str(subscriber.id),
        "email": subscriber.email,
        "name": subscriber.name,
        "external_ref": subscriber.external_ref,
        "payment_method": subscriber.payment_method,
        "registered_at": isoformat(subscriber.registered_at),
        "subscription_ids": [str(i) for i in subscription_ids],
    }


def charge_body(sub: Subscription, charge_id: str) -> dict[str, Any]:
    charge = sub.charges[charge_id]
    return {
        "charge_id": charge_id,
        "subscription_id": str(sub.id),
        "invoice_id": charge["invoice_id"],
        "amount": charge["amount"],
        "currency": charge["currency"],
        "gateway": charge["gateway"],
        "gateway_ref": charge["gateway_ref"],
        "refunded": charge["refunded"],
        "refundable": charge["amount"] - charge["refunded"],
    }
