"""Stripe's webhooks read into the ledger's notices (``commands/gateways/stripe_events.py``):
the signature checked by Stripe's own SDK, each recorded type and what it becomes."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe

from subledger.commands.gateways.notices import GatewayNotice
from subledger.commands.gateways.stripe_events import notice_of, verify
from subledger.domain.errors import GatewayEventMalformed, GatewaySignatureInvalid

SECRET = "whsec_test"
CREATED = 1767225600  # 2026-01-01T00:00:00Z


def _event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": "evt_1", "type": kind, "created": CREATED, "data": {"object": obj}}


def _dispute(status: str) -> dict[str, Any]:
    return {"id": "dp_1", "amount": 500, "currency": "eur", "status": status, "reason": "general",
            "charge": {"id": "ch_1", "object": "charge"}, "payment_intent": "pi_1"}


def test_a_body_signed_with_the_secret_is_read_and_any_change_to_it_is_refused() -> None:
    body = json.dumps(_event("charge.dispute.created", _dispute("needs_response")))
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    assert verify(body.encode(), header, SECRET)["id"] == "evt_1"
    with pytest.raises(GatewaySignatureInvalid):
        verify(body.replace("500", "5000").encode(), header, SECRET)
    with pytest.raises(GatewaySignatureInvalid):
        verify(body.encode(), None, SECRET)
    old = stripe.WebhookSignature.generate_signature_header(body, SECRET, int(time.time()) - 600)
    with pytest.raises(GatewaySignatureInvalid):
        verify(body.encode(), old, SECRET)


def test_a_signed_body_that_is_not_an_event_is_malformed() -> None:
    for body in ("not json", "[1, 2]"):
        header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
        with pytest.raises(GatewayEventMalformed):
            verify(body.encode(), header, SECRET)


@pytest.mark.parametrize(("status", "outcome"), [("lost", "lost"), ("won", "won"),
                                                 ("warning_closed", "won")])
def test_a_closed_dispute_is_lost_only_when_stripe_says_lost(status: str, outcome: str) -> None:
    notice = notice_of(_event("charge.dispute.closed", _dispute(status)))
    assert notice == GatewayNotice(kind="dispute_closed", occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
                                   ref="dp_1", charge_refs=("pi_1", "ch_1"), amount=500,
                                   currency="EUR", outcome=outcome)


def test_only_a_refund_that_went_through_and_the_ledger_did_not_ask_for_is_a_notice() -> None:
    refund = {"id": "re_1", "amount": 200, "currency": "usd", "payment_intent": "pi_1",
              "status": "succeeded", "reason": "duplicate", "metadata": {}}
    assert notice_of(_event("refund.created", refund)).kind == "refunded"  # type: ignore[union-attr]
    assert notice_of(_event("refund.created", {**refund, "status": "failed"})) is None
    ours = {**refund, "metadata": {"subledger_refund_id": "subledger-1"}}
    assert notice_of(_event("refund.created", ours)) is None


def test_a_card_expiring_in_december_stops_working_on_january_first() -> None:
    card = {"id": "card_1", "customer": "cus_1", "exp_month": 12, "exp_year": 2026}
    notice = notice_of(_event("customer.source.expiring", card))
    assert notice is not None
    assert notice.tokens == ("card_1", "cus_1:card_1")
    assert notice.expires_at == datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(GatewayEventMalformed):
        notice_of(_event("customer.source.expiring", {**card, "exp_month": 13}))


def test_other_types_are_nothing_to_record() -> None:
    assert notice_of(_event("invoice.paid", {"id": "in_1"})) is None
    assert notice_of(_event("charge.dispute.updated", _dispute("under_review"))) is None


def test_an_amount_in_stripes_units_becomes_the_ledgers_minor_units() -> None:
    refund = {"id": "re_1", "amount": 500000, "currency": "huf", "payment_intent": "pi_1",
              "status": "succeeded", "metadata": {}}
    assert notice_of(_event("refund.created", refund)).amount == 5000  # type: ignore[union-attr]
    dispute = {**_dispute("lost"), "amount": 1230, "currency": "kwd"}
    assert notice_of(_event("charge.dispute.closed", dispute)).amount == 1230  # type: ignore[union-attr]
    with pytest.raises(GatewayEventMalformed, match="finer than the ledger's"):
        notice_of(_event("refund.created", {**refund, "amount": 500050}))


@pytest.mark.parametrize("kind", ["charge.refund.updated", "refund.updated", "refund.failed"])
def test_a_refund_that_failed_or_was_canceled_is_a_notice_whoever_asked_for_it(kind: str) -> None:
    refund = {"id": "re_1", "amount": 200, "currency": "usd", "payment_intent": "pi_1",
              "charge": "ch_1", "status": "failed", "failure_reason": "lost_or_stolen_card",
              "metadata": {"subledger_refund_id": "subledger-1"}}
    assert notice_of(_event(kind, refund)) == GatewayNotice(
        kind="refund_failed", occurred_at=datetime(2026, 1, 1, tzinfo=UTC), ref="re_1",
        charge_refs=("pi_1", "ch_1"), amount=200, currency="USD", reason="lost_or_stolen_card")
    canceled = notice_of(_event(kind, {**refund, "status": "canceled", "failure_reason": None}))
    assert canceled is not None and canceled.reason == "canceled"
    for status in ("pending", "succeeded", "requires_action"):
        assert notice_of(_event(kind, {**refund, "status": status})) is None
