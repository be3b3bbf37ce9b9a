"""``SUBLEDGER_AUDIT_KEY`` read: an Ed25519 private key as PEM (PKCS#8, unencrypted), or
base64 of its 32-byte seed; either way the ledger keeps the seed."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

EXPECTED = ("an Ed25519 private key: PEM (BEGIN PRIVATE KEY, unencrypted) or base64 of its"
            " 32-byte seed")


def parse_audit_key(value: str) -> bytes | None:
    """The 32-byte seed of ``value``, or None when it is neither form."""
    text = value.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = load_pem_private_key(text.replace("\\n", "\n").encode("ascii"), password=None)
        except (ValueError, TypeError, UnicodeEncodeError):
            return None
        if not isinstance(key, Ed25519PrivateKey):
            return None
        return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    try:
        seed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return seed if len(seed) == 32 else None
