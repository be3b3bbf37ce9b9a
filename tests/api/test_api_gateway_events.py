"""Stripe's own webhooks over real HTTP (``POST /gateways/stripe/events``), signed as Stripe
signs them, about charges the ledger took through the ``stripe`` gateway (FakeStripe), on
SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
from support.ledger import log_envelopes, log_types
from support.stripe_shop import Shop
from support.stripe_shop import send_stripe as _send
from support.stripe_shop import stripe_event as _event

from subledger.bootstrap import build_projector


def _dispute(shop: Shop, status: str = "needs_response", amount: int = 1900) -> dict[str, Any]:
    return {"id": "dp_1", "object": "dispute", "amount": amount, "currency": "usd",
            "charge": "ch_1", "payment_intent": shop.intent, "reason": "fraudulent",
            "status": status}


def test_a_dispute_opened_is_recorded_once_however_often_stripe_sends_it(shop: Shop) -> None:
    body = _event("charge.dispute.created", _dispute(shop))
    first = _send(shop, body)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "recorded"
    assert first.json()["subscription_id"] == shop.subscription_id
    length = len(log_envelopes(shop.ledger))
    again = _send(shop, body)
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(log_envelopes(shop.ledger)) == length
    [disputed] = log_envelopes(shop.ledger, types=("ChargeDisputed",))
    assert disputed["data"] | {"dispute_id": None} == {
        "dispute_id": None, "charge_id": shop.charge_id, "amount": 1900, "currency": "USD",
        "gateway": "stripe", "gateway_ref": "dp_1", "reason": "fraudulent"}


def test_a_lost_dispute_is_refunded_in_cash_and_revenue_and_a_won_one_is_not(
        shop: Shop) -> None:
    assert _send(shop, _event("charge.dispute.created", _dispute(shop))).status_code == 200
    lost = _send(shop, _event("charge.dispute.closed", _dispute(shop, "lost"), "evt_2"))
    assert lost.json()["outcome"] == "recorded", lost.text
    [closed] = log_envelopes(shop.ledger, types=("DisputeClosed",))
    assert (closed["data"]["outcome"], closed["data"]["amount"]) == ("lost", 1900)
    charge = shop.http.get(f"/charges/{shop.charge_id}").json()
    assert (charge["refunded"], charge["refundable"]) == (1900, 0)
    projector = build_projector(shop.settings, shop.ledger)
    try:
        projector.run_once()
        paid = log_envelopes(shop.ledger, types=("ChargeSucceeded",))[0]["effective_at"][:10]
        report = shop.http.get("/reports/revenue", params={
            "from": paid, "to": closed["effective_at"][:10], "interval": "day"}).json()
        invoice = shop.http.get(f"/subscribers/{shop.subscriber_id}/invoices").json()["items"][0]
    finally:
        projector.close()
        projector.store.close()
    totals = [sum(b[figure] for b in report["buckets"]) for figure in ("collected", "refunded", "net")]
    assert totals == [1900, 1900, 0]
    assert (invoice["status"], invoice["amount_paid"], invoice["refunded"]) == ("paid", 1900, 1900)


def test_a_lost_dispute_of_the_whole_charge_after_a_refund_takes_what_was_left(
        shop: Shop) -> None:
    """Refunded 5.00 of 19.00, the payer disputed all 19.00 and won: the issuer gave the
    refunded 5.00 back to the seller, so 14.00 left, and the notice is recorded (refused,
    Stripe would have sent it again for days and the loss never been counted)."""
    refund = {"id": "re_dash", "object": "refund", "amount": 500, "currency": "usd",
              "charge": "ch_1", "payment_intent": shop.intent, "status": "succeeded",
              "reason": None, "metadata": {}}
    assert _send(shop, _event("refund.created", refund, "evt_r")).json()["outcome"] == "recorded"
    lost = _send(shop, _event("charge.dispute.closed", _dispute(shop, "lost"), "evt_l"))
    assert (lost.status_code, lost.json()["outcome"]) == (200, "recorded"), lost.text
    [closed] = log_envelopes(shop.ledger, types=("DisputeClosed",))
    assert closed["data"]["amount"] == 1400
    charge = shop.http.get(f"/charges/{shop.charge_id}").json()
    assert (charge["refunded"], charge["refundable"]) == (1900, 0)
    projector = build_projector(shop.settings, shop.ledger)
    try:
        projector.run_once()
        invoice = shop.http.get(f"/subscribers/{shop.subscriber_id}/invoices").json()["items"][0]
    finally:
        projector.close()
        projector.store.close()
    assert (invoice["amount_paid"], invoice["refunded"]) == (1900, 1900)


def test_a_won_dispute_moves_no_money(shop: Shop) -> None:
    won = _send(shop, _event("charge.dispute.closed", _dispute(shop, "won"), "evt_3"))
    assert won.json()["outcome"] == "recorded"
    charge = shop.http.get(f"/charges/{shop.charge_id}").json()
    assert (charge["refunded"], charge["refundable"]) == (0, 1900)


def test_a_refund_made_in_stripes_dashboard_is_a_refund_of_the_charge(shop: Shop) -> None:
    refund = {"id": "re_dash", "object": "refund", "amount": 500, "currency": "usd",
              "charge": "ch_1", "payment_intent": shop.intent, "status": "succeeded",
              "reason": "requested_by_customer", "metadata": {}}
    answer = _send(shop, _event("refund.created", refund, "evt_4"))
    assert answer.json()["outcome"] == "recorded", answer.text
    [issued] = log_envelopes(shop.ledger, types=("RefundIssued",))
    assert (issued["data"]["amount"], issued["data"]["gateway_ref"]) == (500, "re_dash")
    assert shop.http.get(f"/charges/{shop.charge_id}").json()["refundable"] == 1400


def test_stripes_notice_of_the_ledgers_own_refund_appends_nothing(shop: Shop) -> None:
    done = shop.http.post(f"/charges/{shop.charge_id}/refunds", json={"amount": 300})
    assert done.status_code == 201, done.text
    before = log_types(shop.ledger)
    refund = {"id": done.json()["gateway_ref"], "object": "refund", "amount": 300,
              "currency": "usd", "payment_intent": shop.intent, "status": "succeeded",
              "metadata": {"subledger_refund_id": "subledger-x"}}
    answer = _send(shop, _event("refund.created", refund, "evt_5"))
    assert answer.json()["outcome"] == "ignored"
    # without the metadata, the reference alone says it is known
    del refund["metadata"]
    assert _send(shop, _event("refund.created", refund, "evt_6")).json()["outcome"] \
        == "already_recorded"
    assert log_types(shop.ledger) == before


def test_a_card_about_to_expire_is_recorded_on_its_subscriber(shop: Shop) -> None:
    card = {"id": "pm_card_visa", "object": "card", "customer": "cus_ada",
            "exp_month": 12, "exp_year": 2026}
    answer = _send(shop, _event("customer.source.expiring", card, "evt_7"))
    assert answer.json()["outcome"] == "recorded", answer.text
    assert answer.json()["subscriber_id"] == shop.subscriber_id
    [expiring] = log_envelopes(shop.ledger, types=("PaymentMethodExpiring",))
    assert expiring["data"]["expires_at"] == "2027-01-01T00:00:00Z"
    assert expiring["subscriber_id"] == shop.subscriber_id


def test_a_bad_signature_is_a_400_and_records_nothing(shop: Shop) -> None:
    before = log_types(shop.ledger)
    body = _event("charge.dispute.created", _dispute(shop))
    wrong = _send(shop, body, secret="whsec_someone_else")
    assert wrong.status_code == 400
    assert wrong.json()["type"] == "/problems/gateway-signature-invalid"
    unsigned = shop.http.post("/gateways/stripe/events", content=body,
                              headers={"content-type": "application/json"})
    assert unsigned.status_code == 400
    assert log_types(shop.ledger) == before


def test_an_event_type_the_ledger_has_no_use_for_is_accepted_and_ignored(shop: Shop) -> None:
    before = log_types(shop.ledger)
    answer = _send(shop, _event("customer.created", {"id": "cus_2", "object": "customer"}))
    assert answer.status_code == 200
    assert (answer.json()["outcome"], answer.json()["event_type"]) == ("ignored", "customer.created")
    assert log_types(shop.ledger) == before


def test_a_signed_event_missing_what_its_type_needs_is_a_400(shop: Shop) -> None:
    answer = _send(shop, _event("charge.dispute.created", {"id": "dp_9", "amount": 5}))
    assert answer.status_code == 400
    assert answer.json()["type"] == "/problems/gateway-event-malformed"


def test_a_dispute_of_a_charge_the_ledger_does_not_know_is_ignored(shop: Shop) -> None:
    dispute = {**_dispute(shop), "payment_intent": "pi_elsewhere", "charge": "ch_elsewhere"}
    answer = _send(shop, _event("charge.dispute.created", dispute))
    assert answer.json()["outcome"] == "ignored"


def test_without_a_signing_secret_no_events_are_received(http: httpx.Client) -> None:
    answer = http.post("/gateways/stripe/events", json={"id": "evt_1"})
    assert answer.status_code == 404
    assert answer.json()["type"] == "/problems/gateway-events-not-received"


def test_a_notice_in_another_currency_than_its_charge_is_refused(shop: Shop) -> None:
    before = log_types(shop.ledger)
    refund = {"id": "re_yen", "object": "refund", "amount": 1900, "currency": "jpy",
              "payment_intent": shop.intent, "status": "succeeded", "metadata": {}}
    yen = _send(shop, _event("refund.created", refund, "evt_8"))
    euros = _send(shop, _event("charge.dispute.closed",
                               {**_dispute(shop, "lost"), "currency": "eur"}, "evt_9"))
    for answer in (yen, euros):
        assert answer.status_code == 422, answer.text
        assert answer.json()["type"] == "/problems/currency-mismatch"
    assert log_types(shop.ledger) == before
    assert shop.http.get(f"/charges/{shop.charge_id}").json()["refundable"] == 1900


def test_an_ignored_event_sent_again_once_its_charge_is_known_is_recorded(shop: Shop) -> None:
    refund = {"id": "re_early", "object": "refund", "amount": 500, "currency": "usd",
              "payment_intent": "pi_later", "status": "succeeded", "metadata": {}}
    body = _event("refund.created", refund, "evt_10")
    assert _send(shop, body).json()["outcome"] == "ignored"
    paid = shop.http.post(f"/subscriptions/{shop.subscription_id}/charges", json={
        "amount": 1900, "currency": "USD", "gateway": "stripe", "gateway_ref": "pi_later"})
    assert paid.status_code == 201, paid.text

    again = _send(shop, body)

    assert again.json()["outcome"] == "recorded", again.text
    assert shop.http.get(f"/charges/{paid.json()['charge_id']}").json()["refundable"] == 1400
