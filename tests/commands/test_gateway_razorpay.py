"""The Razorpay gateway, through the official SDK, against FakeRazorpay (a local HTTP server)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

import pytest
from fakes.razorpay import CUSTOMER, KEY_ID, KEY_SECRET, FakeRazorpay

from subledger.commands.gateways import (
    ChargeRequest,
    ChargeResult,
    GatewayUnavailable,
    PaymentGateway,
    RefundRequest,
    RefundResult,
)
from subledger.commands.gateways.amounts import derived_reference
from subledger.commands.gateways.razorpay import RazorpayGateway

KEY = "subledger-1b4e28ba-2fa1-11d2-883f-0016d3cca427"


@pytest.fixture
def fake() -> Iterator[FakeRazorpay]:
    with FakeRazorpay() as server:
        yield server


@pytest.fixture
def gateway(fake: FakeRazorpay) -> RazorpayGateway:
    return RazorpayGateway(KEY_ID, KEY_SECRET, api_base=fake.url, timeout=5)


def charge(token: str = "token_ok", *, key: str = KEY, amount: int = 49900,
           currency: str = "INR") -> ChargeRequest:
    return ChargeRequest(idempotency_key=key, amount=amount, currency=currency,
                         token=f"{CUSTOMER}:{token}", customer_ref="sub-1",
                         description="subscription s invoice i", metadata={"invoice_id": "inv-1"})


def refund(payment: str, *, key: str = "subledger-r1", amount: int = 10000) -> RefundRequest:
    return RefundRequest(idempotency_key=key, charge_gateway_ref=payment, amount=amount,
                         currency="INR", reason="goodwill")


def test_the_gateway_is_named_razorpay_and_implements_the_port(gateway: RazorpayGateway) -> None:
    port: PaymentGateway = gateway
    assert port.name == "razorpay"


def test_missing_keys_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="SUBLEDGER_RAZORPAY_KEY_SECRET"):
        RazorpayGateway(KEY_ID, "")


def test_a_charge_makes_an_order_with_a_receipt_from_the_key_then_a_recurring_payment(
    gateway: RazorpayGateway, fake: FakeRazorpay,
) -> None:
    result = gateway.charge(charge())

    [payment] = fake.payments.values()
    [order] = fake.orders.values()
    assert result == ChargeResult(succeeded=True, gateway_ref=payment["id"])
    assert (order["amount"], order["currency"]) == (49900, "INR")
    assert order["receipt"] == derived_reference(KEY, 40) and len(order["receipt"]) <= 40
    [sent] = fake.requests_to("POST", "/v1/payments/create/recurring")
    body = sent.json()
    assert (body["customer_id"], body["token"], body["order_id"]) == (CUSTOMER, "token_ok", order["id"])
    assert (body["email"], body["contact"]) == ("ada@example.com", "+919000090000")
    assert payment["status"] == "captured"


def test_a_retried_charge_finds_its_order_by_receipt_and_pays_nothing_more(
    gateway: RazorpayGateway, fake: FakeRazorpay,
) -> None:
    first = gateway.charge(charge())
    again = gateway.charge(charge())
    assert again == first
    assert len(fake.orders) == 1 and fake.captured() == 49900
    assert len(fake.requests_to("POST", "/v1/payments/create/recurring")) == 1


@pytest.mark.parametrize(("token", "code"), [
    ("token_insufficient_funds", "insufficient_funds"), ("token_card_expired", "expired_card"),
    ("token_authentication_failed", "authentication_required"), ("token_something_new", "card_declined"),
])
def test_a_failed_payment_is_a_decline_with_the_ledgers_code(
    gateway: RazorpayGateway, fake: FakeRazorpay, token: str, code: str,
) -> None:
    result = gateway.charge(charge(token))
    [payment] = fake.payments.values()
    assert result == ChargeResult(False, payment["id"], code)


def test_a_retried_declined_charge_answers_the_same_decline_without_another_attempt(
    gateway: RazorpayGateway, fake: FakeRazorpay,
) -> None:
    first = gateway.charge(charge("token_insufficient_funds"))
    assert gateway.charge(charge("token_insufficient_funds")) == first
    assert len(fake.payments) == 1


@pytest.mark.parametrize("token", [f"{CUSTOMER}:nope", "token_ok", "cust_1:"])
def test_a_token_razorpay_refuses_or_that_is_not_customer_and_token_is_invalid_token(
    gateway: RazorpayGateway, token: str,
) -> None:
    request = dataclasses.replace(charge(), token=token)
    assert gateway.charge(request) == ChargeResult(False, None, "invalid_token")


def test_a_token_of_a_customer_razorpay_does_not_know_is_invalid_token_with_nothing_paid(
    gateway: RazorpayGateway, fake: FakeRazorpay,
) -> None:
    request = dataclasses.replace(charge(), token="cust_Gone000000001:token_ok")
    assert gateway.charge(request) == ChargeResult(False, None, "invalid_token")
    assert gateway.charge(request) == ChargeResult(False, None, "invalid_token")
    assert fake.payments == {}


def test_three_decimals_with_a_last_digit_razorpay_cannot_take_is_invalid_amount_without_a_call(
    gateway: RazorpayGateway, fake: FakeRazorpay,
) -> None:
    assert gateway.charge(charge(amount=295991, currency="KWD")) == ChargeResult(False, None, "invalid_amount")
    assert fake.requests == []


def test_after_a_timeout_on_the_payment_the_retry_finds_it_and_charges_once(fake: FakeRazorpay) -> None:
    gateway = RazorpayGateway(KEY_ID, KEY_SECRET, api_base=fake.url, timeout=0.5)
    fake.hang_next(seconds=3, path="/v1/payments/create/recurring")
    with pytest.raises(GatewayUnavailable, match="Timeout"):
        gateway.charge(charge())
    result = gateway.charge(charge())
    [payment] = fake.payments.values()
    assert result == ChargeResult(True, payment["id"])
    assert fake.captured() == 49900


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_unavailable_with_a_warning_and_the_retry_charges_once(
    gateway: RazorpayGateway, fake: FakeRazorpay, status: int, caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail_next(status=status, path="/v1/payments/create/recurring")
    with caplog.at_level(logging.WARNING, logger="subledger.commands.gateways.razorpay"):
        with pytest.raises(GatewayUnavailable):
            gateway.charge(charge())
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert gateway.charge(charge()).succeeded
    assert fake.captured() == 49900 and len(fake.orders) == 1


def test_wrong_keys_are_unavailable_and_logged_as_an_error(
    fake: FakeRazorpay, caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = RazorpayGateway(KEY_ID, "not-the-secret", api_base=fake.url, timeout=5)
    with caplog.at_level(logging.WARNING, logger="subledger.commands.gateways.razorpay"):
        with pytest.raises(GatewayUnavailable):
            gateway.charge(charge())
    assert fake.orders == {}
    assert [r.levelno for r in caplog.records] == [logging.ERROR]


def test_an_unreachable_razorpay_is_unavailable() -> None:
    with FakeRazorpay() as server:
        url = server.url
    gateway = RazorpayGateway(KEY_ID, KEY_SECRET, api_base=url, timeout=2)
    with pytest.raises(GatewayUnavailable):
        gateway.charge(charge())
    with pytest.raises(GatewayUnavailable):
        gateway.refund(refund("pay_1"))


@pytest.fixture
def paid(gateway: RazorpayGateway) -> str:
    result = gateway.charge(charge(amount=49900))
    assert result.succeeded and result.gateway_ref
    return result.gateway_ref


def test_a_refund_carries_a_receipt_from_its_key(gateway: RazorpayGateway, fake: FakeRazorpay, paid: str) -> None:
    result = gateway.refund(refund(paid, key="subledger-r7", amount=10000))
    [made] = fake.refunds.values()
    assert result == RefundResult(True, made["id"])
    assert (made["amount"], made["receipt"], made["payment_id"]) == (10000, "subledger-r7", paid)


def test_partial_refunds_up_to_the_payment_then_refused(gateway: RazorpayGateway, fake: FakeRazorpay, paid: str) -> None:
    assert gateway.refund(refund(paid, key="r1", amount=40000)).succeeded
    assert gateway.refund(refund(paid, key="r2", amount=10000)) == RefundResult(False, None, "amount_too_large")
    assert gateway.refund(refund(paid, key="r3", amount=9900)).succeeded
    assert gateway.refund(refund(paid, key="r4", amount=100)) == RefundResult(False, None, "charge_already_refunded")
    assert fake.refunded() == 49900


def test_a_refund_retried_after_a_timeout_finds_its_refund_by_receipt(fake: FakeRazorpay, paid: str) -> None:
    gateway = RazorpayGateway(KEY_ID, KEY_SECRET, api_base=fake.url, timeout=0.5)
    fake.hang_next(seconds=3, path=f"/v1/payments/{paid}/refund")
    with pytest.raises(GatewayUnavailable):
        gateway.refund(refund(paid))
    assert gateway.refund(refund(paid)).succeeded
    assert fake.refunded() == 10000


def test_a_refund_of_an_unknown_payment_fails(gateway: RazorpayGateway) -> None:
    assert gateway.refund(refund("pay_NoSuchPayment1")) == RefundResult(False, None, "resource_missing")


def test_a_refund_with_a_third_decimal_razorpay_cannot_take_is_invalid_amount_without_a_call(
    gateway: RazorpayGateway, fake: FakeRazorpay,
) -> None:
    paid = gateway.charge(charge(amount=295990, currency="KWD")).gateway_ref
    assert paid is not None
    sent = len(fake.requests)
    request = dataclasses.replace(refund(paid, amount=1235), currency="KWD")
    assert gateway.refund(request) == RefundResult(False, None, "invalid_amount")
    assert len(fake.requests) == sent and fake.refunded() == 0


def test_an_authorized_payment_refunded_uncaptured_is_a_decline_not_a_payment(
    gateway: RazorpayGateway, fake: FakeRazorpay,
) -> None:
    recurring = fake._recurring

    def authorized_only(body: dict) -> object:  # type: ignore[type-arg]
        answer = recurring(body)
        for payment in fake.payments.values():
            payment.update(status="authorized", captured=False)
        return answer

    fake._recurring = authorized_only  # type: ignore[method-assign]
    with pytest.raises(GatewayUnavailable, match="authorized"):
        gateway.charge(charge())
    # Never captured, Razorpay refunds the authorization on its own.
    [payment] = fake.payments.values()
    payment.update(status="refunded", amount_refunded=payment["amount"], refund_status="full")

    assert gateway.charge(charge()) == ChargeResult(False, payment["id"], "processing_error")
    assert fake.captured() == 0
