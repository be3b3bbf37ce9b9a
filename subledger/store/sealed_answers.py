"""Stored answers of idempotent writes, sealed like the events they answer.

The answer to registering a subscriber, changing their details or their payment method is
their body, personal details included, kept so a retry gets it again. With a cipher key it
is stored as the answer with those details null, beside the whole answer sealed with the
subscriber's data key::

    {"_sealed_answer_": [<subscriber id hex>, <base64 nonce || ciphertext>], "answer": {...}}

A retry reads the whole answer while the key exists, and the answer with the details null
once it was shredded (forgetting also drops the sealed part, :mod:`.forgetting`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from .data_keys import seal, unseal

MARK = "_sealed_answer_"


def seal_answer(body: str, subscriber_id: UUID, key: bytes) -> str:
    """``body`` sealed, unless it shows nothing personal of the subscriber."""
    from .forgetting import scrubbed

    clear = scrubbed(body, str(subscriber_id))
    if json.loads(clear) == json.loads(body):
        return body
    sealed = seal(key, body.encode(), _aad(subscriber_id))
    return json.dumps({MARK: [subscriber_id.hex, base64.b64encode(sealed).decode()],
                       "answer": json.loads(clear)}, separators=(",", ":"), ensure_ascii=False)


def open_answer(body: str, key_of: Callable[[UUID], bytes | None]) -> str:
    """The answer as first given, or with the details null once the key is shredded."""
    if MARK not in body[:40]:
        return body
    parsed: dict[str, Any] = json.loads(body)
    subscriber_hex, sealed = parsed[MARK]
    subscriber_id = UUID(subscriber_hex)
    key = key_of(subscriber_id)
    if key is None:
        return json.dumps(parsed["answer"], separators=(",", ":"), ensure_ascii=False)
    return unseal(key, base64.b64decode(sealed), _aad(subscriber_id)).decode()


def _aad(subscriber_id: UUID) -> bytes:
    return b"answer/" + subscriber_id.bytes
