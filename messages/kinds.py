"""The messages a subscriber receives, and which of them are marketing (sent only with
their consent: ``MarketingConsentChanged``)."""

from __future__ import annotations

RECEIPT = "receipt"
PAYMENT_FAILED = "payment_failed"
SUBSCRIPTION_CANCELED = "subscription_canceled"
TRIAL_ENDING = "trial_ending"
RENEWAL_REMINDER = "renewal_reminder"
WIN_BACK = "win_back"
KINDS = (RECEIPT, PAYMENT_FAILED, SUBSCRIPTION_CANCELED, TRIAL_ENDING, RENEWAL_REMINDER, WIN_BACK)

MARKETING = frozenset({RENEWAL_REMINDER, WIN_BACK})
"""Sent only to subscribers who have not opted out; every other kind is about their
payments or their subscription and is sent either way."""

TRIAL_ENDING_DAYS = 3
"""The trial-ending notice goes this many days before the trial ends."""
