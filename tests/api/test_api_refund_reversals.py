"""A refund that Stripe reports failed after it was announced (``charge.refund.updated``,
``refund.updated``, ``refund.failed``), over real HTTP and signed as Stripe signs it, on
SQLite and PostgreSQL: reversed once, the charge refundable again, cash and revenue back in
the reversal's own bucket, the invoice's refunded amount restored."""

from __future__ import annotations

from typing import Any

import pytest
from support.ledger import log_envelopes, log_types
from support.stripe_shop import Shop
from support.stripe_shop import send_stripe as _send
from support.stripe_shop import stripe_event as _event

from subledger.bootstrap import build_projector


def _refund(shop: Shop, ref: str, status: str, amount: int = 500, **fields: Any) -> dict[str, Any]:
    return {"id": ref, "object": "refund", "amount": amount, "currency": "usd", "charge": "ch_1",
            "payment_intent": shop.intent, "status": status, "metadata": {}, **fields}


def _figures(shop: Shop) -> tuple[dict[str, Any], dict[str, Any]]:
    """The revenue report over the charge's day and the next, and the charge's invoice."""
    projector = build_projector(shop.settings, shop.ledger)
    try:
        projector.run_once()
        paid = log_envelopes(shop.ledger, types=("ChargeSucceeded",))[0]["effective_at"][:10]
        report = shop.http.get("/reports/revenue", params={"from": paid, "to": paid,
                                                            "interval": "day"}).json()
        invoice = shop.http.get(f"/subscribers/{shop.subscriber_id}/invoices").json()["items"][0]
    finally:
        projector.close()
        projector.store.close()
    return report, invoice


@pytest.mark.parametrize("kind", ["charge.refund.updated", "refund.updated", "refund.failed"])
def test_a_dashboard_refund_that_failed_is_reversed_once(shop: Shop, kind: str) -> None:
    created = _send(shop, _event("refund.created", _refund(shop, "re_dash", "pending"), "evt_1"))
    assert created.json()["outcome"] == "recorded", created.text
    assert shop.http.get(f"/charges/{shop.charge_id}").json()["refundable"] == 1400
    body = _event(kind, _refund(shop, "re_dash", "failed", failure_reason="expired_or_canceled_card"),
                  "evt_2")
    failed = _send(shop, body)
    assert failed.status_code == 200, failed.text
    assert (failed.json()["outcome"], failed.json()["subscription_id"]) == ("recorded", shop.subscription_id)
    [issued] = log_envelopes(shop.ledger, types=("RefundIssued",))
    [reversed_] = log_envelopes(shop.ledger, types=("RefundReversed",))
    assert reversed_["data"] | {"reversal_id": None} == {
        "reversal_id": None, "refund_id": issued["data"]["refund_id"], "charge_id": shop.charge_id,
        "amount": 500, "currency": "USD", "gateway": "stripe", "gateway_ref": "re_dash",
        "failure_code": "expired_or_canceled_card"}
    charge = shop.http.get(f"/charges/{shop.charge_id}").json()
    assert (charge["refunded"], charge["refundable"]) == (0, 1900)
    before = log_types(shop.ledger)
    again = _send(shop, body)
    assert (again.headers["Idempotent-Replayed"], again.json()) == ("true", failed.json())
    other = _event("refund.updated", _refund(shop, "re_dash", "canceled"), "evt_3")
    assert _send(shop, other).json()["outcome"] == "already_recorded"
    assert log_types(shop.ledger) == before


def test_the_ledgers_own_pending_refund_that_failed_is_reversed(shop: Shop) -> None:
    done = shop.http.post(f"/charges/{shop.charge_id}/refunds", json={"amount": 300})
    assert done.status_code == 201, done.text
    refund = _refund(shop, done.json()["gateway_ref"], "failed", amount=300,
                     metadata={"subledger_refund_id": f"subledger-{done.json()['refund_id']}"},
                     failure_reason="lost_or_stolen_card")
    answer = _send(shop, _event("charge.refund.updated", refund, "evt_7"))
    assert answer.json()["outcome"] == "recorded", answer.text
    [reversed_] = log_envelopes(shop.ledger, types=("RefundReversed",))
    assert reversed_["data"]["refund_id"] == done.json()["refund_id"]
    assert shop.http.get(f"/charges/{shop.charge_id}").json()["refundable"] == 1900


def test_a_reversal_takes_refunded_back_and_restores_the_invoice(shop: Shop) -> None:
    _send(shop, _event("refund.created", _refund(shop, "re_dash", "succeeded"), "evt_1"))
    _send(shop, _event("refund.failed", _refund(shop, "re_dash", "failed"), "evt_2"))
    report, invoice = _figures(shop)
    [bucket] = report["buckets"]
    # the refund and its reversal in the same day: refunded nets to 0, net = collected
    assert (bucket["collected"], bucket["refunded"], bucket["net"]) == (1900, 0, 1900)
    assert (invoice["amount_paid"], invoice["refunded"]) == (1900, 0)
    [reversed_] = log_envelopes(shop.ledger, types=("RefundReversed",))
    assert reversed_["data"]["failure_code"] == "failed"  # Stripe gave no failure_reason


def test_an_update_that_is_not_a_failure_or_of_an_unknown_refund_records_nothing(shop: Shop) -> None:
    _send(shop, _event("refund.created", _refund(shop, "re_dash", "pending"), "evt_1"))
    before = log_types(shop.ledger)
    succeeded = _send(shop, _event("charge.refund.updated", _refund(shop, "re_dash", "succeeded"), "evt_2"))
    assert succeeded.json()["outcome"] == "ignored"
    unknown = _send(shop, _event("refund.failed", _refund(shop, "re_other", "failed"), "evt_3"))
    assert (unknown.status_code, unknown.json()["outcome"]) == (200, "ignored")
    assert log_types(shop.ledger) == before
    assert shop.http.get(f"/charges/{shop.charge_id}").json()["refundable"] == 1400
