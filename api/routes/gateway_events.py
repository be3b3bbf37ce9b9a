"""A payment provider's own webhooks: ``POST /gateways/{name}/events``.

No API key: the provider cannot send one. The provider's signature is the authentication,
checked before anything is read: Stripe's with its SDK against the endpoint's signing secret
(``SUBLEDGER_STRIPE_WEBHOOK_SECRET``), PayPal's by PayPal's verify-webhook-signature for the
configured webhook id (``SUBLEDGER_PAYPAL_WEBHOOK_ID``, with the ``paypal`` gateway on); a bad
one is a 400 and records nothing. The event is recorded under the provider's event id as its
idempotency key, so the provider's retries and duplicates append nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from subledger.commands.gateway_notices import IGNORED, NoticeOutcome
from subledger.commands.gateways import paypal_events, stripe_events
from subledger.commands.gateways.notices import GatewayNotice
from subledger.commands.gateways.paypal import PayPalGateway
from subledger.commands.idempotency import IdempotencyKey
from subledger.commands.ledger import Ledger
from subledger.commands.notice_writes import RecordGatewayNotice, notice_body
from subledger.domain.errors import GatewayEventsNotReceived

from ..deps import LedgerDep
from ..json_bodies import api_router
from ..schemas import GatewayEventOut
from ..writes import REPLAYED_HEADER

router = api_router(tags=["gateway events"])

RECEIVING = ("stripe", "paypal")
"""The gateways whose events this server can read."""

_STRIPE_EVENT = {
    "type": "object", "required": ["id", "type", "created", "data"],
    "description": "A Stripe event, as Stripe sends it (https://docs.stripe.com/api/events/object)",
    "properties": {"id": {"type": "string"}, "type": {"type": "string"},
                   "created": {"type": "integer"}, "data": {"type": "object"}},
    "example": {"id": "evt_1", "object": "event", "type": "charge.dispute.created",
                "created": 1767225600, "data": {"object": {
                    "id": "dp_1", "object": "dispute", "amount": 1900, "currency": "usd",
                    "charge": "ch_1", "payment_intent": "pi_1", "reason": "fraudulent",
                    "status": "needs_response"}}},
}
OPENAPI = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": _STRIPE_EVENT}}},
    "parameters": [{"name": stripe_events.SIGNATURE_HEADER, "in": "header", "required": False,
                    "schema": {"type": "string"},
                    "description": "Stripe's signature of the body (`t=...,v1=...`); missing or"
                                   " wrong: 400 `gateway-signature-invalid`"},
                   *({"name": header, "in": "header", "required": False,
                      "schema": {"type": "string"},
                      "description": "PayPal's transmission header, checked with PayPal's"
                                     " verify-webhook-signature; missing or wrong: 400"
                                     " `gateway-signature-invalid`"}
                     for header in paypal_events.HEADERS.values())],
}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The signature is missing, wrong or too old"
                         " (`gateway-signature-invalid`), or the signed event is not what its"
                         " type promises (`gateway-event-malformed`)"},
    404: {"description": "This server receives no events of that gateway"
                         " (`gateway-events-not-received`: not one of "
                         + ", ".join(RECEIVING) + ", or its signing secret (Stripe) or webhook id"
                         " and credentials (PayPal) are not configured)"},
    413: {"description": "The body is over 1 MiB"},
    422: {"description": "A dispute or refund whose amount is in another currency than its"
                         " charge's (`currency-mismatch`), or a refund of 0 (`invalid-input`)"},
    415: {"description": "The body is not application/json"},
    503: {"description": "The event is about a payment or refund whose answer the ledger is still"
                         " waiting for, and the gateway cannot be reached to ask for it, or PayPal"
                         " cannot be reached to verify the signature (`gateway-unavailable`):"
                         " nothing recorded; the provider sends it again"},
}


@router.post("/gateways/{name}/events", response_model=GatewayEventOut, responses=PROBLEMS,
             openapi_extra=OPENAPI)
async def receive(name: str, request: Request, ledger: LedgerDep) -> Response:
    """A payment provider's webhook. Stripe (`/gateways/stripe/events`, with
    `SUBLEDGER_STRIPE_WEBHOOK_SECRET`): a dispute opened or closed (a lost one is refunded in
    cash and revenue), a refund made in Stripe's dashboard, a refund that failed, a card about
    to expire. PayPal (`/gateways/paypal/events`, with `SUBLEDGER_PAYPAL_WEBHOOK_ID` and the
    `paypal` gateway): a capture denied after it was reported pending (the charge is reversed:
    its invoice is due again, in dunning), a refund made in PayPal's dashboard. Needs no API
    key: the provider's signature is checked instead. Any other event type is answered 200
    `ignored`; the same event sent again is answered as the first time and appends nothing
    (`Idempotent-Replayed: true`), except one answered `ignored`, which is looked at anew."""
    settings = request.app.state.settings
    payload = await request.body()
    if name == "stripe" and settings.stripe_webhook_secret:
        secret = settings.stripe_webhook_secret
        signature = request.headers.get(stripe_events.SIGNATURE_HEADER)
        return await run_in_threadpool(_stripe, ledger, payload, signature, secret)
    paypal = ledger.payment_gateways.get("paypal")
    if name == "paypal" and settings.paypal_webhook_id and isinstance(paypal, PayPalGateway):
        headers = {h: v for h in paypal_events.HEADERS.values()
                   if (v := request.headers.get(h)) is not None}
        return await run_in_threadpool(_paypal, ledger, paypal, payload, headers,
                                       settings.paypal_webhook_id)
    raise GatewayEventsNotReceived(
        f"no events of gateway {name!r} are received here (receiving: "
        f"{', '.join(_receiving(settings, paypal)) or 'none'})")


def _receiving(settings: Any, paypal: Any) -> list[str]:
    on = {"stripe": bool(settings.stripe_webhook_secret),
          "paypal": bool(settings.paypal_webhook_id) and isinstance(paypal, PayPalGateway)}
    return [name for name in RECEIVING if on[name]]


def _stripe(ledger: Ledger, payload: bytes, signature: str | None, secret: str) -> Response:
    event = stripe_events.verify(payload, signature, secret)
    return _record(ledger, "stripe", event["id"], event["type"], stripe_events.notice_of(event))


def _paypal(ledger: Ledger, gateway: PayPalGateway, payload: bytes, headers: dict[str, str],
            webhook_id: str) -> Response:
    event = paypal_events.verify(gateway, payload, headers, webhook_id)
    return _record(ledger, "paypal", event["id"], event["event_type"],
                   paypal_events.notice_of(event))


def _record(ledger: Ledger, gateway: str, event_id: str, event_type: str,
            notice: GatewayNotice | None) -> Response:
    if notice is None:
        return JSONResponse(notice_body(gateway, event_id, event_type, NoticeOutcome(
            IGNORED, f"{event_type} is not an event the ledger records")))
    command = RecordGatewayNotice.of(gateway, event_id, event_type, notice)
    answer = ledger.execute(command, IdempotencyKey(f"gateway:{gateway}", event_id[:255]))
    headers = {REPLAYED_HEADER: "true"} if answer.replayed else None
    return JSONResponse(answer.body, headers=headers)
