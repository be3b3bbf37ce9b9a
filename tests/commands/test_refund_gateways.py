"""Refunds go back through the gateway that took the charge, on both stores: a refund of a
charge whose gateway is no longer configured is refused at once, rather than waiting
forever for that gateway with every later command on its subscription."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support.factories import utc
from support.ledger import add_plan, log_envelopes, paying_subscriber

from subledger.bootstrap import ledger_env
from subledger.commands.gateways.sandbox import SandboxGateway
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.errors import UnknownGateway

APRIL_1 = utc(2026, 4, 1)


@pytest.fixture
def ledger_with(settings: Settings) -> Any:
    """Makes ledgers on the store under test with the named gateways (sandboxes all)."""
    made: list[Ledger] = []

    def make(*names: str) -> Ledger:
        made.append(Ledger(ledger_env(settings), gateways={n: SandboxGateway() for n in names}))
        return made[-1]

    yield make
    for ledger in made:
        ledger.close()


def _paid_by_wire(ledger_with: Callable[..., Ledger]) -> tuple[Ledger, Any, str]:
    """A subscription with a 30.00 payment recorded through gateway ``wire``, then a ledger
    on the same store whose configuration no longer has ``wire``."""
    before = ledger_with("sandbox", "wire")
    add_plan(before, "pro", amount=4900)
    ada = paying_subscriber(before, "ada@example.com")
    sub = before.subscriptions.start(ada.id, plan_id="pro", effective_at=APRIL_1)
    _, charge_id = before.payments.record_charge(sub.id, amount=3000, currency="USD",
                                                 gateway="wire", gateway_ref="wire_1",
                                                 effective_at=utc(2026, 4, 2))
    return ledger_with("sandbox"), sub, charge_id


def test_a_refund_through_a_gateway_no_longer_configured_is_refused(ledger_with) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, charge_id = _paid_by_wire(ledger_with)
    before = log_envelopes(ledger)

    with pytest.raises(UnknownGateway, match="wire"):
        ledger.payments.refund_charge(charge_id, amount=1000, effective_at=utc(2026, 4, 3))

    assert log_envelopes(ledger) == before
    canceled = ledger.subscriptions.cancel(sub.id, when="now", reason=None,
                                           effective_at=utc(2026, 4, 4))
    assert canceled.status == "canceled"


def test_a_credit_note_refunded_through_a_gateway_no_longer_configured_is_refused(
        ledger_with) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, charge_id = _paid_by_wire(ledger_with)
    invoice_id = ledger.subscriptions.get(sub.id).charges[charge_id]["invoice_id"]
    before = log_envelopes(ledger)

    with pytest.raises(UnknownGateway, match="wire"):
        ledger.corrections.issue_credit_note(invoice_id, settlement="refund",
                                             effective_at=utc(2026, 4, 3))

    assert log_envelopes(ledger) == before


def test_a_refund_through_a_configured_gateway_is_sent(ledger_with) -> None:  # type: ignore[no-untyped-def]
    ledger, sub, charge_id = _paid_by_wire(ledger_with)
    again = ledger_with("sandbox", "wire")

    loaded, refund_id = again.payments.refund_charge(charge_id, amount=1000,
                                                     effective_at=utc(2026, 4, 3))

    assert loaded.refund_status(refund_id)["status"] == "succeeded"
