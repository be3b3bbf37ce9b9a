"""Idempotency keys: a retry with the same key and body returns the first answer.

The key, a fingerprint of the request and the first successful answer are stored in the
transaction that appends the command's events (see ``subledger.store.recorders``), so an
answer exists exactly when its events do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from subledger.store import IdempotencyRecord

MAX_KEY_LENGTH = 255


def fingerprint(method: str, path: str, body: Any) -> str:
    """A hash of the request: same method, path and body parsed as JSON (key order and
    whitespace do not matter)."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IdempotentRequest:
    """A command's idempotency key and how to render its answer for storage."""

    scope: str
    key: str
    fingerprint: str
    render: Callable[[Any], tuple[int, Any]]
    """result of the command -> (HTTP status, JSON body) to store and replay."""

    def record(self, result: Any, now: datetime) -> IdempotencyRecord:
        status, body = self.render(result)
        return IdempotencyRecord(
            scope=self.scope,
            key=self.key,
            fingerprint=self.fingerprint,
            status_code=status,
            body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
            created_at=now,
        )
