"""What forgetting a subscriber changes beside the log, in the transaction that appends
``SubscriberForgotten``:

- their data key is shredded (:mod:`.key_table`): every field sealed with it is unreadable;
- their rows in the subscriber lookup are deleted: no e-mail or reference finds them;
- the stored answers of idempotent requests about them (a subscriber's body, with e-mail,
  name, reference and payment method; a credit note's, with its reason) keep their shape
  with those fields null, and their
  request fingerprint (a hash of a body that held the personal data) is replaced, so a
  retry with such a key is refused as another request rather than answered.

The log itself is never rewritten.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from subledger.domain.personal import SUBSCRIBER_DETAILS

from . import key_table
from .key_table import KeyStatements

FORGOTTEN_FINGERPRINT = "forgotten"
SEALED_ANSWER = "_sealed_answer_"  # see .sealed_answers


def forget(cursor: Any, keys: KeyStatements, *, lookup_table: str, idempotency_table: str,
           subscriber_id: UUID, at: datetime) -> None:
    mark = "%s" if keys.postgres else "?"
    key_table.shred(cursor, keys, subscriber_id, at)
    cursor.execute(f"DELETE FROM {lookup_table} WHERE subscriber_id = {mark}",
                   (keys.id(subscriber_id),))
    cursor.execute(f"SELECT scope, key, body FROM {idempotency_table} WHERE body LIKE {mark}",
                   (f"%{subscriber_id}%",))
    for row in cursor.fetchall():
        body = scrubbed(row["body"], str(subscriber_id))
        cursor.execute(f"UPDATE {idempotency_table} SET body = {mark}, fingerprint = {mark}"
                       f" WHERE scope = {mark} AND key = {mark}",
                       (body, FORGOTTEN_FINGERPRINT, row["scope"], row["key"]))


def scrubbed(body: str, subscriber_id: str) -> str:
    """``body`` (JSON) with the subscriber's personal details null wherever it shows them."""
    try:
        value = json.loads(body)
    except ValueError:
        return body
    if isinstance(value, dict) and SEALED_ANSWER in value:
        value = value["answer"]  # the sealed whole answer goes with the key
    return json.dumps(_scrub(value, subscriber_id), separators=(",", ":"), ensure_ascii=False)


def _scrub(value: Any, subscriber_id: str) -> Any:
    if isinstance(value, list):
        return [_scrub(item, subscriber_id) for item in value]
    if not isinstance(value, dict):
        return value
    out = {k: _scrub(v, subscriber_id) for k, v in value.items()}
    if out.get("subscriber_id") == subscriber_id:
        for name in SUBSCRIBER_DETAILS:
            if name in out:
                out[name] = None
        if "payment_method" in out:
            out["payment_method"] = None
    if "credit_note_id" in out and "reason" in out:
        out["reason"] = None  # words typed about the subscriber (domain.personal)
    return out
