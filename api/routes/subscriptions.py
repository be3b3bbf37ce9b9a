"""Subscriptions, lists of them, and their lifecycle commands."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Query
from fastapi.responses import Response

from subledger.commands.writes import (
    ApplyCoupon,
    CancelSubscription,
    ChangeSubscription,
    PauseSubscription,
    ResumeSubscription,
    RevokeCancellation,
    StartSubscription,
)
from subledger.contract.bodies import subscription_body
from subledger.contract.preview_bodies import change_preview_body, invoice_preview_body
from subledger.domain.errors import SubscriberNotFound, SubscriptionNotFound
from subledger.domain.lifecycle import STATUSES
from subledger.projections.subscription_list import SubscriptionFilter, subscription_page

from ..deps import (
    Cursor,
    IdempotencyKeyHeader,
    IdPath,
    LedgerDep,
    Limit,
    PrincipalDep,
    UuidQuery,
    ViewsDep,
    parse_cursor,
    path_id,
)
from ..inputs import Currency, EmailFilter, IdentifierFilter
from ..json_bodies import api_router
from ..positions import reads
from ..requests import CancelIn, ChangeIn, CouponApplyIn, EffectiveIn, SubscriptionIn
from ..schemas import ChangePreviewOut, InvoicePreviewOut, SubscriptionList, SubscriptionOut
from ..writes import respond

router = api_router(tags=["subscriptions"])


def _id(subscription_id: str) -> Any:
    return path_id(subscription_id, SubscriptionNotFound)


def _fields(body: EffectiveIn | None) -> dict[str, Any]:
    return {} if body is None else body.model_dump()


@router.post("/subscribers/{subscriber_id}/subscriptions", status_code=201,
             response_model=SubscriptionOut)
def start(subscriber_id: IdPath, body: SubscriptionIn, ledger: LedgerDep,
          principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Start a subscription: `trialing` if the plan (or `trial_days`) gives a trial, else
    `active` from now (or `effective_at`)."""
    command = StartSubscription(path_id(subscriber_id, SubscriberNotFound), **body.model_dump())
    return respond(principal, ledger, command, key)


@router.get("/subscriptions", response_model=SubscriptionList, dependencies=[reads("subscriptions")])
def list_subscriptions(
    ledger: LedgerDep, views: ViewsDep, _: PrincipalDep,
    status: Annotated[Literal[STATUSES] | None, Query(  # type: ignore[valid-type]
        description="its status now")] = None,
    plan_id: Annotated[IdentifierFilter | None, Query(description="the plan it is on now")] = None,
    subscriber_id: UuidQuery = None,
    email: Annotated[EmailFilter | None, Query(
        description="its subscriber's e-mail address, whole, in any case")] = None,
    currency: Annotated[Currency | None, Query(description="the currency it is billed in")] = None,
    limit: Limit = 100, cursor: Cursor = None,
) -> dict[str, Any]:
    """Subscriptions in the order they started, filtered by what they are now: the read
    model selects (see `/readyz` for its lag) and each item is the subscription as
    `GET /subscriptions/{id}` answers it, left out if it no longer meets the filters."""
    ids = None if subscriber_id is None else [subscriber_id]
    if email is not None:
        owners = [str(i) for i in ledger.subscribers.ids_with_email(email)]
        ids = owners if ids is None else [i for i in ids if i in owners]
    wanted = SubscriptionFilter(status=status, plan_id=plan_id, currency=currency,
                                subscriber_ids=ids)
    found, next_cursor = subscription_page(views, wanted, parse_cursor(cursor), limit)
    bodies = [subscription_body(ledger.subscriptions.get(UUID(i))) for i in found]
    return {"items": [body for body in bodies if wanted.matches(body)],
            "next_cursor": None if next_cursor is None else str(next_cursor)}


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def get_subscription(subscription_id: IdPath, ledger: LedgerDep, _: PrincipalDep) -> dict[str, Any]:
    return subscription_body(ledger.subscriptions.get(_id(subscription_id)))


