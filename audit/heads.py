"""Signed tree heads: what a head states, the bytes its signature covers, Ed25519.

A head states ``{tree_size, root_hash, last_position, timestamp}``: the tree of the first
``tree_size`` events of the log, whose last is at ``last_position``, had root ``root_hash``
(hex) at ``timestamp`` (ISO-8601 UTC). The signature (base64) is over the UTF-8 bytes of
``json.dumps(head, sort_keys=True, separators=(",", ":"))`` of those four fields, so anyone
can check it with the public key alone.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALGORITHM = "Ed25519"


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: str
    """Hex of the RFC 9162 root."""
    last_position: int
    """Position of the tree's last leaf (0 for the empty tree)."""
    timestamp: str

    def fields(self) -> dict[str, Any]:
        return {"tree_size": self.tree_size, "root_hash": self.root_hash,
                "last_position": self.last_position, "timestamp": self.timestamp}

    def signed_bytes(self) -> bytes:
        """The bytes the signature covers."""
        return json.dumps(self.fields(), sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_fields(cls, body: dict[str, Any]) -> TreeHead:
        """A head from its JSON form (ValueError when a field is missing or of a wrong type)."""
        try:
            head = cls(body["tree_size"], body["root_hash"], body["last_position"], body["timestamp"])
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a tree head: {error}") from None
        if not (isinstance(head.tree_size, int) and isinstance(head.last_position, int)
                and isinstance(head.root_hash, str) and isinstance(head.timestamp, str)):
            raise ValueError("not a tree head: a field has the wrong type")
        return head


class HeadSigner:
    """Signs heads with the Ed25519 key whose 32-byte seed is given."""

    def __init__(self, seed: bytes) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, head: TreeHead) -> str:
        return base64.b64encode(self._key.sign(head.signed_bytes())).decode("ascii")


def public_key_text(public_key: bytes) -> str:
    """The public key as ``GET /audit/public-key`` gives it: base64 of the 32 raw bytes."""
    return base64.b64encode(public_key).decode("ascii")


def signature_valid(public_key: bytes, head: TreeHead, signature: str | None) -> bool:
    """Whether ``signature`` (base64) is the key's signature of ``head``."""
    if signature is None:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(raw, head.signed_bytes())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
