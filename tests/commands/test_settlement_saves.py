"""What a settlement saves and answers, on both stores: the answer of a command whose later
save lost a race is the state its own saves recorded; a command with nothing due before it
decides once, on the subscription it loaded; a registration reads nothing before its save."""

from __future__ import annotations

from typing import Any

from fakes.gateways import RacedGateway
from support.factories import utc
from support.ledger import CARD, add_plan, add_subscriber, log_types

from subledger.bootstrap import ledger_env
from subledger.commands.ledger import Ledger
from subledger.config import Settings

JAN_31 = utc(2026, 1, 31)


def test_a_change_whose_charge_outcome_loses_a_race_answers_the_state_its_decision_saved(
    settings: Settings, other_ledger: Ledger,
) -> None:
    gateway = RacedGateway()
    ledger = Ledger(ledger_env(settings), gateways={"sandbox": gateway})
    try:
        add_plan(ledger)
        ada = add_subscriber(ledger, token=CARD)
        sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
        # While the proration is at the gateway, another process schedules a cancellation
        # (taking the charge due first, under the same gateway key).
        gateway.meanwhile = lambda: other_ledger.subscriptions.cancel(
            sub.id, when="period_end", effective_at=utc(2026, 2, 11))

        answer = ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 2, 10))
    finally:
        ledger.close()

    # Signup (3 events), then this change and its invoice (2): its charge was recorded by
    # the other writer, whose cancellation this answer does not show.
    assert (answer.version, answer.quantity, answer.cancel_at) == (5, 2, None)
    assert log_types(other_ledger, sub.id) == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeSucceeded", "SubscriptionChanged",
        "InvoiceIssued", "ChargeSucceeded", "CancellationScheduled",
    ]


def _a_change_that_records_what_it_decided_on(ledger: Ledger) -> tuple[Any, list[Any], Any]:
    """A paying subscription started on Jan 31, loaded; the decisions it is given; and a
    decision (quantity 3, now) that records the subscription it was made on."""
    add_plan(ledger)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    decided: list[Any] = []

    def decide(s: Any, effective: Any, now: Any) -> None:
        decided.append(s)
        s.change(terms=None, quantity=3, when="now", effective_at=effective, recorded_at=now)

    return ledger.subscriptions.get(sub.id), decided, decide


def test_a_command_with_nothing_due_before_it_decides_once_on_the_subscription_it_loaded(
    ledger: Ledger,
) -> None:
    loaded, decided, decide = _a_change_that_records_what_it_decided_on(ledger)

    answer, _ = ledger.settlement.decide(loaded, utc(2026, 2, 10), utc(2026, 2, 10), decide, None)

    assert decided == [loaded] and answer.quantity == 3


def test_a_command_with_a_charge_due_before_it_is_tried_on_a_copy_first(ledger: Ledger) -> None:
    loaded, decided, decide = _a_change_that_records_what_it_decided_on(ledger)

    # A month later the renewal and its charge are due first.
    ledger.settlement.decide(loaded, utc(2026, 3, 10), utc(2026, 3, 10), decide, None)

    assert len(decided) == 2 and decided[0] is not loaded
    assert log_types(ledger, loaded.id)[3:6] == ["SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded"]


def test_a_registration_reads_no_data_key_before_its_save(ledger: Ledger) -> None:
    read: list[Any] = []
    recorder = ledger.store.recorder
    select = recorder.select_data_key

    def counted(subscriber_id: Any) -> Any:
        read.append(subscriber_id)
        return select(subscriber_id)

    recorder.select_data_key = counted  # type: ignore[method-assign]
    try:
        ada = add_subscriber(ledger)
        ledger.subscribers.change_details(ada.id, {"name": "Ada L."}, effective_at=utc(2026, 1, 2))
    finally:
        del recorder.select_data_key  # type: ignore[attr-defined]

    assert read == [ada.id]  # the change of details only