@router.post("/subscriptions/{subscription_id}/change", response_model=SubscriptionOut)
def change(subscription_id: IdPath, body: ChangeIn, ledger: LedgerDep,
           principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Change plan and/or quantity `now` (prorated, anchor kept) or at `period_end`."""
    command = ChangeSubscription(_id(subscription_id), **body.model_dump())
    return respond(principal, ledger, command, key)


@router.post("/subscriptions/{subscription_id}/cancel", response_model=SubscriptionOut)
def cancel(subscription_id: IdPath, body: CancelIn, ledger: LedgerDep,
           principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Cancel `now`, at `period_end` (the trial's end while trialing), or `at` a time."""
    command = CancelSubscription(_id(subscription_id), **body.model_dump())
    return respond(principal, ledger, command, key)


@router.post("/subscriptions/{subscription_id}/cancel/revoke", response_model=SubscriptionOut)
def revoke(subscription_id: IdPath, ledger: LedgerDep, principal: PrincipalDep,
           body: EffectiveIn | None = None, key: IdempotencyKeyHeader = None) -> Response:
    """Revoke a scheduled cancellation (409 if none is scheduled)."""
    command = RevokeCancellation(_id(subscription_id), **_fields(body))
    return respond(principal, ledger, command, key)


@router.post("/subscriptions/{subscription_id}/pause", response_model=SubscriptionOut)
def pause(subscription_id: IdPath, ledger: LedgerDep, principal: PrincipalDep,
          body: EffectiveIn | None = None, key: IdempotencyKeyHeader = None) -> Response:
    """Pause billing and MRR until resumed (active or past_due subscriptions only)."""
    command = PauseSubscription(_id(subscription_id), **_fields(body))
    return respond(principal, ledger, command, key)


@router.post("/subscriptions/{subscription_id}/resume", response_model=SubscriptionOut)
def resume(subscription_id: IdPath, ledger: LedgerDep, principal: PrincipalDep,
           body: EffectiveIn | None = None, key: IdempotencyKeyHeader = None) -> Response:
    """Resume a paused subscription; a new period starts at the resume."""
    command = ResumeSubscription(_id(subscription_id), **_fields(body))
    return respond(principal, ledger, command, key)


@router.post("/subscriptions/{subscription_id}/coupon", response_model=SubscriptionOut)
def apply_coupon(subscription_id: IdPath, body: CouponApplyIn, ledger: LedgerDep, principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Apply a coupon (replacing any current one); it stays across plan changes."""
    command = ApplyCoupon(_id(subscription_id), **body.model_dump())
    return respond(principal, ledger, command, key)


# -- previews: what a change would cost, and the next invoice; they append nothing ---------

Responses = dict[int | str, dict[str, Any]]
PREVIEW_REFUSED: Responses = {409: {"description": (
    "The change would be refused by a rule of the ledger's state (the problem the change"
    " itself would answer): a lifecycle rule, or an effective_at earlier than the"
    " subscription's last event")}}
NO_UPCOMING: Responses = {409: {"description": (
    "`no-upcoming-invoice`: the subscription is canceled, paused, or to be canceled before"
    " the billing clock invoices it again")}}


@router.post("/subscriptions/{subscription_id}/change/preview", response_model=ChangePreviewOut,
             responses=PREVIEW_REFUSED)
def preview_change(subscription_id: IdPath, body: ChangeIn, ledger: LedgerDep,
                   _: PrincipalDep) -> dict[str, Any]:
    """What `POST /subscriptions/{id}/change` with the same body would do, appending
    nothing: the invoice it would issue at `effective_at` (the proration lines, or for a new
    interval the credit and the new period whole; null at `period_end`), the subscription
    after it, its MRR before and after, and the next invoice the billing clock would issue
    (for `period_end`, the renewal on the new terms). Computed by the code that issues
    invoices, every charge falling due assumed paid; a change the ledger would refuse is
    refused with the same problem. Takes no `Idempotency-Key`: it records nothing."""
    preview = ledger.previews.change(_id(subscription_id), **body.model_dump())
    return change_preview_body(preview)


@router.get("/subscriptions/{subscription_id}/upcoming-invoice", response_model=InvoicePreviewOut,
            responses=NO_UPCOMING)
def upcoming_invoice(subscription_id: IdPath, ledger: LedgerDep, _: PrincipalDep) -> dict[str, Any]:
    """The next invoice the billing clock will issue (a renewal or the trial's conversion),
    at its due instant (past if the clock has not run since): its lines, the coupon's
    discount in force then, the credit balance it takes, and the amount due, every charge
    falling due before it assumed paid. 409 `no-upcoming-invoice` when there is none."""
    return invoice_preview_body(ledger.previews.upcoming_invoice(_id(subscription_id)))
