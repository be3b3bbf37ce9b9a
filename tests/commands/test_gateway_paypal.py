"""The PayPal gateway, through the official SDK, against FakePayPal (a local HTTP server)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fakes.paypal import CLIENT_ID, CLIENT_SECRET, FakePayPal

from subledger.commands.gateways import (
    ChargeRequest,
    ChargeResult,
    GatewayUnavailable,
    PaymentGateway,
    RefundRequest,
    RefundResult,
)
from subledger.commands.gateways.paypal import PayPalGateway


@pytest.fixture
def fake() -> Iterator[FakePayPal]:
    with FakePayPal() as server:
        yield server


@pytest.fixture
def gateway(fake: FakePayPal) -> PayPalGateway:
    return PayPalGateway(CLIENT_ID, CLIENT_SECRET, api_base=fake.url, timeout=5)


def charge(token: str = "card_ok", *, key: str = "subledger-c1", amount: int = 1999,
           currency: str = "USD") -> ChargeRequest:
    return ChargeRequest(idempotency_key=key, amount=amount, currency=currency, token=token,
                         customer_ref="sub-1", description="subscription s invoice i",
                         metadata={"invoice_id": "inv-1"})


def refund(capture: str, *, key: str = "subledger-r1", amount: int = 500) -> RefundRequest:
    return RefundRequest(idempotency_key=key, charge_gateway_ref=capture, amount=amount,
                         currency="USD", reason="goodwill")


def test_the_gateway_is_named_paypal_and_implements_the_port(gateway: PayPalGateway) -> None:
    port: PaymentGateway = gateway
    assert port.name == "paypal"


def test_missing_credentials_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="SUBLEDGER_PAYPAL_CLIENT_SECRET"):
        PayPalGateway(CLIENT_ID, " ")


def test_a_charge_creates_and_captures_an_order_with_the_vaulted_card_and_answers_the_capture_id(
    gateway: PayPalGateway, fake: FakePayPal,
) -> None:
    result = gateway.charge(charge(amount=4200, key="subledger-c9"))

    [capture] = fake.captures.values()
    assert result == ChargeResult(succeeded=True, gateway_ref=capture["id"])
    [sent] = fake.requests_to("POST", "/v2/checkout/orders")
    body = sent.json()
    assert body["intent"] == "CAPTURE"
    assert body["purchase_units"][0]["amount"] == {"currency_code": "USD", "value": "42.00"}
    assert body["purchase_units"][0]["invoice_id"] == "subledger-c9"
    assert body["payment_source"]["card"]["vault_id"] == "card_ok"
    assert body["payment_source"]["card"]["stored_credential"]["payment_initiator"] == "MERCHANT"
    assert sent.headers["paypal-request-id"] == "subledger-c9"
    assert sent.headers["authorization"].startswith("Bearer A21AA")


def test_a_paypal_wallet_token_charges_the_vaulted_wallet(gateway: PayPalGateway, fake: FakePayPal) -> None:
    assert gateway.charge(charge("paypal:paypal_ok")).succeeded
    [sent] = fake.requests_to("POST", "/v2/checkout/orders")
    assert sent.json()["payment_source"] == {"paypal": {"vault_id": "paypal_ok"}}


@pytest.mark.parametrize(("amount", "currency", "value"), [(500, "JPY", "500"), (150000, "TWD", "1500"),
                                                           (5, "EUR", "0.05")])
def test_amounts_are_decimal_strings_in_paypals_decimals(
    gateway: PayPalGateway, fake: FakePayPal, amount: int, currency: str, value: str,
) -> None:
    gateway.charge(charge(amount=amount, currency=currency))
    [sent] = fake.requests_to("POST", "/v2/checkout/orders")
    assert sent.json()["purchase_units"][0]["amount"] == {"currency_code": currency, "value": value}


def test_cents_of_twd_which_paypal_cannot_take_are_a_decline_without_a_call(
    gateway: PayPalGateway, fake: FakePayPal,
) -> None:
    assert gateway.charge(charge(amount=150050, currency="TWD")) == ChargeResult(False, None, "invalid_amount")
    assert fake.requests == []


@pytest.mark.parametrize(("token", "code"), [
    ("card_5120", "insufficient_funds"), ("card_5400", "expired_card"), ("card_0500", "card_declined"),
    ("card_9500", "fraudulent"), ("card_7777", "card_declined"),
    ("paypal:paypal_declined", "card_declined"), ("paypal:paypal_action", "authentication_required"),
    ("card_unknown_vault_id", "card_declined"), ("no-such-vault-id", "invalid_token"),
])
def test_a_decline_carries_the_ledgers_code_for_paypals(gateway: PayPalGateway, token: str, code: str) -> None:
    result = gateway.charge(charge(token))
    assert (result.succeeded, result.decline_code) == (False, code)


def test_a_declined_card_capture_keeps_the_capture_id(gateway: PayPalGateway, fake: FakePayPal) -> None:
    result = gateway.charge(charge("card_5120"))
    [capture] = fake.captures.values()
    assert result.gateway_ref == capture["id"] and capture["status"] == "DECLINED"


def test_an_order_waiting_for_the_payers_3ds_is_a_decline_authentication_required_every_time(
    gateway: PayPalGateway, fake: FakePayPal,
) -> None:
    declined = ChargeResult(False, None, "authentication_required")
    assert gateway.charge(charge("card_3ds", key="subledger-c1")) == declined
    assert gateway.charge(charge("card_3ds", key="subledger-c1")) == declined
    assert len(fake.orders) == 1 and fake.captured() == 0


def test_a_retried_charge_answers_the_first_order_and_captures_once(gateway: PayPalGateway, fake: FakePayPal) -> None:
    first = gateway.charge(charge(key="subledger-c1"))
    again = gateway.charge(charge(key="subledger-c1"))
    assert again == first
    assert len(fake.orders) == 1 and fake.captured() == 1999


def test_after_a_timeout_the_retry_answers_the_capture_paypal_made(fake: FakePayPal) -> None:
    gateway = PayPalGateway(CLIENT_ID, CLIENT_SECRET, api_base=fake.url, timeout=0.5)
    gateway.charge(charge(key="subledger-warm"))  # fetches the OAuth token
    fake.hang_next(seconds=3)
    with pytest.raises(GatewayUnavailable, match="Timeout"):
        gateway.charge(charge(key="subledger-c1"))
    assert gateway.charge(charge(key="subledger-c1")).succeeded
    assert len(fake.orders) == 2 and fake.captured() == 2 * 1999


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_server_error_is_unavailable_logged_as_a_warning_and_the_retry_captures_once(
    gateway: PayPalGateway, fake: FakePayPal, status: int, caplog: pytest.LogCaptureFixture,
) -> None:
    gateway.charge(charge(key="subledger-warm"))
    fake.fail_next(status=status)
    with caplog.at_level(logging.WARNING, logger="subledger.commands.gateways.paypal"):
        with pytest.raises(GatewayUnavailable):
            gateway.charge(charge(key="subledger-c1"))
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert gateway.charge(charge(key="subledger-c1")).succeeded
    assert fake.captured() == 2 * 1999


def test_wrong_credentials_are_unavailable_and_logged_as_an_error(
    fake: FakePayPal, caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = PayPalGateway(CLIENT_ID, "not-the-secret", api_base=fake.url, timeout=5)
    with caplog.at_level(logging.WARNING, logger="subledger.commands.gateways.paypal"):
        with pytest.raises(GatewayUnavailable):
            gateway.charge(charge())
    assert fake.orders == {}
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "not-the-secret" not in caplog.text


def test_an_unreachable_paypal_is_unavailable() -> None:
    with FakePayPal() as server:
        url = server.url
    gateway = PayPalGateway(CLIENT_ID, CLIENT_SECRET, api_base=url, timeout=2)
    with pytest.raises(GatewayUnavailable):
        gateway.charge(charge())
    with pytest.raises(GatewayUnavailable):
        gateway.refund(refund("CAPTURE1"))


@pytest.fixture
def captured(gateway: PayPalGateway) -> str:
    result = gateway.charge(charge(amount=1999, key="subledger-paid"))
    assert result.succeeded and result.gateway_ref
    return result.gateway_ref


def test_a_refund_refunds_the_capture_under_the_refunds_request_id(
    gateway: PayPalGateway, fake: FakePayPal, captured: str,
) -> None:
    result = gateway.refund(refund(captured, key="subledger-r7", amount=700))
    [made] = fake.refunds.values()
    assert result == RefundResult(True, made["id"])
    [sent] = fake.requests_to("POST", f"/v2/payments/captures/{captured}/refund")
    assert sent.json()["amount"] == {"currency_code": "USD", "value": "7.00"}
    assert sent.headers["paypal-request-id"] == "subledger-r7"


def test_partial_refunds_up_to_the_capture_then_paypals_refusal(
    gateway: PayPalGateway, fake: FakePayPal, captured: str,
) -> None:
    assert gateway.refund(refund(captured, key="r1", amount=1500)).succeeded
    assert gateway.refund(refund(captured, key="r2", amount=500)) == RefundResult(
        False, None, "refund_amount_exceeded")
    assert gateway.refund(refund(captured, key="r3", amount=499)).succeeded
    assert gateway.refund(refund(captured, key="r4", amount=1)) == RefundResult(
        False, None, "capture_fully_refunded")
    assert fake.refunded() == 1999


def test_a_retried_refund_refunds_once(gateway: PayPalGateway, fake: FakePayPal, captured: str) -> None:
    assert gateway.refund(refund(captured)) == gateway.refund(refund(captured))
    assert fake.refunded() == 500


def test_a_refund_of_an_unknown_capture_fails_with_paypals_issue(gateway: PayPalGateway) -> None:
    assert gateway.refund(refund("NOSUCHCAPTURE")) == RefundResult(False, None, "invalid_resource_id")


def test_a_refund_of_nothing_fails_without_a_call(gateway: PayPalGateway, fake: FakePayPal) -> None:
    assert gateway.refund(refund("CAPTURE1", amount=0)) == RefundResult(False, None, "invalid_amount")
    assert fake.requests == []
