"""The numbers of the documents the ledger issues: invoices and credit notes.

A document's number is ``<prefix>-<YYYY>-<NNNNNN>``: its series is the prefix and the UTC
year of the day it was issued (the ``recorded_at`` of its event), and ``NNNNNN`` is one more
than the number of documents of that series before it in the log's order. Numbers are
sequential with no gap and no duplicate; a voided invoice keeps its number. The prefixes
are fixed: a number handed to a customer never changes, and a configurable prefix would
renumber every past document on the next rebuild (see docs/decisions.md).
"""

from __future__ import annotations

from datetime import datetime

from .time import as_utc

INVOICE_PREFIX = "SL"
CREDIT_NOTE_PREFIX = "CN"
NUMBER = r"^(SL|CN)-[0-9]{4}-[0-9]{6,}$"
"""A document number as written (six digits at least; a seventh from the millionth on)."""


def series(prefix: str, issued: datetime) -> str:
    """The series a document issued at ``issued`` (its ``recorded_at``) belongs to."""
    return f"{prefix}-{as_utc(issued).year:04d}"


def document_number(series_name: str, sequence: int) -> str:
    """The ``sequence``-th number of a series (from 1)."""
    if sequence < 1:
        raise ValueError("a series is numbered from 1")
    return f"{series_name}-{sequence:06d}"
