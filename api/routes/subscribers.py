"""Subscribers, their payment method and their history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from subledger.commands.ledger import Ledger
from subledger.contract.bodies import subscriber_body
from subledger.domain.errors import SubscriberNotFound
from subledger.domain.subscriber import Subscriber

from ..deps import LedgerDep, Limit, PrincipalDep, RunnerDep, parse_cursor, path_id
from ..schemas import (
    EventList,
    PaymentMethodIn,
    SubscriberIn,
    SubscriberList,
    SubscriberOut,
    SubscriberPatch,
)

router = APIRouter(tags=["subscribers"])


def _render(ledger: Ledger):  # type: ignore[no-untyped-def]
    return lambda s: subscriber_body(s, ledger.subscription_ids(s.id))


@router.post("/subscribers", status_code=201, response_model=SubscriberOut)
def register(body: SubscriberIn, request: Request, runner: RunnerDep, ledger: LedgerDep,
             principal: PrincipalDep) -> Response:
    return runner.run(
        request, principal, body,
        lambda idem: ledger.register_subscriber(**body.model_dump(), idempotency=idem),
        _render(ledger), status=201,
    )


@router.get("/subscribers", response_model=SubscriberList)
def list_subscribers(ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
                     cursor: str | None = None) -> dict[str, Any]:
    subscribers, next_cursor = ledger.list_created(
        "SubscriberRegistered", Subscriber, parse_cursor(cursor), limit
    )
    render = _render(ledger)
    return {"items": [render(s) for s in subscribers],
            "next_cursor": None if next_cursor is None else str(next_cursor)}


@router.get("/subscribers/{subscriber_id}", response_model=SubscriberOut)
def get_subscriber(subscriber_id: str, ledger: LedgerDep, _: PrincipalDep) -> dict[str, Any]:
    subscriber = ledger.get_subscriber(path_id(subscriber_id, SubscriberNotFound))
    return _render(ledger)(subscriber)  # type: ignore[no-any-return]


@router.patch("/subscribers/{subscriber_id}", response_model=SubscriberOut)
def change_details(subscriber_id: str, body: SubscriberPatch, request: Request,
                   runner: RunnerDep, ledger: LedgerDep, principal: PrincipalDep) -> Response:
    """Change e-mail, name or external_ref; fields left out stay as they are."""
    sid = path_id(subscriber_id, SubscriberNotFound)
    changes = body.model_dump(exclude_unset=True, exclude={"effective_at"})
    return runner.run(
        request, principal, body,
        lambda idem: ledger.change_subscriber_details(
            sid, changes, effective_at=body.effective_at, idempotency=idem),
        _render(ledger),
    )


@router.put("/subscribers/{subscriber_id}/payment-method", response_model=SubscriberOut)
def set_payment_method(subscriber_id: str, body: PaymentMethodIn, request: Request,
                       runner: RunnerDep, ledger: LedgerDep, principal: PrincipalDep) -> Response:
    """Sandbox tokens: `tok_visa` succeeds, `tok_chargeDeclined` fails, `tok_fail_first`
    fails the first attempt at each invoice."""
    sid = path_id(subscriber_id, SubscriberNotFound)
    return runner.run(
        request, principal, body,
        lambda idem: ledger.set_payment_method(sid, **body.model_dump(), idempotency=idem),
        _render(ledger),
    )


@router.get("/subscribers/{subscriber_id}/history", response_model=EventList)
def history(subscriber_id: str, ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
            cursor: str | None = None) -> dict[str, Any]:
    """Every event of the subscriber and their subscriptions, in the ledger's order."""
    sid = path_id(subscriber_id, SubscriberNotFound)
    ledger.get_subscriber(sid)
    page = ledger.event_log.history(sid, parse_cursor(cursor), limit)
    more = len(page.items) == limit
    return {"items": page.items,
            "next_cursor": str(page.last_position) if more and page.last_position else None}
