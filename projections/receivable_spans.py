"""``view_receivables``: the spans of effective time over which an invoice owed a constant
amount, kept by the ``invoices`` model (``domain.receivables``: what is outstanding).

Each event that changes what is outstanding on an invoice ends the invoice's open span
(``until``: its effective instant; ``until_recorded``: when the ledger learned it;
``until_position`` and ``until_event_id``: which event it was) and, while something is
still owed, opens a new one from its own instant. An invoice's events are a subscription's,
whose effective instants never go back (``domain.base``), so an invoice's spans follow each
other in both times.

What an invoice owed as of T, as known at K, is the span opened by T and recorded by K
that had not ended by then: ``until`` after T, or learned after K, or not at all. The
invoices owing now are the spans with no end, so the report as of now reads as many rows as
invoices are owed, whatever the size of the book.
"""

from __future__ import annotations

from typing import Any

from subledger.domain.receivables import outstanding

from .mrr import sortable
from .store import ViewCursor

SPAN_COLUMNS = ("invoice_id", "subscription_id", "subscriber_id", "currency", "issued_at",
                "issued_position", "at", "recorded_at", "position", "event_id", "outstanding",
                "until", "until_recorded", "until_position", "until_event_id")


def create(tx: ViewCursor) -> None:
    tx.execute("CREATE TABLE IF NOT EXISTS view_receivables (invoice_id TEXT NOT NULL,"
               " subscription_id TEXT NOT NULL, subscriber_id TEXT NOT NULL,"
               " currency TEXT NOT NULL, issued_at TEXT NOT NULL, issued_position BIGINT NOT NULL,"
               " at TEXT NOT NULL, recorded_at TEXT NOT NULL, position BIGINT NOT NULL,"
               " event_id TEXT NOT NULL, outstanding BIGINT NOT NULL, until TEXT,"
               " until_recorded TEXT, until_position BIGINT, until_event_id TEXT,"
               " PRIMARY KEY (invoice_id, position))")
    for name, columns in (("until", "until"), ("until_recorded", "until_recorded")):
        tx.execute(f"CREATE INDEX IF NOT EXISTS view_receivables_{name} ON view_receivables ({columns})")


class Spans:
    """The spans a page of events opened and ended."""

    def __init__(self) -> None:
        self.opened: dict[str, dict[str, Any]] = {}
        """invoice id -> its span opened in this page and not ended."""
        self.rows: list[dict[str, Any]] = []
        self.ended: dict[str, tuple[str, str, int, str]] = {}
        """invoice id -> how its span stored before this page ended: until, until_recorded,
        until_position, until_event_id."""

    def record(self, before: dict[str, Any] | None, after: dict[str, Any],
               envelope: dict[str, Any]) -> None:
        """What one event did to an invoice, from its row ``before`` (None: the event issued
        it) to ``after`` (rows of ``view_invoices``)."""
        was = 0 if before is None else outstanding(before["status"], before["amount_due"])
        owed = outstanding(after["status"], after["amount_due"])
        if owed == was:
            return
        invoice_id = after["invoice_id"]
        end = (sortable(envelope["effective_at"]), sortable(envelope["recorded_at"]),
               int(envelope["position"]), envelope["event_id"])
        if was > 0:
            span = self.opened.pop(invoice_id, None)
            if span is None:
                self.ended[invoice_id] = end
            else:
                span.update(zip(("until", "until_recorded", "until_position", "until_event_id"), end,
                                strict=True))
        if owed > 0:
            span = {"invoice_id": invoice_id, "subscription_id": after["subscription_id"],
                    "subscriber_id": after["subscriber_id"], "currency": after["currency"],
                    "issued_at": after["issued_at"], "issued_position": after["position"],
                    "at": end[0], "recorded_at": end[1], "position": end[2], "event_id": end[3],
                    "outstanding": owed, "until": None, "until_recorded": None,
                    "until_position": None, "until_event_id": None}
            self.rows.append(span)
            self.opened[invoice_id] = span

    def write(self, tx: ViewCursor) -> None:
        """End the stored spans first: the page's new ones have no end either."""
        tx.executemany("UPDATE view_receivables SET until = ?, until_recorded = ?, until_position = ?,"
                       " until_event_id = ? WHERE invoice_id = ? AND until IS NULL",
                       [(*end, invoice_id) for invoice_id, end in self.ended.items()])
        tx.insert("view_receivables", SPAN_COLUMNS,
                  [tuple(row[c] for c in SPAN_COLUMNS) for row in self.rows])
