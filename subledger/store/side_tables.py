"""The names of the side tables the ledger keeps beside the library's events table, written in
the events' own transaction (see :mod:`.recorders`), and how they store instants."""

from __future__ import annotations

from datetime import UTC, datetime


def side_table_names(events_table_name: str) -> tuple[str, str, str, str, str, str]:
    """(idempotency, subscriber streams, billing due, charges, documents, migrations)."""
    prefix = events_table_name.removesuffix("_events")
    return (f"{prefix}_idempotency", f"{prefix}_subscriber_streams", f"{prefix}_billing_due",
            f"{prefix}_charges", f"{prefix}_documents", f"{prefix}_migrations")


def lookup_table_name(events_table_name: str) -> str:
    return f"{events_table_name.removesuffix('_events')}_subscriber_lookup"


def keys_table_name(events_table_name: str) -> str:
    return f"{events_table_name.removesuffix('_events')}_subscriber_keys"


def sortable(instant: datetime | None) -> str | None:
    """UTC, fixed width, so that SQLite's text order is time order."""
    if instant is None:
        return None
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
