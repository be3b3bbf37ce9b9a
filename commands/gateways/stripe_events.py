"""Stripe's webhooks, read into :class:`~.notices.GatewayNotice`.

The signature is checked by the official SDK (``stripe.Webhook.construct_event``: the
``Stripe-Signature`` header's HMAC of the raw body under the endpoint's signing secret, and a
timestamp at most 5 minutes old). What the ledger records, by event type:

- ``charge.dispute.created`` -> a dispute opened (``ChargeDisputed``);
- ``charge.dispute.closed`` -> a dispute closed (``DisputeClosed``): Stripe's status ``lost``
  is ``lost``; ``won``, ``warning_closed`` (an inquiry that never became a chargeback) and
  any other final status keep the money: ``won``;
- ``refund.created`` with status ``succeeded`` or ``pending`` -> a refund made in Stripe's
  dashboard (``RefundIssued``), unless the ledger asked for it itself (its metadata carries
  ``subledger_refund_id``, which the ``stripe`` gateway sets);
- ``charge.refund.updated``, ``refund.updated`` and ``refund.failed`` with status ``failed``
  or ``canceled`` -> a refund that failed after it was announced (``RefundReversed``), the
  ledger's own refunds too: Stripe gave the money back to the balance. Any other status
  is nothing to record;
- ``customer.source.expiring`` -> the card stops working at the end of its expiry month
  (``PaymentMethodExpiring``). Stripe sends it for cards saved as Card or Source objects;
  for a PaymentMethod it sends none, and the next charge's decline (``expired_card``) says it.

Every other type is accepted and ignored (None). The charge a dispute or refund is about is
named by its PaymentIntent id (what the ledger keeps as the charge's ``gateway_ref``) and by
its Charge id (a payment recorded by hand may carry that one).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import stripe

from subledger.domain.errors import GatewayEventMalformed, GatewaySignatureInvalid

from .amounts import from_stripe_amount
from .notices import (
    DISPUTE_CLOSED,
    DISPUTE_OPENED,
    PAYMENT_METHOD_EXPIRING,
    REFUND_FAILED,
    REFUNDED,
    GatewayNotice,
)

SIGNATURE_HEADER = "Stripe-Signature"
LEDGER_REFUND_KEY = "subledger_refund_id"
"""Metadata of a refund the ledger asked Stripe for (set by the ``stripe`` gateway)."""
REFUND_UPDATES = ("charge.refund.updated", "refund.updated", "refund.failed")
"""A Refund object changed (the first on every API version, the others on newer ones)."""
FAILED_REFUND = ("failed", "canceled")
"""A refund's statuses after which the money stayed with the seller."""
RECORDED_TYPES = ("charge.dispute.created", "charge.dispute.closed", "refund.created",
                  "customer.source.expiring", *REFUND_UPDATES)


def verify(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event, once its signature checks out with ``secret``; else
    :class:`GatewaySignatureInvalid` (a body that is not JSON: :class:`GatewayEventMalformed`)."""
    try:
        stripe.Webhook.construct_event(payload, signature, secret)
    except stripe.SignatureVerificationError as error:
        raise GatewaySignatureInvalid(f"the Stripe-Signature does not check out: {error}") from None
    except (ValueError, UnicodeDecodeError, AttributeError, TypeError):
        # Signed, but not a JSON object (the SDK reads it as one: a list breaks it).
        raise GatewayEventMalformed("the body is not a JSON Stripe event") from None
    # The SDK checked these very bytes; read them as plain JSON (not StripeObjects).
    event = json.loads(payload)
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) \
            or not isinstance(event.get("type"), str):
        raise GatewayEventMalformed("a Stripe event has an id and a type")
    return event


def notice_of(event: dict[str, Any]) -> GatewayNotice | None:
    """What the ledger records of a verified event (None: nothing, see the module)."""
    kind = event["type"]
    if kind not in RECORDED_TYPES:
        return None
    obj = _object(event)
    at = _instant(event.get("created"), "created")
    if kind in ("charge.dispute.created", "charge.dispute.closed"):
        opened = kind == "charge.dispute.created"
        return GatewayNotice(
            kind=DISPUTE_OPENED if opened else DISPUTE_CLOSED, occurred_at=at,
            ref=_text(obj, "id"), charge_refs=_charge_refs(obj), amount=_amount(obj),
            currency=_text(obj, "currency").upper(),
            outcome=None if opened else ("lost" if obj.get("status") == "lost" else "won"),
            reason=obj.get("reason") if opened and isinstance(obj.get("reason"), str) else None)
    if kind == "refund.created":
        metadata = obj.get("metadata") or {}
        if obj.get("status") not in ("succeeded", "pending") or (
                isinstance(metadata, dict) and LEDGER_REFUND_KEY in metadata):
            return None
        reason = obj.get("reason")
        return GatewayNotice(kind=REFUNDED, occurred_at=at, ref=_text(obj, "id"),
                             charge_refs=_charge_refs(obj), amount=_amount(obj),
                             currency=_text(obj, "currency").upper(),
                             reason=reason if isinstance(reason, str) else None)
    if kind in REFUND_UPDATES:
        return _failed_refund(obj, at)
    card = _text(obj, "id")
    customer = obj.get("customer")
    tokens = (card,) + ((f"{customer}:{card}",) if isinstance(customer, str) else ())
    return GatewayNotice(kind=PAYMENT_METHOD_EXPIRING, occurred_at=at, tokens=tokens,
                         expires_at=_end_of_month(obj.get("exp_month"), obj.get("exp_year")))


def _failed_refund(obj: dict[str, Any], at: datetime) -> GatewayNotice | None:
    """A refund that failed (its ``failure_reason``, else its status); None for any other
    status (a refund pending, or succeeded after it was pending, changes nothing)."""
    status = obj.get("status")
    if status not in FAILED_REFUND:
        return None
    failure = obj.get("failure_reason")
    return GatewayNotice(kind=REFUND_FAILED, occurred_at=at, ref=_text(obj, "id"),
                         charge_refs=_charge_refs(obj), amount=_amount(obj),
                         currency=_text(obj, "currency").upper(),
                         reason=failure if isinstance(failure, str) and failure else str(status))


def _object(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise GatewayEventMalformed(f"a {event['type']} event has its object in data.object")
    return obj


def _text(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise GatewayEventMalformed(f"the event's object has no {name}")
    return value


def _amount(obj: dict[str, Any]) -> int:
    """The object's amount in the ledger's minor units (Stripe's are its own per currency)."""
    value = obj.get("amount")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GatewayEventMalformed("the event's object has no amount in minor units")
    try:
        return from_stripe_amount(value, _text(obj, "currency"))
    except ValueError as error:
        raise GatewayEventMalformed(str(error)) from None


def _charge_refs(obj: dict[str, Any]) -> tuple[str, ...]:
    """The disputed or refunded payment's PaymentIntent id, then its Charge id (either may
    be expanded into an object)."""
    refs = []
    for name in ("payment_intent", "charge"):
        value = obj.get(name)
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, str) and value:
            refs.append(value)
    if not refs:
        raise GatewayEventMalformed("the event's object names no payment_intent or charge")
    return tuple(refs)


def _instant(value: Any, name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**33:
        raise GatewayEventMalformed(f"the event has no {name} time")
    return datetime.fromtimestamp(value, UTC)


def _end_of_month(month: Any, year: Any) -> datetime:
    """The first instant after a card's expiry month (a card works through its last day)."""
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (month, year)) \
            or not 1 <= month <= 12 or not 2000 <= year <= 9998:
        raise GatewayEventMalformed("the card has no exp_month and exp_year")
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
