"""Per-subscriber data keys (AES-256-GCM), wrapped by the key-encryption key
``SUBLEDGER_CIPHER_KEY``.

Each subscriber's personal fields are sealed with their own data key; the data key is kept
wrapped (encrypted with AES-GCM under the key-encryption key) in the
``<app>_subscriber_keys`` table, outside the log, and written in the transaction of the
events it first seals. Forgetting a subscriber overwrites their row with a shredded marker
(no key): what was sealed with it can never be read again, while the stored event bytes stay
exactly as they were. Rotating the key-encryption key re-wraps every row and never touches
the log.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE = 12
DATA_KEY = 32
"""Data keys are always AES-256."""


class KeyUnavailable(Exception):
    """A data key was wrapped by a key-encryption key this process does not have."""


def kek_id(kek: bytes) -> str:
    """A short public name of a key-encryption key (never the key): which key wrapped a row."""
    return hashlib.sha256(b"subledger-kek:" + kek).hexdigest()[:16]


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """nonce || AES-GCM ciphertext and tag."""
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Raises :class:`cryptography.exceptions.InvalidTag` when ``sealed`` was not made by
    ``key`` for ``aad``."""
    return AESGCM(key).decrypt(sealed[:NONCE], sealed[NONCE:], aad)


@dataclass(frozen=True)
class WrappedKey:
    """A subscriber's row in the keys table; ``wrapped`` None: shredded (forgotten)."""

    subscriber_id: UUID
    wrapped: bytes | None
    kek: str | None


class KeyTable(Protocol):
    """The keys table, as the recorders keep it (the one I/O edge of this module)."""

    def select_data_key(self, subscriber_id: UUID) -> WrappedKey | None: ...


class KeyRing:
    """Wraps and unwraps data keys with the key-encryption key(s) this process was given:
    ``kek`` wraps new keys; ``previous`` only unwraps (during a rotation)."""

    def __init__(self, kek: bytes, previous: bytes | None = None) -> None:
        self.kek = kek
        self.id = kek_id(kek)
        self._keks = {self.id: kek}
        if previous is not None:
            self._keks.setdefault(kek_id(previous), previous)

    def new(self, subscriber_id: UUID) -> tuple[bytes, WrappedKey]:
        """A fresh data key and its row."""
        key = AESGCM.generate_key(bit_length=DATA_KEY * 8)
        return key, self.wrap(subscriber_id, key)

    def wrap(self, subscriber_id: UUID, key: bytes) -> WrappedKey:
        return WrappedKey(subscriber_id, seal(self.kek, key, subscriber_id.bytes), self.id)

    def unwrap(self, row: WrappedKey) -> bytes | None:
        """The data key of ``row``, None when it was shredded."""
        if row.wrapped is None:
            return None
        kek = self._keks.get(row.kek or "")
        if kek is None:
            raise KeyUnavailable(
                f"the data key of subscriber {row.subscriber_id} is wrapped by key {row.kek},"
                " which is neither SUBLEDGER_CIPHER_KEY nor SUBLEDGER_CIPHER_KEY_PREVIOUS")
        try:
            return unseal(kek, row.wrapped, row.subscriber_id.bytes)
        except InvalidTag:
            raise KeyUnavailable(f"the data key of subscriber {row.subscriber_id} does not"
                                 f" unwrap with key {row.kek}") from None

    def rewrap(self, row: WrappedKey) -> WrappedKey | None:
        """``row`` wrapped by the current key-encryption key; None when it already is or
        was shredded."""
        if row.wrapped is None or row.kek == self.id:
            return None
        key = self.unwrap(row)
        assert key is not None
        return self.wrap(row.subscriber_id, key)
