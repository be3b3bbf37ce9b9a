"""An invoice's status as its document shows it.

The subscription keeps ``open``, ``paid``, ``void`` and ``uncollectible`` (``invoicing``);
a document also tells an open invoice whose charge failed from one not yet attempted:
``past_due``. Void and uncollectible are final; otherwise an invoice is paid once nothing is
due (a charge succeeded, a credit note took the rest off, or it never asked for anything).
"""

from __future__ import annotations

from .invoicing import OPEN, PAID, UNCOLLECTIBLE, VOID
from .lifecycle import PAST_DUE

INVOICE_STATUSES = (OPEN, PAST_DUE, PAID, VOID, UNCOLLECTIBLE)
FINAL = frozenset({VOID, UNCOLLECTIBLE})


def invoice_status(previous: str, *, amount_due: int, failed_attempts: int) -> str:
    """The status after an event, from the status before it and what is left to pay."""
    if previous in FINAL:
        return previous
    if amount_due <= 0:
        return PAID
    return PAST_DUE if failed_attempts > 0 else OPEN
