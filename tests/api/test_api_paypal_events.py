"""PayPal's own webhooks over real HTTP (``POST /gateways/paypal/events``), signed as the
fake PayPal signs them and verified through its verify-webhook-signature, about a capture
PayPal answered ``PENDING`` (FakePayPal), on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
from fakes.paypal import CLIENT_ID, CLIENT_SECRET, FakePayPal
from support.ledger import add_plan, log_envelopes, log_types
from support.live import LiveServer
from support.paypal_shop import PayPalShop, paypal_settings, send_paypal, tampered

from subledger.bootstrap import build_api, build_ledger, build_projector, key_ring, ledger_env
from subledger.commands.gateways.paypal import PayPalGateway
from subledger.commands.ledger import Ledger
from subledger.config import Settings


def _projected(shop: PayPalShop) -> None:
    projector = build_projector(shop.settings, shop.ledger)
    try:
        projector.run_once()
    finally:
        projector.close()
        projector.store.close()


def test_a_denied_capture_is_reversed_once_however_often_paypal_sends_it(paypal_shop: PayPalShop) -> None:
    shop = paypal_shop
    denied = shop.fake.deny(shop.capture)
    first = send_paypal(shop, denied)
    assert first.status_code == 200, first.text
    assert (first.json()["outcome"], first.json()["subscription_id"]) == ("recorded", shop.subscription_id)
    length = len(log_envelopes(shop.ledger))
    again = send_paypal(shop, denied)  # PayPal's retry: a new transmission of the same event
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (200, "true")
    assert again.json() == first.json()
    assert len(log_envelopes(shop.ledger)) == length
    [reversed_] = log_envelopes(shop.ledger, types=("ChargeReversed",))
    assert reversed_["data"] | {"reversal_id": None, "next_attempt_at": None} == {
        "reversal_id": None, "charge_id": shop.charge_id, "invoice_id": shop.invoice_id,
        "amount": 1900, "currency": "USD", "gateway": "paypal", "gateway_ref": shop.capture,
        "reason": "denied", "next_attempt_at": None}
    assert log_types(shop.ledger)[-2:] == ["ChargeReversed", "SubscriptionPastDue"]


def test_after_a_denial_the_invoice_is_due_again_and_the_cash_is_not_collected(
        paypal_shop: PayPalShop) -> None:
    shop = paypal_shop
    assert send_paypal(shop, shop.fake.deny(shop.capture)).json()["outcome"] == "recorded"
    _projected(shop)
    invoice = shop.http.get(f"/invoices/{shop.invoice_id}").json()
    assert (invoice["status"], invoice["amount_due"], invoice["amount_paid"]) == ("past_due", 1900, 0)
    assert shop.http.get(f"/subscriptions/{shop.subscription_id}").json()["status"] == "past_due"
    day = log_envelopes(shop.ledger, types=("ChargeSucceeded",))[0]["effective_at"][:10]
    last = log_envelopes(shop.ledger, types=("ChargeReversed",))[0]["effective_at"][:10]
    report = shop.http.get("/reports/revenue", params={"from": day, "to": last, "interval": "day"}).json()
    assert sum(b["collected"] for b in report["buckets"]) == 0
    charge = shop.http.get(f"/charges/{shop.charge_id}").json()
    assert (charge["refunded"], charge["reversed"], charge["refundable"]) == (0, 1900, 0)


def test_a_capture_refunded_in_part_is_reversed_for_what_was_left(paypal_shop: PayPalShop) -> None:
    shop = paypal_shop
    refunded = send_paypal(shop, shop.fake.refund_in_dashboard(shop.capture, 500))
    assert refunded.json()["outcome"] == "recorded", refunded.text
    assert send_paypal(shop, shop.fake.deny(shop.capture)).json()["outcome"] == "recorded"
    [reversed_] = log_envelopes(shop.ledger, types=("ChargeReversed",))
    assert reversed_["data"]["amount"] == 1400


def test_a_bad_or_missing_signature_is_refused_and_records_nothing(paypal_shop: PayPalShop) -> None:
    shop = paypal_shop
    denied = shop.fake.deny(shop.capture)
    _body, headers = shop.fake.webhooks.signed(denied)
    length = len(log_envelopes(shop.ledger))
    changed = send_paypal(shop, denied, body=tampered(denied, id="OTHERCAPTURE"), headers=headers)
    missing = send_paypal(shop, denied, headers={"content-type": "application/json"})
    forged = send_paypal(shop, denied, headers={**headers, "PAYPAL-TRANSMISSION-SIG": "0" * 64})
    for answer in (changed, missing, forged):
        assert answer.status_code == 400, answer.text
        assert answer.json()["type"] == "/problems/gateway-signature-invalid"
    assert len(log_envelopes(shop.ledger)) == length
    # verify-webhook-signature was asked for the two with headers, not for the one without
    assert len(shop.fake.requests_to("POST", "/v1/notifications/verify-webhook-signature")) == 2


def test_an_event_sent_to_another_webhook_is_refused(paypal_shop: PayPalShop) -> None:
    shop = paypal_shop
    shop.fake.webhooks.webhook_id = "OTHERWEBHOOK1234"  # PayPal signs for the webhook it sent to
    answer = send_paypal(shop, shop.fake.deny(shop.capture))
    assert (answer.status_code, answer.json()["type"]) == (400, "/problems/gateway-signature-invalid")
    assert log_envelopes(shop.ledger, types=("ChargeReversed",)) == []


def test_a_refund_made_in_paypals_dashboard_is_a_refund_of_the_charge_once(paypal_shop: PayPalShop) -> None:
    shop = paypal_shop
    event = shop.fake.refund_in_dashboard(shop.capture, 600)
    first = send_paypal(shop, event)
    assert first.json()["outcome"] == "recorded", first.text
    assert send_paypal(shop, event).headers["Idempotent-Replayed"] == "true"
    [issued] = log_envelopes(shop.ledger, types=("RefundIssued",))
    refund_id = event["resource"]["id"]
    assert (issued["data"]["amount"], issued["data"]["gateway_ref"]) == (600, refund_id)
    assert shop.http.get(f"/charges/{shop.charge_id}").json()["refundable"] == 1300


def test_paypals_notice_of_the_ledgers_own_refund_appends_nothing(paypal_shop: PayPalShop) -> None:
    shop = paypal_shop
    done = shop.http.post(f"/charges/{shop.charge_id}/refunds", json={"amount": 300})
    assert done.status_code == 201, done.text
    [ours] = [r for r in shop.fake.refunds.values() if r["invoice_id"]]
    length = len(log_envelopes(shop.ledger))
    answer = send_paypal(shop, shop.fake.refunded_event(ours))
    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored"), answer.text
    assert len(log_envelopes(shop.ledger)) == length


def test_a_capture_the_ledger_does_not_know_is_ignored(paypal_shop: PayPalShop) -> None:
    shop = paypal_shop
    denied = shop.fake.deny(shop.capture)
    other = {**denied, "id": "WH-OTHER", "resource": {**denied["resource"], "id": "9XY00000000000000"}}
    answer = send_paypal(shop, other)
    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored"), answer.text
    assert log_envelopes(shop.ledger, types=("ChargeReversed",)) == []


def test_another_event_type_is_answered_ignored(paypal_shop: PayPalShop) -> None:
    shop = paypal_shop
    completed = {**shop.fake.deny(shop.capture), "id": "WH-DONE", "event_type": "PAYMENT.CAPTURE.COMPLETED"}
    answer = send_paypal(shop, completed)
    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored"), answer.text


def test_without_a_webhook_id_paypals_events_are_not_received(settings: Settings) -> None:
    with FakePayPal() as fake:
        configured = paypal_settings(settings, fake, webhook_id=None)
        ledger = build_ledger(configured)
        try:
            with LiveServer(build_api(configured, ledger=ledger)) as server, \
                    httpx.Client(base_url=server.url, timeout=30) as http:
                answer = http.post("/gateways/paypal/events", content=b"{}",
                                   headers={"content-type": "application/json"})
        finally:
            ledger.close()
    assert (answer.status_code, answer.json()["type"]) == (404, "/problems/gateway-events-not-received")


def test_a_denial_of_a_capture_whose_answer_was_lost_records_the_capture_then_its_reversal(
        settings: Settings) -> None:
    """PayPal took the pending capture, the answer timed out on the way back; the denial
    comes before the billing clock's next run: the ledger asks PayPal whose capture it is
    (its order's description), has the charge sent again under the same PayPal-Request-Id,
    records PayPal's answer, then the reversal (PayPal sends an answered event once)."""
    with FakePayPal() as fake:
        configured = paypal_settings(settings, fake)
        gateway = PayPalGateway(CLIENT_ID, CLIENT_SECRET, api_base=fake.url, timeout=1)
        ledger = Ledger(ledger_env(configured), gateways={"paypal": gateway}, keys=key_ring(configured))
        try:
            add_plan(ledger, "basic", amount=1900)
            who = ledger.subscribers.register(email="ada@example.com", name="Ada")
            ledger.subscribers.set_payment_method(who.id, gateway="paypal", token="paypal:paypal_pending")
            fake.hang_next(seconds=3, path="/v2/checkout/orders")
            sub = ledger.subscriptions.start(who.id, plan_id="basic")
            [capture] = fake.captures
            assert not sub.charges  # taken, not recorded
            with LiveServer(build_api(configured, ledger=ledger)) as server, \
                    httpx.Client(base_url=server.url, timeout=30) as http:
                body, headers = fake.webhooks.signed(fake.deny(capture))
                answer = http.post("/gateways/paypal/events", content=body, headers=headers)
            recorded = log_types(ledger)[-3:]
        finally:
            ledger.close()
        assert len(fake.requests_to("POST", "/v2/checkout/orders")) == 2  # asked again, same key
    assert (answer.status_code, answer.json()["outcome"]) == (200, "recorded"), answer.text
    assert answer.json()["subscription_id"] == str(sub.id)
    assert recorded == ["ChargeSucceeded", "ChargeReversed", "SubscriptionPastDue"]
