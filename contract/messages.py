"""The Kafka messages of docs/streaming.md, built from envelopes and read-model rows (pure).

Three topics under one prefix:

- ``<prefix>.events``: every event's envelope, keyed by subscriber id (catalog events,
  which have no subscriber, by their own aggregate id);
- ``<prefix>.subscriptions``: a compacted topic, keyed by subscription id, whose value is the
  body of ``GET /subscriptions/{id}`` as it stood after one event, plus that event's
  ``position``;
- ``<prefix>.mrr-movements``: one message per MRR movement learned (or retracted, when a
  backdated event re-derived a subscriber's past), keyed by subscriber id.

Every message carries ``position``, its place in the ledger's global order; a movement also
carries ``sequence``, its rank among the movements learned at that position. Within a
partition ``(position, sequence)`` only grows, except when the relay re-sends after a crash:
a consumer drops anything at or below the last pair it handled.

Each message also carries the CloudEvents Kafka binding's binary-mode headers
(``ce_specversion``, ``ce_id``, ``ce_source``, ``ce_type``, ``ce_time``, plus
``ce_subject`` and ``content-type``), so standard consumers can route without parsing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .schema_types import BASE_ID

CLOUDEVENTS_VERSION = "1.0"

EVENTS = "events"
SUBSCRIPTIONS = "subscriptions"
MOVEMENTS = "mrr-movements"
TOPIC_SUFFIXES = (EVENTS, SUBSCRIPTIONS, MOVEMENTS)
COMPACTED = frozenset({SUBSCRIPTIONS})
"""Topics whose latest message per key is the state (``cleanup.policy=compact``)."""

AUDIT = "audit"
"""The signed tree heads' topic: published by the Merkle follower's publisher, not the relay."""
HEADS_KEY = "tree-heads"
"""The one key of the audit topic: every head on one partition, in order."""

SUBSCRIPTION_STATE = "SubscriptionState"
MRR_MOVEMENT = "MrrMovement"
TREE_HEAD = "TreeHead"
"""Schema names of the messages that are not event envelopes."""


def topic_name(prefix: str, suffix: str) -> str:
    return f"{prefix}.{suffix}"


@dataclass(frozen=True)
class Message:
    """One Kafka record: where it goes, its key, its JSON value, its headers."""

    topic: str
    key: str
    value: dict[str, Any]
    headers: tuple[tuple[str, str], ...]

    def encoded(self) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        """(key, value, headers) as bytes: UTF-8, JSON without whitespace, keys sorted, so
        a re-sent message is byte-for-byte the one sent before."""
        value = json.dumps(self.value, separators=(",", ":"), sort_keys=True).encode()
        return self.key.encode(), value, [(k, v.encode()) for k, v in self.headers]


def _headers(*, ce_id: str, source: str, ce_type: str, time: str, subject: str,
             schema: str) -> tuple[tuple[str, str], ...]:
    return (
        ("ce_specversion", CLOUDEVENTS_VERSION),
        ("ce_id", ce_id),
        ("ce_source", source),
        ("ce_type", ce_type),
        ("ce_time", time),
        ("ce_subject", subject),
        ("ce_dataschema", f"{BASE_ID}{schema}.json"),
        ("content-type", "application/json"),
    )


def event_message(prefix: str, envelope: dict[str, Any]) -> Message:
    """The ``events`` message of one envelope."""
    key = envelope["subscriber_id"] or envelope["aggregate_id"]
    return Message(
        topic=topic_name(prefix, EVENTS),
        key=key,
        value=envelope,
        headers=_headers(
            ce_id=envelope["event_id"], source=f"/{prefix}/{EVENTS}",
            ce_type=f"subledger.{envelope['type']}.v{envelope['schema_version']}",
            time=envelope["recorded_at"], subject=envelope["aggregate_id"],
            schema=envelope["type"],
        ),
    )


def subscription_message(prefix: str, envelope: dict[str, Any],
                         body: dict[str, Any]) -> Message:
    """The ``subscriptions`` message: ``body`` is the subscription as it stood right after
    the event of ``envelope``."""
    return Message(
        topic=topic_name(prefix, SUBSCRIPTIONS),
        key=body["subscription_id"],
        value={"position": envelope["position"], **body},
        headers=_headers(
            ce_id=envelope["event_id"], source=f"/{prefix}/{SUBSCRIPTIONS}",
            ce_type=f"subledger.{SUBSCRIPTION_STATE}.v1", time=envelope["recorded_at"],
            subject=body["subscription_id"], schema=SUBSCRIPTION_STATE,
        ),
    )


def movement_message(prefix: str, movement: dict[str, Any]) -> Message:
    """The ``mrr-movements`` message of one movement (the fields of
    :data:`MOVEMENT_FIELDS`)."""
    value = {name: movement[name] for name in MOVEMENT_FIELDS}
    return Message(
        topic=topic_name(prefix, MOVEMENTS),
        key=value["subscriber_id"],
        value=value,
        headers=_headers(
            ce_id=f"{value['position']}-{value['sequence']}", source=f"/{prefix}/{MOVEMENTS}",
            ce_type=f"subledger.{MRR_MOVEMENT}.v1", time=value["recorded_at"],
            subject=value["subscriber_id"], schema=MRR_MOVEMENT,
        ),
    )


def head_message(prefix: str, head: dict[str, Any]) -> Message:
    """The ``audit`` message of one tree head: its four fields and its signature."""
    return Message(
        topic=topic_name(prefix, AUDIT),
        key=HEADS_KEY,
        value=head,
        headers=_headers(
            ce_id=f"tree-head-{head['tree_size']}", source=f"/{prefix}/{AUDIT}",
            ce_type=f"subledger.{TREE_HEAD}.v1", time=head["timestamp"],
            subject=str(head["tree_size"]), schema=TREE_HEAD,
        ),
    )


MOVEMENT_FIELDS = (
    "position", "sequence", "subscriber_id", "effective_at", "kind", "amount", "currency",
    "mrr_before", "mrr_after", "event_ids", "retracted", "recorded_at",
)
