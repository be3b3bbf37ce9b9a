"""Webhook signatures: how a delivery's body is signed, and how a receiver verifies it.

The body of a delivery is the envelope (docs/events.md) as UTF-8 JSON, signed like Stripe
signs its webhooks::

    Subledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{raw body}")>

A receiver checks it on the raw bytes, before parsing the JSON, and refuses old timestamps
(a replayed request); :func:`verify_signature` does both.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

SIGNATURE_HEADER = "Subledger-Signature"


class SignatureError(ValueError):
    """A webhook's signature does not verify: missing or malformed header, a timestamp
    outside the tolerance, or no ``v1`` that matches the body and the secret."""


def _mac(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Subledger-Signature`` header of ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_mac(secret, body, timestamp)}"


def verify_signature(secret: str, header: str | None, body: bytes, *, tolerance: int = 300,
                     now: float | None = None) -> int:
    """Check a ``Subledger-Signature`` header against the raw ``body`` (the bytes received,
    before any JSON parsing); returns its timestamp, or raises :class:`SignatureError`.
    A timestamp more than ``tolerance`` seconds from ``now`` is refused (replayed
    requests); several ``v1`` values are accepted (any one may match)."""
    if not header:
        raise SignatureError(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError(f"malformed {SIGNATURE_HEADER} header")
        if key == "t":
            if not (value.isascii() and value.isdigit()):
                raise SignatureError("the signature's timestamp is not a whole number")
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError(f"{SIGNATURE_HEADER} needs t= and v1=")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(f"the signature's timestamp is more than {tolerance}s from now")
    expected = _mac(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, c) for c in candidates):
        raise SignatureError("the signature does not match the body and the secret")
    return timestamp


def envelope_body(envelope: Mapping[str, Any]) -> bytes:
    """The body of a delivery: the envelope as JSON, UTF-8."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
