"""Subscriptions and their lifecycle commands."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from subledger.domain.errors import SubscriberNotFound, SubscriptionNotFound

from ..deps import LedgerDep, PrincipalDep, RunnerDep, path_id
from ..render import subscription_body
from ..schemas import (
    CancelIn,
    ChangeIn,
    CouponApplyIn,
    EffectiveIn,
    SubscriptionIn,
    SubscriptionOut,
)

router = APIRouter(tags=["subscriptions"])


@router.post("/subscribers/{subscriber_id}/subscriptions", status_code=201,
             response_model=SubscriptionOut)
def start(subscriber_id: str, body: SubscriptionIn, request: Request, runner: RunnerDep,
          ledger: LedgerDep, principal: PrincipalDep) -> Response:
    """Start a subscription: `trialing` if the plan (or `trial_days`) gives a trial, else
    `active` from now (or `effective_at`)."""
    sid = path_id(subscriber_id, SubscriberNotFound)
    return runner.run(
        request, principal, body,
        lambda idem: ledger.start_subscription(sid, **body.model_dump(), idempotency=idem),
        subscription_body, status=201,
    )


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def get_subscription(subscription_id: str, ledger: LedgerDep, _: PrincipalDep) -> dict[str, Any]:
    return subscription_body(ledger.get_subscription(path_id(subscription_id, SubscriptionNotFound)))


@router.post("/subscriptions/{subscription_id}/change", response_model=SubscriptionOut)
def change(subscription_id: str, body: ChangeIn, request: Request, runner: RunnerDep,
           ledger: LedgerDep, principal: PrincipalDep) -> Response:
    """Change plan and/or quantity `now` (prorated, anchor kept) or at `period_end`."""
    sid = path_id(subscription_id, SubscriptionNotFound)
    return runner.run(
        request, principal, body,
        lambda idem: ledger.change_subscription(sid, **body.model_dump(), idempotency=idem),
        subscription_body,
    )


@router.post("/subscriptions/{subscription_id}/cancel", response_model=SubscriptionOut)
def cancel(subscription_id: str, body: CancelIn, request: Request, runner: RunnerDep,
           ledger: LedgerDep, principal: PrincipalDep) -> Response:
    """Cancel `now`, at `period_end` (the trial's end while trialing), or `at` a time."""
    sid = path_id(subscription_id, SubscriptionNotFound)
    return runner.run(
        request, principal, body,
        lambda idem: ledger.cancel_subscription(sid, **body.model_dump(), idempotency=idem),
        subscription_body,
    )


@router.post("/subscriptions/{subscription_id}/cancel/revoke", response_model=SubscriptionOut)
def revoke(subscription_id: str, request: Request, runner: RunnerDep, ledger: LedgerDep,
           principal: PrincipalDep, body: EffectiveIn | None = None) -> Response:
    """Revoke a scheduled cancellation (409 if none is scheduled)."""
    sid = path_id(subscription_id, SubscriptionNotFound)
    effective_at = body.effective_at if body else None
    return runner.run(
        request, principal, body,
        lambda idem: ledger.revoke_cancellation(sid, effective_at=effective_at, idempotency=idem),
        subscription_body,
    )


@router.post("/subscriptions/{subscription_id}/pause", response_model=SubscriptionOut)
def pause(subscription_id: str, request: Request, runner: RunnerDep, ledger: LedgerDep,
          principal: PrincipalDep, body: EffectiveIn | None = None) -> Response:
    """Pause billing and MRR until resumed (active or past_due subscriptions only)."""
    sid = path_id(subscription_id, SubscriptionNotFound)
    effective_at = body.effective_at if body else None
    return runner.run(
        request, principal, body,
        lambda idem: ledger.pause_subscription(sid, effective_at=effective_at, idempotency=idem),
        subscription_body,
    )


@router.post("/subscriptions/{subscription_id}/resume", response_model=SubscriptionOut)
def resume(subscription_id: str, request: Request, runner: RunnerDep, ledger: LedgerDep,
           principal: PrincipalDep, body: EffectiveIn | None = None) -> Response:
    """Resume a paused subscription; a new period starts at the resume."""
    sid = path_id(subscription_id, SubscriptionNotFound)
    effective_at = body.effective_at if body else None
    return runner.run(
        request, principal, body,
        lambda idem: ledger.resume_subscription(sid, effective_at=effective_at, idempotency=idem),
        subscription_body,
    )


@router.post("/subscriptions/{subscription_id}/coupon", response_model=SubscriptionOut)
def apply_coupon(subscription_id: str, body: CouponApplyIn, request: Request,
                 runner: RunnerDep, ledger: LedgerDep, principal: PrincipalDep) -> Response:
    """Apply a coupon (replacing any current one); it stays across plan changes."""
    sid = path_id(subscription_id, SubscriptionNotFound)
    return runner.run(
        request, principal, body,
        lambda idem: ledger.apply_coupon(sid, **body.model_dump(), idempotency=idem),
        subscription_body,
    )
