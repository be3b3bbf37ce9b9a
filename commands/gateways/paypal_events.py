"""PayPal's webhooks, read into :class:`~.notices.GatewayNotice`.

Authenticated as PayPal documents it: the transmission headers PayPal sends with every
notification, the id of the webhook it was sent to (``SUBLEDGER_PAYPAL_WEBHOOK_ID``) and the
event are posted to ``POST /v1/notifications/verify-webhook-signature``, which answers
``verification_status`` ``SUCCESS`` or ``FAILURE``. The official ``paypal-server-sdk`` has no
method for that call: it is made over HTTP with the SDK's own OAuth token
(:meth:`PayPalGateway.authorization`). What the ledger records, by event type:

- ``PAYMENT.CAPTURE.DENIED`` -> a capture the ledger counted collected (PayPal answered it
  ``PENDING``) was denied: the money never arrived (``ChargeReversed``);
- ``PAYMENT.CAPTURE.REFUNDED`` -> a refund made in PayPal's dashboard (``RefundIssued``),
  unless the ledger asked for it itself: its ``invoice_id`` is then the ledger's refund key
  (``subledger-<refund id>``, which the ``paypal`` gateway sets).

Every other type is accepted and ignored (None). A capture is named by its id (the charge's
``gateway_ref``); a refund names its capture by its ``up`` link.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests

from subledger.domain.errors import (
    GatewayEventMalformed,
    GatewaySignatureInvalid,
    GatewayUnavailableError,
)

from . import GatewayUnavailable
from .amounts import from_decimal_string
from .notices import CHARGE_DENIED, REFUNDED, GatewayNotice
from .paypal import PayPalGateway

logger = logging.getLogger(__name__)

VERIFY_PATH = "/v1/notifications/verify-webhook-signature"
HEADERS = {"transmission_id": "PAYPAL-TRANSMISSION-ID",
           "transmission_time": "PAYPAL-TRANSMISSION-TIME",
           "transmission_sig": "PAYPAL-TRANSMISSION-SIG", "cert_url": "PAYPAL-CERT-URL",
           "auth_algo": "PAYPAL-AUTH-ALGO"}
"""verify-webhook-signature's fields, and the notification's headers they are read from."""
LEDGER_REFUND_KEY = "subledger-"
"""How the ``invoice_id`` of a refund the ledger asked PayPal for begins (its key)."""
DENIED = "PAYMENT.CAPTURE.DENIED"
REFUNDED_EVENT = "PAYMENT.CAPTURE.REFUNDED"


def verify(gateway: PayPalGateway, payload: bytes, headers: Mapping[str, str],
           webhook_id: str) -> dict[str, Any]:
    """The event, once PayPal says its signature checks out for ``webhook_id``; else
    :class:`GatewaySignatureInvalid` (nothing asked of PayPal when a header is missing).
    PayPal unreachable: :class:`GatewayUnavailableError` (503: PayPal sends it again)."""
    fields = {name: headers.get(header) for name, header in HEADERS.items()}
    if not all(fields.values()):
        raise GatewaySignatureInvalid("PayPal's transmission headers are missing")
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise GatewayEventMalformed("the body is not a JSON PayPal event") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) \
            or not isinstance(event.get("event_type"), str):
        raise GatewayEventMalformed("a PayPal event has an id and an event_type")
    # The event goes back byte for byte as it came: PayPal's signature covers the CRC32 of
    # the body it sent, which a parse and a new serialization need not reproduce.
    fields_json = json.dumps({**fields, "webhook_id": webhook_id}).encode()
    body = fields_json[:-1] + b', "webhook_event": ' + payload.strip() + b"}"
    try:
        answer = requests.post(gateway.api_base + VERIFY_PATH, data=body,
                               headers={**gateway.authorization(),
                                        "Content-Type": "application/json"},
                               timeout=gateway.timeout)
    except (requests.RequestException, GatewayUnavailable) as error:
        logger.warning("paypal: verify-webhook-signature unreachable: %s", error)
        raise GatewayUnavailableError("PayPal could not be asked to verify the event's"
                                      " signature; send it again later") from error
    if answer.status_code >= 500 or answer.status_code in (401, 403, 429):
        logger.error("paypal: verify-webhook-signature answered %s: %s", answer.status_code,
                     answer.text[:500])
        raise GatewayUnavailableError(f"PayPal answered {answer.status_code} to"
                                      " verify-webhook-signature; send the event again later")
    status = _status(answer)
    if status != "SUCCESS":
        raise GatewaySignatureInvalid(f"PayPal does not verify the event's signature ({status})")
    return event


def _status(answer: requests.Response) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        return None
    return body.get("verification_status") if isinstance(body, dict) else None


def notice_of(event: dict[str, Any]) -> GatewayNotice | None:
    """What the ledger records of a verified event (None: nothing, see the module)."""
    kind = event["event_type"]
    if kind not in (DENIED, REFUNDED_EVENT):
        return None
    resource = event.get("resource")
    if not isinstance(resource, dict):
        raise GatewayEventMalformed(f"a {kind} event has its resource")
    at = _instant(event.get("create_time"))
    amount, currency = _money(resource)
    if kind == DENIED:
        details = resource.get("status_details")
        reason = details.get("reason") if isinstance(details, dict) else None
        return GatewayNotice(kind=CHARGE_DENIED, occurred_at=at, ref=_text(resource, "id"),
                             charge_refs=(_text(resource, "id"),), amount=amount,
                             currency=currency,
                             reason=reason.lower() if isinstance(reason, str) and reason else "denied")
    invoice_id = resource.get("invoice_id")
    if isinstance(invoice_id, str) and invoice_id.startswith(LEDGER_REFUND_KEY):
        return None  # the ledger's own refund: recorded with PayPal's answer to it
    return GatewayNotice(kind=REFUNDED, occurred_at=at, ref=_text(resource, "id"),
                         charge_refs=(_capture_of(resource),), amount=amount, currency=currency,
                         reason=None)


def _capture_of(refund: dict[str, Any]) -> str:
    """The capture a refund refunds: the last segment of its ``up`` link."""
    for link in refund.get("links") or []:
        href = link.get("href") if isinstance(link, dict) else None
        if isinstance(link, dict) and link.get("rel") == "up" and isinstance(href, str) \
                and "/captures/" in href:
            return href.rstrip("/").rsplit("/", 1)[-1]
    raise GatewayEventMalformed("the refund names no capture (no 'up' link)")


def _money(resource: dict[str, Any]) -> tuple[int, str]:
    amount = resource.get("amount")
    value = amount.get("value") if isinstance(amount, dict) else None
    currency = amount.get("currency_code") if isinstance(amount, dict) else None
    if not isinstance(value, str) or not isinstance(currency, str) or len(currency) != 3:
        raise GatewayEventMalformed("the event's resource has no amount")
    try:
        return from_decimal_string(value, currency.upper()), currency.upper()
    except ValueError as error:
        raise GatewayEventMalformed(str(error)) from None


def _text(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise GatewayEventMalformed(f"the event's resource has no {name}")
    return value


def _instant(value: Any) -> datetime:
    try:
        instant = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise GatewayEventMalformed("the event has no create_time")
    return instant
