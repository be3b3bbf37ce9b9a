"""Which fields of which events hold personal data (docs/business-rules.md, "Personal
data"): a subscriber's name, e-mail and external reference, a payment token, and free text
written by or about a person (a cancellation's comment, the reason in words of a refund or
of a correction).

Amounts, dates, plan ids, statuses, codes and event types are not personal. A reader that
shows or sends events outside the ledger's own answers (an export) leaves these out unless
asked.
"""

from __future__ import annotations

from collections.abc import Mapping

PERSONAL_FIELDS: Mapping[str, frozenset[str]] = {
    "SubscriberRegistered": frozenset({"email", "name", "external_ref"}),
    "SubscriberDetailsChanged": frozenset({"changes"}),
    "PaymentMethodSet": frozenset({"token"}),
    "PaymentMethodExpiring": frozenset({"token"}),
    "CancellationScheduled": frozenset({"comment"}),
    "SubscriptionCanceled": frozenset({"comment"}),
    "RefundRequested": frozenset({"reason"}),
    "RefundIssued": frozenset({"reason"}),
    # The reasons typed for a correction are words about the subscriber, as a refund's are.
    "CreditNoteIssued": frozenset({"reason"}),
    "InvoiceVoided": frozenset({"reason"}),
    "InvoiceMarkedUncollectible": frozenset({"reason"}),
    "BalanceAdjusted": frozenset({"reason"}),
}
"""event type -> the fields of its ``data`` that are personal."""

SUBSCRIBER_DETAILS = ("email", "name", "external_ref")
"""A subscriber's personal details, as registered and changed."""
