"""``SUBLEDGER_DUNNING=...:cancel_write_off`` on both stores: when the last retry fails, the
billing clock writes the invoice off and cancels the subscription, so nothing is left owed;
``...:cancel`` leaves the same invoice owed by the canceled subscription."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from support.factories import utc
from support.ledger import add_plan, paying_subscriber, timeline

from subledger.bootstrap import build_ledger, build_projector
from subledger.commands.billing import run_billing
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.projections.receivables import aging_report
from subledger.projections.report_window import Standpoint


@pytest.fixture
def ledger_with(database_url: str) -> Iterator[Callable[[str], tuple[Ledger, Settings]]]:
    """Makes a ledger with a dunning policy (``SUBLEDGER_DUNNING``) and a 2000 plan."""
    made: list[Ledger] = []

    def make(policy: str) -> tuple[Ledger, Settings]:
        settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": database_url, "SUBLEDGER_DUNNING": policy})
        made.append(build_ledger(settings))
        add_plan(made[-1], "basic", amount=2000)
        return made[-1], settings

    yield make
    for ledger in made:
        ledger.close()


def _owed_after_dunning(ledger: Ledger, settings: Settings) -> tuple[str, int, list[str]]:
    """A declined subscriber's subscription through its dunning, then what the ledger owes:
    the subscription's status, the receivables' USD total and its last three events."""
    ada = paying_subscriber(ledger, "ada@example.com", token="tok_chargeDeclined")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 3, 1))
    summary = run_billing(ledger, utc(2026, 3, 10))
    assert summary.as_dict()["cancellations"] == 1
    projector = build_projector(settings, ledger)
    try:
        projector.run_once()
        [usd] = aging_report(projector.store, Standpoint(utc(2026, 3, 10)), "USD")["currencies"]
    finally:
        projector.close()
        projector.store.close()
    last = [name for name, _ in timeline(ledger, sub.id)[-3:]]
    return ledger.subscriptions.get(sub.id).status, usd["outstanding"], last


def test_cancel_write_off_leaves_nothing_owed_when_the_last_retry_fails(
        ledger_with: Callable[[str], tuple[Ledger, Settings]]) -> None:
    ledger, settings = ledger_with("2,4:cancel_write_off")

    assert _owed_after_dunning(ledger, settings) == (
        "canceled", 0, ["ChargeFailed", "InvoiceMarkedUncollectible", "SubscriptionCanceled"])


def test_cancel_leaves_the_invoice_owed_by_the_canceled_subscription(
        ledger_with: Callable[[str], tuple[Ledger, Settings]]) -> None:
    ledger, settings = ledger_with("2,4:cancel")

    assert _owed_after_dunning(ledger, settings) == (
        "canceled", 2000, ["ChargeFailed", "ChargeFailed", "SubscriptionCanceled"])
