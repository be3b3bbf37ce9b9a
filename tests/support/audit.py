"""The stored log read with plain SQL, and the leaves the docs define, computed here from
docs/audit.md alone, to check the Merkle follower from outside."""

from __future__ import annotations

import struct
from typing import Any
from uuid import UUID, uuid5

from subledger.projections.store import ViewStore

from . import rfc9162

_EVENT_IDS = UUID("5b1c2f64-6a43-5c1e-9a57-1f0d8c6b7e21")
"""The namespace of event ids (docs/events.md: uuid5 of ``aggregate_id/version``)."""


def sql(views: ViewStore, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with views.transaction() as tx:
        cursor = tx.execute(statement, params)
        return cursor.fetchall() if statement.lstrip().upper().startswith("SELECT") else []


def position_column(views: ViewStore) -> str:
    return "notification_id" if views.postgres else "rowid"


def events_table(ledger: Any) -> str:
    return str(ledger.event_log.recorder.events_table_name)


def stored_events(views: ViewStore, table: str) -> list[tuple[int, str, int, str, bytes]]:
    """(position, aggregate id, version, topic, state) of every stored event, in order."""
    pos = position_column(views)
    return [(int(p), str(a), int(v), t, bytes(s)) for p, a, v, t, s in sql(
        views, f"SELECT {pos}, originator_id, originator_version, topic, state FROM {table}"
        f" ORDER BY {pos}")]


def documented_leaf(position: int, aggregate_id: str, version: int, topic: str, state: bytes) -> bytes:
    aggregate = UUID(aggregate_id)
    fields = (struct.pack(">Q", position), uuid5(_EVENT_IDS, f"{aggregate}/{version}").bytes,
              aggregate.bytes, struct.pack(">Q", version), topic.encode(), state)
    return b"\x01" + b"".join(struct.pack(">I", len(f)) + f for f in fields)


def documented_root(views: ViewStore, table: str, size: int | None = None) -> bytes:
    """MTH of the first ``size`` stored events of ``table`` (all of them by default)."""
    events = stored_events(views, table)[:size]
    return rfc9162.mth([rfc9162.leaf(documented_leaf(*row)) for row in events])
