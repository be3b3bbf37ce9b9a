"""Subscribers, their payment method and their history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response

from subledger.commands.ledger import Ledger
from subledger.commands.writes import (
    ChangeSubscriberDetails,
    ForgetSubscriber,
    RegisterSubscriber,
    SetMarketingConsent,
    SetPaymentMethod,
)
from subledger.contract.bodies import subscriber_body
from subledger.domain.errors import SubscriberNotFound
from subledger.domain.subscriber import Subscriber

from ..deps import (
    Cursor,
    IdempotencyKeyHeader,
    IdPath,
    LedgerDep,
    Limit,
    PrincipalDep,
    admin_key,
    parse_cursor,
    path_id,
)
from ..inputs import EmailFilter, ReferenceFilter
from ..json_bodies import api_router
from ..requests import MarketingConsentIn, PaymentMethodIn, SubscriberIn, SubscriberPatch
from ..schemas import EventList, SubscriberForgottenOut, SubscriberList, SubscriberOut
from ..security import Principal
from ..writes import respond

router = api_router(tags=["subscribers"])


def _body(ledger: Ledger, subscriber: Subscriber) -> dict[str, Any]:
    return subscriber_body(subscriber, ledger.subscribers.subscription_ids(subscriber.id))


@router.post("/subscribers", status_code=201, response_model=SubscriberOut)
def register(body: SubscriberIn, ledger: LedgerDep,
             principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    return respond(principal, ledger, RegisterSubscriber(**body.model_dump()), key)


@router.get("/subscribers", response_model=SubscriberList)
def list_subscribers(
    ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100, cursor: Cursor = None,
    email: Annotated[EmailFilter | None, Query(
        description="only subscribers with this e-mail address, whole, in any case")] = None,
    external_ref: Annotated[ReferenceFilter | None, Query(
        description="only subscribers with this external reference, exactly")] = None,
) -> dict[str, Any]:
    """Subscribers in the order they registered; found by e-mail address or external
    reference at once (the lookup is written with their events)."""
    subscribers, next_cursor = ledger.subscribers.find(
        email=email, external_ref=external_ref, after=parse_cursor(cursor), limit=limit)
    return {"items": [_body(ledger, s) for s in subscribers],
            "next_cursor": None if next_cursor is None else str(next_cursor)}


@router.get("/subscribers/{subscriber_id}", response_model=SubscriberOut)
def get_subscriber(subscriber_id: IdPath, ledger: LedgerDep, _: PrincipalDep) -> dict[str, Any]:
    return _body(ledger, ledger.subscribers.get(path_id(subscriber_id, SubscriberNotFound)))


@router.patch("/subscribers/{subscriber_id}", response_model=SubscriberOut)
def change_details(subscriber_id: IdPath, body: SubscriberPatch, ledger: LedgerDep, principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Change e-mail, name or external_ref; fields left out stay as they are."""
    command = ChangeSubscriberDetails(
        path_id(subscriber_id, SubscriberNotFound),
        body.model_dump(exclude_unset=True, exclude={"effective_at"}),
        effective_at=body.effective_at,
    )
    return respond(principal, ledger, command, key)


@router.put("/subscribers/{subscriber_id}/payment-method", response_model=SubscriberOut)
def set_payment_method(subscriber_id: IdPath, body: PaymentMethodIn, ledger: LedgerDep, principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Sandbox tokens: `tok_visa` succeeds, `tok_chargeDeclined` fails, `tok_fail_first`
    fails the first attempt at each invoice."""
    command = SetPaymentMethod(path_id(subscriber_id, SubscriberNotFound), **body.model_dump())
    return respond(principal, ledger, command, key)


@router.put("/subscribers/{subscriber_id}/marketing", response_model=SubscriberOut)
def set_marketing_consent(subscriber_id: IdPath, body: MarketingConsentIn, ledger: LedgerDep,
                          principal: PrincipalDep, key: IdempotencyKeyHeader = None) -> Response:
    """Whether the subscriber accepts marketing messages (the renewal reminder and the
    win-back offer; receipts and notices of payments are sent either way). Recorded as
    `MarketingConsentChanged`; the answer they gave already appends nothing."""
    command = SetMarketingConsent(path_id(subscriber_id, SubscriberNotFound), **body.model_dump())
    return respond(principal, ledger, command, key)


@router.post("/subscribers/{subscriber_id}/forget", response_model=SubscriberForgottenOut)
def forget(principal: Annotated[Principal, admin_key("forget subscribers")], subscriber_id: IdPath,
           ledger: LedgerDep, key: IdempotencyKeyHeader = None) -> Response:
    """Forget the subscriber (admin key): records `SubscriberForgotten` and destroys their
    data key, so their personal fields read as null everywhere from now on; amounts, ids,
    dates and reports are unchanged. `encrypted` false: the server has no
    `SUBLEDGER_CIPHER_KEY`, the log holds their personal fields in clear and forgetting
    cannot erase them (see `detail`). A forgotten subscriber cannot be forgotten again
    (409 `subscriber-forgotten`)."""
    return respond(principal, ledger, ForgetSubscriber(path_id(subscriber_id, SubscriberNotFound)), key)


@router.get("/subscribers/{subscriber_id}/history", response_model=EventList)
def history(subscriber_id: IdPath, ledger: LedgerDep, _: PrincipalDep, limit: Limit = 100,
            cursor: Cursor = None) -> dict[str, Any]:
    """Every event of the subscriber and their subscriptions, in the ledger's order."""
    sid = path_id(subscriber_id, SubscriberNotFound)
    ledger.subscribers.get(sid)
    page = ledger.event_log.history(sid, parse_cursor(cursor), limit)
    more = len(page.items) == limit
    return {"items": page.items,
            "next_cursor": str(page.last_position) if more and page.last_position else None}
