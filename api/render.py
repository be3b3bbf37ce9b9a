"""Aggregates as response bodies: pure functions, so a stored idempotent answer and a
fresh one are rendered the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from subledger.domain.catalog import Coupon, Plan
from subledger.domain.envelope import jsonable
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription import Subscription
from subledger.domain.time import isoformat


def _time(value: Any) -> str | None:
    return None if value is None else isoformat(value)


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


def subscription_body(sub: Subscription) -> dict[str, Any]:
    return {
        "subscription_id": str(sub.id),
        "subscriber_id": str(sub.subscriber_id),
        "status": sub.status,
        "plan_id": sub.plan_id,
        "plan_version": sub.plan_version,
        "tier": sub.tier,
        "amount": sub.amount,
        "currency": sub.currency,
        "interval": sub.interval.value,
        "quantity": sub.quantity,
        "current_period_start": isoformat(sub.current_period_start),
        "current_period_end": isoformat(sub.current_period_end),
        "trial_end": _time(sub.trial_end),
        "billing_anchor": _time(sub.billing_anchor),
        "started_at": isoformat(sub.started_at),
        "cancel_at": _time(sub.cancel_at),
        "canceled_at": _time(sub.canceled_at),
        "cancel_reason": sub.cancel_reason,
        "paused_at": _time(sub.paused_at),
        "scheduled_change": jsonable(sub.scheduled_change),
        "coupon": jsonable(sub.coupon),
        "credit_balance": sub.credit_balance,
        "pending_refunds": [
            {"refund_id": refund_id, **jsonable(refund)}
            for refund_id, refund in sorted(sub.pending_refunds.items())
        ],
        "open_invoices": [
            {"invoice_id": invoice_id, **jsonable(invoice)}
            for invoice_id, invoice in sorted(sub.open_invoices.items())
        ],
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
