"""Subscriptions and their lifecycle commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from subledger.contract.bodies import subscription_body
from subledger.domain.errors import SubscriberNotFound, SubscriptionNotFound

from ..deps import LedgerDep, PrincipalDep, RunnerDep, path_id
from ..schemas import (
    CancelIn,
    ChangeIn,
    CouponApplyIn,
    EffectiveIn,
    SubscriptionIn,
    SubscriptionOut,
)
from ..security import Principal
from ..writes import WriteRunner

router = APIRouter(tags=["subscriptions"])


def _command(
    subscription_id: str, request: Request, runner: WriteRunner, principal: Principal,
    body: BaseModel | None, command: Callable[..., Any],
) -> Response:
    """Run one of the ledger's subscription commands with the body's fields."""
    sid = path_id(subscription_id, SubscriptionNotFound)
    fields = body.model_dump() if body is not None else {}
    return runner.run(
        request, principal, body,
        lambda idem: command(sid, **fields, idempotency=idem),
        subscription_body,
    )


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
    return _command(subscription_id, request, runner, principal, body, ledger.change_subscription)


@router.post("/subscriptions/{subscription_id}/cancel", response_model=SubscriptionOut)
def cancel(subscription_id: str, body: CancelIn, request: Request, runner: RunnerDep,
           ledger: LedgerDep, principal: PrincipalDep) -> Response:
    """Cancel `now`, at `period_end` (the trial's end while trialing), or `at` a time."""
    return _command(subscription_id, request, runner, principal, body, ledger.cancel_subscription)


@router.post("/subscriptions/{subscription_id}/cancel/revoke", response_model=SubscriptionOut)
def revoke(subscription_id: str, request: Request, runner: RunnerDep, ledger: LedgerDep,
           principal: PrincipalDep, body: EffectiveIn | None = None) -> Response:
    """Revoke a scheduled cancellation (409 if none is scheduled)."""
    return _command(subscription_id, request, runner, principal, body, ledger.revoke_cancellation)


@router.post("/subscriptions/{subscription_id}/pause", response_model=SubscriptionOut)
def pause(subscription_id: str, request: Request, runner: RunnerDep, ledger: LedgerDep,
          principal: PrincipalDep, body: EffectiveIn | None = None) -> Response:
    """Pause billing and MRR until resumed (active or past_due subscriptions only)."""
    return _command(subscription_id, request, runner, principal, body, ledger.pause_subscription)


@router.post("/subscriptions/{subscription_id}/resume", response_model=SubscriptionOut)
def resume(subscription_id: str, request: Request, runner: RunnerDep, ledger: LedgerDep,
           principal: PrincipalDep, body: EffectiveIn | None = None) -> Response:
    """Resume a paused subscription; a new period starts at the resume."""
    return _command(subscription_id, request, runner, principal, body, ledger.resume_subscription)


@router.post("/subscriptions/{subscription_id}/coupon", response_model=SubscriptionOut)
def apply_coupon(subscription_id: str, body: CouponApplyIn, request: Request,
                 runner: RunnerDep, ledger: LedgerDep, principal: PrincipalDep) -> Response:
    """Apply a coupon (replacing any current one); it stays across plan changes."""
    return _command(subscription_id, request, runner, principal, body, ledger.apply_coupon)
