"""A provider's notice that a refund failed after it was recorded as issued
(``commands/gateway_notices.py``), run as a write under the provider's event id, on SQLite
and PostgreSQL: recorded once as ``RefundReversed``, for a refund made in the provider's
dashboard and for one the ledger asked for itself; anything else is ignored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from support.ledger import FakeClock, add_plan, log_envelopes, log_types

from subledger.commands.gateways.notices import REFUND_FAILED, REFUNDED, GatewayNotice
from subledger.commands.idempotency import IdempotencyKey
from subledger.commands.ledger import Ledger
from subledger.commands.notice_writes import RecordGatewayNotice
from subledger.contract.bodies import charge_body
from subledger.domain.subscription import Subscription


def _paid(ledger: Ledger) -> tuple[Subscription, str, str]:
    """A 10.00 signup paid through the sandbox: (subscription, charge id, its reference)."""
    add_plan(ledger, "basic")
    who = ledger.subscribers.register(email="ada@example.com", name="Ada")
    ledger.subscribers.set_payment_method(who.id, gateway="sandbox", token="tok_visa")
    sub = ledger.subscriptions.start(who.id, plan_id="basic")
    [(charge_id, charge)] = sub.charges.items()
    return sub, charge_id, charge["gateway_ref"]


def _send(ledger: Ledger, clock: FakeClock, event_id: str, kind: str, ref: str, charge_ref: str,
          **fields: Any) -> dict[str, Any]:
    notice = GatewayNotice(kind=kind, occurred_at=clock.now - timedelta(seconds=1), ref=ref,
                           charge_refs=(charge_ref,), amount=fields.pop("amount", 400),
                           currency="USD", **fields)
    command = RecordGatewayNotice.of("sandbox", event_id, f"test.{kind}", notice)
    return ledger.execute(command, IdempotencyKey("gateway:sandbox", event_id)).body  # type: ignore[no-any-return]


def _charge(ledger: Ledger, charge_id: str) -> dict[str, Any]:
    """``GET /charges/{charge_id}``'s body."""
    return charge_body(ledger.payments.charged_subscription(charge_id), charge_id)


def test_a_dashboard_refund_that_failed_is_reversed_once(clocked_ledger: Ledger, clock: FakeClock) -> None:
    sub, charge_id, charge_ref = _paid(clocked_ledger)
    clock.advance(days=2)
    assert _send(clocked_ledger, clock, "evt_1", REFUNDED, "re_1", charge_ref)["outcome"] == "recorded"
    clock.advance(days=3)
    failed = _send(clocked_ledger, clock, "evt_2", REFUND_FAILED, "re_1", charge_ref,
                   reason="expired_or_canceled_card")
    assert failed["outcome"] == "recorded", failed
    [issued] = log_envelopes(clocked_ledger, types=("RefundIssued",))
    [reversed_] = log_envelopes(clocked_ledger, types=("RefundReversed",))
    assert reversed_["data"] | {"reversal_id": None} == {
        "reversal_id": None, "refund_id": issued["data"]["refund_id"], "charge_id": charge_id,
        "amount": 400, "currency": "USD", "gateway": "sandbox", "gateway_ref": "re_1",
        "failure_code": "expired_or_canceled_card"}
    assert reversed_["effective_at"] > issued["effective_at"]
    charge = _charge(clocked_ledger, charge_id)
    assert (charge["refunded"], charge["refundable"]) == (0, 1000)
    # the same notice again, or another one about the same refund: nothing more
    before = log_types(clocked_ledger)
    assert _send(clocked_ledger, clock, "evt_2", REFUND_FAILED, "re_1", charge_ref,
                 reason="expired_or_canceled_card")["outcome"] == "recorded"
    assert _send(clocked_ledger, clock, "evt_3", REFUND_FAILED, "re_1", charge_ref,
                 reason="unknown")["outcome"] == "already_recorded"
    assert log_types(clocked_ledger) == before


def test_the_ledgers_own_refund_that_failed_later_is_reversed(clocked_ledger: Ledger,
                                                               clock: FakeClock) -> None:
    _sub, charge_id, charge_ref = _paid(clocked_ledger)
    clock.advance(days=1)
    _, refund_id = clocked_ledger.payments.refund_charge(charge_id, amount=300)
    [issued] = log_envelopes(clocked_ledger, types=("RefundIssued",))
    clock.advance(days=1)
    answer = _send(clocked_ledger, clock, "evt_1", REFUND_FAILED, issued["data"]["gateway_ref"],
                   charge_ref, amount=300, reason="lost_or_stolen_card")
    assert answer["outcome"] == "recorded", answer
    [reversed_] = log_envelopes(clocked_ledger, types=("RefundReversed",))
    assert (reversed_["data"]["refund_id"], reversed_["data"]["amount"]) == (refund_id, 300)
    assert _charge(clocked_ledger, charge_id)["refundable"] == 1000


def test_a_failed_refund_the_ledger_never_recorded_is_ignored(clocked_ledger: Ledger,
                                                              clock: FakeClock) -> None:
    _sub, _charge_id, charge_ref = _paid(clocked_ledger)
    before = log_types(clocked_ledger)
    for event_id, charge in (("evt_1", charge_ref), ("evt_2", "sb_ch_unknown")):
        answer = _send(clocked_ledger, clock, event_id, REFUND_FAILED, "re_unknown", charge,
                       reason="unknown")
        assert answer["outcome"] == "ignored", answer
    assert log_types(clocked_ledger) == before
