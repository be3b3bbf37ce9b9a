"""PayPal's webhooks as the fake PayPal (``paypal.py``) sends them, and its
``POST /v1/notifications/verify-webhook-signature``, from PayPal's docs.

PayPal sends a notification with the headers ``PAYPAL-TRANSMISSION-ID``,
``PAYPAL-TRANSMISSION-TIME``, ``PAYPAL-TRANSMISSION-SIG`` (its signature of
``<transmission id>|<transmission time>|<webhook id>|<CRC32 of the body>``),
``PAYPAL-CERT-URL`` (the certificate to check it with) and ``PAYPAL-AUTH-ALGO``
(``SHA256withRSA``). A listener may post those, the webhook id it was configured with and
the event to verify-webhook-signature, which answers 200 ``{"verification_status":
"SUCCESS"}`` or ``"FAILURE"`` (400 ``VALIDATION_ERROR`` when a field is missing).

The fake signs with an HMAC under a key of its own instead of PayPal's RSA certificate
(only the fake checks it), over the same string, with the CRC32 of the body it sends
(compact JSON). It verifies the CRC32 of the ``webhook_event`` exactly as the listener wrote
it in its request: a listener that sends back anything but the bytes it received (a change
to a field, or the same event serialized anew) gets ``FAILURE``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import zlib
from datetime import UTC, datetime
from typing import Any

from .paypal_errors import ID_ALPHABET, paypal_error
from .provider_server import Answer, FakeProvider, Recorded, new_id

WEBHOOK_ID = "8PT597110X687430LKGECATA"
"""The id of the fake's one webhook (a listener URL registered in the app's settings)."""
REQUIRED = ("auth_algo", "cert_url", "transmission_id", "transmission_sig",
            "transmission_time", "webhook_id", "webhook_event")


class Webhooks:
    """The fake's webhook: what it signs, and what it verifies."""

    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider
        self.key = secrets.token_bytes(32)
        self.webhook_id = WEBHOOK_ID

    def _signature(self, transmission_id: str, time: str, webhook_id: str,
                   event: bytes) -> str:
        crc = zlib.crc32(event)
        message = f"{transmission_id}|{time}|{webhook_id}|{crc}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def signed(self, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """The body and headers PayPal posts to the listener for ``event``."""
        transmission_id = new_id("", 8, "0123456789abcdef") + "-d67a-11e5-baa3-778b53f4ae55"
        time = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = json.dumps(event, separators=(",", ":")).encode()
        return body, {
            "PAYPAL-TRANSMISSION-ID": transmission_id, "PAYPAL-TRANSMISSION-TIME": time,
            "PAYPAL-TRANSMISSION-SIG": self._signature(transmission_id, time, self.webhook_id, body),
            "PAYPAL-CERT-URL": f"{self.provider.url}/v1/notifications/certs/CERT-360caa42-fca2a594",
            "PAYPAL-AUTH-ALGO": "SHA256withRSA", "content-type": "application/json"}

    def verify(self, request: Recorded) -> Answer:
        body = request.json()
        if not isinstance(body, dict) or any(body.get(name) in (None, "") for name in REQUIRED):
            return paypal_error(400, "VALIDATION_ERROR", "Invalid request - see details.",
                                "MISSING_REQUIRED_PARAMETER", "A required field is missing.")
        expected = self._signature(body["transmission_id"], body["transmission_time"],
                                   body["webhook_id"], _event_as_written(request.body))
        good = body["webhook_id"] == self.webhook_id and body["auth_algo"] == "SHA256withRSA" \
            and hmac.compare_digest(expected, str(body["transmission_sig"]))
        return Answer(200, {"verification_status": "SUCCESS" if good else "FAILURE"})


def _event_as_written(request_body: bytes) -> bytes:
    """The bytes of the request's ``webhook_event`` value, as the listener wrote them."""
    text = request_body.decode("utf-8")
    start = text.index(":", text.index('"webhook_event"')) + 1
    while text[start].isspace():
        start += 1
    _value, end = json.JSONDecoder().raw_decode(text, start)
    return text[start:end].encode("utf-8")


def event(kind: str, resource_type: str, resource: dict[str, Any], summary: str) -> dict[str, Any]:
    """A webhook event as PayPal sends it (``WH-...`` id, ``create_time``)."""
    event_id = "WH-" + new_id("", 17, ID_ALPHABET) + "-" + new_id("", 17, ID_ALPHABET)
    return {"id": event_id, "event_version": "1.0",
            "create_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "resource_type": resource_type, "resource_version": "2.0", "event_type": kind,
            "summary": summary, "resource": resource,
            "links": [{"href": f"https://api.paypal.com/v1/notifications/webhooks-events/{event_id}",
                       "rel": "self", "method": "GET"}]}


def refund_resource(base_url: str, refund: dict[str, Any]) -> dict[str, Any]:
    """A refund as a ``PAYMENT.CAPTURE.REFUNDED`` event carries it: its capture is its
    ``up`` link."""
    resource = {"id": refund["id"], "amount": refund["amount"], "status": refund["status"],
                "create_time": "2026-12-04T09:00:00Z",
                "links": [{"href": f"{base_url}/v2/payments/refunds/{refund['id']}", "rel": "self",
                           "method": "GET"},
                          {"href": f"{base_url}/v2/payments/captures/{refund['capture_id']}",
                           "rel": "up", "method": "GET"}]}
    if refund.get("invoice_id"):
        resource["invoice_id"] = refund["invoice_id"]
    return resource
