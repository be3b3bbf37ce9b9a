"""Rotating the key-encryption key: every subscriber's data key re-wrapped under the new
``SUBLEDGER_CIPHER_KEY``, read with ``SUBLEDGER_CIPHER_KEY_PREVIOUS``. Only the keys table
changes; the log's bytes (and so the audit's leaves) are untouched. A page at a time, each in
its own transaction; running it again picks up where it stopped and re-wraps nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from .data_keys import KeyRing, WrappedKey

PAGE = 500


class KeysRecorder(Protocol):
    def select_data_keys(self, after: UUID | None, limit: int) -> list[WrappedKey]: ...

    def rewrap_data_keys(self, pairs: list[tuple[WrappedKey, WrappedKey]]) -> int: ...


@dataclass(frozen=True)
class Rotation:
    key: str
    """The public name of the key every data key is now wrapped by."""
    rewrapped: int
    already_current: int


def rotate(recorder: KeysRecorder, ring: KeyRing, *, page: int = PAGE) -> Rotation:
    """Re-wrap every data key not yet under ``ring``'s key. Raises
    :class:`~.data_keys.KeyUnavailable` on a key wrapped by neither key given."""
    after: UUID | None = None
    rewrapped = current = 0
    while True:
        rows = recorder.select_data_keys(after, page)
        pairs = [(row, new) for row in rows if (new := ring.rewrap(row)) is not None]
        current += len(rows) - len(pairs)
        if pairs:
            rewrapped += recorder.rewrap_data_keys(pairs)
        if len(rows) < page:
            return Rotation(ring.id, rewrapped, current)
        after = rows[-1].subscriber_id
