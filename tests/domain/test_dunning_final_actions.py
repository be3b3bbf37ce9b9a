"""What the dunning policy's final action does when the last retry fails: ``cancel`` leaves
the invoice owed, ``unpaid`` writes it off and keeps the subscription, ``cancel_write_off``
does both at once, never passing through a recovery."""

from __future__ import annotations

import pytest
from support.factories import (
    RECORDED_AT,
    event_names,
    pay_declined,
    plan_terms,
    replay,
    start_subscription,
    state,
    utc,
)

from subledger.domain.charges import CANCEL_WRITE_OFF, Dunning
from subledger.domain.invoicing import OPEN, UNCOLLECTIBLE
from subledger.domain.lifecycle import CANCELED
from subledger.domain.receivables import outstanding

START = utc(2026, 3, 1)


def test_cancel_write_off_writes_the_invoice_off_and_cancels_the_subscription_at_the_last_retry() -> None:
    policy = Dunning(retry_days=(1, 2), final=CANCEL_WRITE_OFF)
    sub = start_subscription(plan_terms(amount=3000), at=START)

    sub.advance_to(utc(2026, 3, 20), recorded_at=RECORDED_AT, pay=pay_declined, dunning=policy)

    names = event_names(sub.pending_events)
    assert names.count("ChargeFailed") == 3
    assert names[-2:] == ["InvoiceMarkedUncollectible", "SubscriptionCanceled"]
    assert "SubscriptionRecovered" not in names
    canceled = sub.pending_events[-1]
    assert (canceled.reason, canceled.effective_at) == ("involuntary", utc(2026, 3, 3))
    (invoice_id,) = sub.invoices
    invoice = sub.invoices[invoice_id]
    assert (sub.status, invoice["status"]) == (CANCELED, UNCOLLECTIBLE)
    assert outstanding(invoice["status"], invoice["amount_due"]) == 0
    assert sub.open_invoices == {}
    assert state(replay(sub.pending_events)) == state(sub)


@pytest.mark.parametrize("final, invoice_status", [("cancel", OPEN), ("cancel_write_off", UNCOLLECTIBLE)])
def test_both_cancelling_actions_end_the_subscription_and_differ_only_in_the_debt(
        final: str, invoice_status: str) -> None:
    sub = start_subscription(plan_terms(amount=3000), at=START)
    sub.advance_to(utc(2026, 3, 20), recorded_at=RECORDED_AT, pay=pay_declined,
                   dunning=Dunning(retry_days=(1, 2), final=final))
    (invoice_id,) = sub.invoices
    assert (sub.status, sub.invoices[invoice_id]["status"]) == (CANCELED, invoice_status)


def test_the_policy_is_written_as_its_setting() -> None:
    assert str(Dunning(retry_days=(3, 5, 7), final=CANCEL_WRITE_OFF)) == "3,5,7:cancel_write_off"
