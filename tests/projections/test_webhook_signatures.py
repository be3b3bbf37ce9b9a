"""Signing and verifying webhook deliveries (pure functions, no I/O)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from subledger.projections.webhook_signatures import (
    SignatureError,
    envelope_body,
    sign,
    verify_signature,
)

SECRET = "whsec_test"
BODY = envelope_body({"position": 7, "event_id": "e", "type": "SubscriptionCanceled", "data": {"reason": "voluntary"}})
T = 1_760_000_000


def test_the_signature_is_a_timestamped_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{T}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY, T) == f"t={T},v1={expected}"


def test_a_signed_body_verifies_and_answers_its_timestamp() -> None:
    assert verify_signature(SECRET, sign(SECRET, BODY, T), BODY, now=T + 299) == T


def test_a_tampered_body_does_not_verify() -> None:
    header = sign(SECRET, BODY, T)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, header, BODY.replace(b"voluntary", b"involuntary"), now=T)


def test_another_secret_does_not_verify() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature("whsec_other", sign(SECRET, BODY, T), BODY, now=T)


def test_a_timestamp_outside_the_tolerance_is_refused_both_ways() -> None:
    header = sign(SECRET, BODY, T)
    for now in (T + 301, T - 301):
        with pytest.raises(SignatureError, match="300s"):
            verify_signature(SECRET, header, BODY, now=now)
    assert verify_signature(SECRET, header, BODY, now=T + 3000, tolerance=3600) == T


def test_a_changed_timestamp_does_not_verify() -> None:
    forged = sign(SECRET, BODY, T).replace(f"t={T}", f"t={T + 10}")
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(SECRET, forged, BODY, now=T)


def test_any_of_several_v1_signatures_may_match() -> None:
    header = f"t={T},v1={'0' * 64},{sign(SECRET, BODY, T).split(',')[1]}"
    assert verify_signature(SECRET, header, BODY, now=T) == T


@pytest.mark.parametrize("header", [None, "", "garbage", "t=abc,v1=00", f"t={T}", "v1=00", f"t={T},,v1=00"])
def test_a_missing_or_malformed_header_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_signature(SECRET, header, BODY, now=T)
