"""What a payment provider reports about a succeeded charge (``domain/disputes.py``):
disputes opened and closed, refunds made in the provider's dashboard. Figures by hand."""

from __future__ import annotations

import pytest
from support.factories import event_names, pay_ok, replay, start_subscription, utc

from subledger.domain.errors import ChargeNotFound, InvalidInput, RefundExceedsCharge
from subledger.domain.subscription import Subscription

AT = utc(2026, 4, 1)
LATER = utc(2026, 4, 10)


def _paid() -> tuple[Subscription, str]:
    """A 10.00 monthly signup on Apr 1, paid."""
    sub = start_subscription(at=AT, pay=pay_ok)
    [charge_id] = sub.charges
    return sub, charge_id


def test_a_lost_dispute_takes_its_amount_off_what_is_left_to_refund() -> None:
    sub, charge = _paid()
    assert sub.dispute_opened(charge, gateway_ref="dp_1", amount=1000, reason="fraudulent",
                              effective_at=LATER, recorded_at=LATER)
    assert sub.refundable(charge) == 1000  # held, not taken, while open
    assert sub.dispute_closed(charge, gateway_ref="dp_1", amount=1000, outcome="lost",
                              effective_at=LATER, recorded_at=LATER)
    assert sub.refundable(charge) == 0
    with pytest.raises(RefundExceedsCharge):
        sub.request_refund(charge, 1, reason=None, effective_at=LATER, recorded_at=LATER)
    assert event_names(sub.pending_events)[-2:] == ["ChargeDisputed", "DisputeClosed"]
    assert replay(sub.collect_events()).refundable(charge) == 0


def test_a_won_dispute_leaves_the_charge_whole() -> None:
    sub, charge = _paid()
    assert sub.dispute_closed(charge, gateway_ref="dp_1", amount=1000, outcome="won",
                              effective_at=LATER, recorded_at=LATER)
    assert sub.refundable(charge) == 1000


def test_the_same_notice_twice_records_once() -> None:
    sub, charge = _paid()
    args = {"gateway_ref": "dp_1", "amount": 1000, "effective_at": LATER, "recorded_at": LATER}
    assert sub.dispute_opened(charge, reason=None, **args)
    assert not sub.dispute_opened(charge, reason=None, **args)
    assert sub.dispute_closed(charge, outcome="won", **args)
    assert not sub.dispute_closed(charge, outcome="lost", **args)
    refund = {"gateway_ref": "re_1", "amount": 300, "reason": None, "effective_at": LATER,
              "recorded_at": LATER}
    assert sub.refunded_at_gateway(charge, **refund)
    assert not sub.refunded_at_gateway(charge, **refund)
    assert event_names(sub.pending_events).count("RefundIssued") == 1


def test_a_dispute_or_refund_of_a_canceled_subscription_is_still_recorded() -> None:
    sub, charge = _paid()
    sub.cancel(when="now", at=None, comment=None, effective_at=utc(2026, 4, 5), recorded_at=LATER)
    assert sub.refunded_at_gateway(charge, gateway_ref="re_1", amount=1000, reason=None,
                                   effective_at=LATER, recorded_at=LATER)
    assert sub.refundable(charge) == 0


def test_a_dispute_of_the_whole_charge_after_a_partial_refund_takes_what_was_left() -> None:
    """The payer was refunded 6.00 of 10.00 and still disputed all 10.00: the issuer gives
    the seller the refunded part back, so the lost dispute takes 4.00 and no more."""
    sub, charge = _paid()
    assert sub.refunded_at_gateway(charge, gateway_ref="re_1", amount=600, reason=None,
                                   effective_at=LATER, recorded_at=LATER)
    assert sub.dispute_closed(charge, gateway_ref="dp_1", amount=1000, outcome="lost",
                              effective_at=LATER, recorded_at=LATER)
    closed = sub.pending_events[-1]
    assert (type(closed).__name__, closed.amount) == ("DisputeClosed", 400)
    assert sub.refundable(charge) == 0
    assert sub.dispute_closed(charge, gateway_ref="dp_2", amount=1000, outcome="lost",
                              effective_at=LATER, recorded_at=LATER)  # nothing left: 0 taken
    assert sub.pending_events[-1].amount == 0
    assert replay(sub.collect_events()).refundable(charge) == 0


def test_what_the_ledger_cannot_take_is_refused() -> None:
    sub, charge = _paid()
    with pytest.raises(RefundExceedsCharge):
        sub.refunded_at_gateway(charge, gateway_ref="re_1", amount=1001, reason=None,
                                effective_at=LATER, recorded_at=LATER)
    with pytest.raises(RefundExceedsCharge):
        sub.dispute_closed(charge, gateway_ref="dp_1", amount=1001, outcome="lost",
                           effective_at=LATER, recorded_at=LATER)
    with pytest.raises(InvalidInput):
        sub.dispute_closed(charge, gateway_ref="dp_1", amount=10, outcome="tie",
                           effective_at=LATER, recorded_at=LATER)
    with pytest.raises(ChargeNotFound):
        sub.dispute_opened("no-such-charge", gateway_ref="dp_1", amount=10, reason=None,
                           effective_at=LATER, recorded_at=LATER)
