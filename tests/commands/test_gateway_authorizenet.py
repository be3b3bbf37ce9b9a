"""The Authorize.net gateway, over its JSON API with httpx, against FakeAuthorizeNet."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fakes.authorizenet import CUSTOMER, LOGIN_ID, TRANSACTION_KEY, FakeAuthorizeNet

from subledger.commands.gateways import (
    ChargeRequest,
    ChargeResult,
    GatewayUnavailable,
    PaymentGateway,
    RefundRequest,
    RefundResult,
)
from subledger.commands.gateways.amounts import derived_reference
from subledger.commands.gateways.authorizenet import AuthorizeNetGateway

KEY = "subledger-1b4e28ba-2fa1-11d2-883f-0016d3cca427"
ENDPOINT = "/xml/v1/request.api"


@pytest.fixture
def fake() -> Iterator[FakeAuthorizeNet]:
    with FakeAuthorizeNet() as server:
        yield server


@pytest.fixture
def gateway(fake: FakeAuthorizeNet) -> AuthorizeNetGateway:
    return AuthorizeNetGateway(LOGIN_ID, TRANSACTION_KEY, api_base=fake.url, timeout=5)


def charge(payment: str = "1000", *, key: str = KEY, amount: int = 1999, currency: str = "USD") -> ChargeRequest:
    return ChargeRequest(idempotency_key=key, amount=amount, currency=currency,
                         token=f"{CUSTOMER}:{payment}", customer_ref="sub-1",
                         description="subscription s invoice i")


def refund(trans_id: str, *, key: str = "subledger-r1", amount: int = 500) -> RefundRequest:
    return RefundRequest(idempotency_key=key, charge_gateway_ref=trans_id, amount=amount,
                         currency="USD", reason="goodwill")


def created(fake: FakeAuthorizeNet) -> list[dict]:  # type: ignore[type-arg]
    return [r.json()["createTransactionRequest"] for r in fake.requests
            if "createTransactionRequest" in (r.json() or {})]


def test_the_gateway_is_named_authorizenet_and_implements_the_port(gateway: AuthorizeNetGateway) -> None:
    port: PaymentGateway = gateway
    assert port.name == "authorizenet"


def test_missing_credentials_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="SUBLEDGER_AUTHORIZENET_TRANSACTION_KEY"):
        AuthorizeNetGateway(LOGIN_ID, "")


def test_a_charge_captures_the_profile_with_an_invoice_number_and_duplicate_window_from_the_key(
    gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet,
) -> None:
    result = gateway.charge(charge(amount=4200))

    [made] = fake.transactions.values()
    assert result == ChargeResult(True, made["transId"])
    [sent] = created(fake)
    request = sent["transactionRequest"]
    invoice = derived_reference(KEY, 20)
    assert (request["transactionType"], request["amount"], request["currencyCode"]) == (
        "authCaptureTransaction", "42.00", "USD")
    assert request["profile"] == {"customerProfileId": CUSTOMER, "paymentProfile": {"paymentProfileId": "1000"}}
    assert request["order"]["invoiceNumber"] == invoice == sent["refId"] and len(invoice) == 20
    assert request["transactionSettings"]["setting"] == [{"settingName": "duplicateWindow", "settingValue": "28800"}]


def test_every_charge_first_looks_its_invoice_number_up_and_a_retry_sends_nothing_more(
    gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet,
) -> None:
    first = gateway.charge(charge())
    again = gateway.charge(charge())
    assert again == first
    assert len(created(fake)) == 1 and fake.captured() == 1999
    assert [next(iter(r.json())) for r in fake.requests] == [
        "getTransactionListForCustomerRequest", "createTransactionRequest",
        "getTransactionListForCustomerRequest"]


@pytest.mark.parametrize(("payment", "code"), [("2002", "card_declined"), ("2008", "expired_card"),
                                               ("2045", "incorrect_cvc"), ("2099", "card_declined")])
def test_a_declined_transaction_is_a_decline_with_the_ledgers_code(
    gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet, payment: str, code: str,
) -> None:
    result = gateway.charge(charge(payment))
    [made] = fake.transactions.values()
    assert result == ChargeResult(False, made["transId"], code)


def test_a_profile_authorizenet_does_not_know_or_a_malformed_token_is_invalid_token(
    gateway: AuthorizeNetGateway,
) -> None:
    assert gateway.charge(charge("7777")) == ChargeResult(False, None, "invalid_token")
    bad = ChargeRequest(KEY, 1999, "USD", "not-a-profile", "sub-1", "d")
    assert gateway.charge(bad) == ChargeResult(False, None, "invalid_token")


def test_a_transaction_held_for_review_is_unavailable_until_reviewed(
    gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet,
) -> None:
    with pytest.raises(GatewayUnavailable, match="review"):
        gateway.charge(charge("4000"))
    with pytest.raises(GatewayUnavailable, match="FDSPendingReview"):
        gateway.charge(charge("4000"))
    [made] = fake.transactions.values()
    made["transactionStatus"] = "settledSuccessfully"  # approved by the merchant
    assert gateway.charge(charge("4000")) == ChargeResult(True, made["transId"])


def test_after_a_timeout_the_retry_finds_the_transaction_and_charges_once(fake: FakeAuthorizeNet) -> None:
    gateway = AuthorizeNetGateway(LOGIN_ID, TRANSACTION_KEY, api_base=fake.url, timeout=0.5)
    fake.hang_next(seconds=3, when=lambda r: b"createTransactionRequest" in r.body)
    with pytest.raises(GatewayUnavailable, match="Timeout"):
        gateway.charge(charge())
    [made] = fake.transactions.values()  # Authorize.net charged; the answer was lost

    assert gateway.charge(charge()) == ChargeResult(True, made["transId"])
    assert len(created(fake)) == 1 and fake.captured() == 1999


def test_a_duplicate_refused_by_authorizenet_answers_the_original_transaction(
    gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet,
) -> None:
    # A try that raced past the look-up: the transaction exists, the list did not show it yet.
    first = gateway.charge(charge())
    listed = fake._list
    fake._list = lambda body: listed({**body, "customerProfileId": "hidden"})  # type: ignore[method-assign]
    with pytest.raises(GatewayUnavailable, match="duplicate"):
        gateway.charge(charge())
    fake._list = listed  # type: ignore[method-assign]
    assert gateway.charge(charge()) == first
    assert fake.captured() == 1999


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_unavailable_with_a_warning_and_the_retry_charges_once(
    gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet, status: int, caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail_next(status=status)
    with caplog.at_level(logging.WARNING, logger="subledger.commands.gateways.authorizenet"):
        with pytest.raises(GatewayUnavailable):
            gateway.charge(charge())
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert gateway.charge(charge()).succeeded
    assert fake.captured() == 1999


def test_wrong_credentials_are_unavailable_and_logged_as_an_error(
    fake: FakeAuthorizeNet, caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = AuthorizeNetGateway(LOGIN_ID, "not-the-key", api_base=fake.url, timeout=5)
    with caplog.at_level(logging.WARNING, logger="subledger.commands.gateways.authorizenet"):
        with pytest.raises(GatewayUnavailable, match="E00007"):
            gateway.charge(charge())
    assert fake.transactions == {}
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "not-the-key" not in caplog.text


def test_an_unreachable_authorizenet_is_unavailable() -> None:
    with FakeAuthorizeNet() as server:
        url = server.url
    gateway = AuthorizeNetGateway(LOGIN_ID, TRANSACTION_KEY, api_base=url, timeout=2)
    with pytest.raises(GatewayUnavailable):
        gateway.charge(charge())
    with pytest.raises(GatewayUnavailable):
        gateway.refund(refund("60000000001"))


@pytest.fixture
def paid(gateway: AuthorizeNetGateway) -> str:
    result = gateway.charge(charge(amount=1999, key="subledger-paid"))
    assert result.succeeded and result.gateway_ref
    return result.gateway_ref


def test_a_refund_goes_to_the_charges_profile_with_ref_trans_id(
    gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet, paid: str,
) -> None:
    result = gateway.refund(refund(paid, key="subledger-r7", amount=700))
    made = [t for t in fake.transactions.values() if t["transactionType"] == "refundTransaction"]
    assert result == RefundResult(True, made[0]["transId"])
    request = created(fake)[-1]["transactionRequest"]
    assert (request["transactionType"], request["amount"], request["refTransId"]) == ("refundTransaction", "7.00", paid)
    assert request["profile"]["paymentProfile"] == {"paymentProfileId": "1000"}


def test_partial_refunds_up_to_the_charge_then_refused(gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet, paid: str) -> None:
    assert gateway.refund(refund(paid, key="r1", amount=1500)).succeeded
    assert gateway.refund(refund(paid, key="r2", amount=500)) == RefundResult(False, None, "amount_too_large")
    assert gateway.refund(refund(paid, key="r3", amount=499)).succeeded
    assert fake.refunded() == 1999


def test_a_retried_refund_finds_its_transaction_and_refunds_once(
    gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet, paid: str,
) -> None:
    assert gateway.refund(refund(paid)) == gateway.refund(refund(paid))
    assert fake.refunded() == 500


def test_a_refund_of_an_unsettled_or_unknown_transaction_fails(fake: FakeAuthorizeNet, gateway: AuthorizeNetGateway) -> None:
    fake.settle = False
    unsettled = gateway.charge(charge(key="subledger-unsettled"))
    assert unsettled.gateway_ref is not None
    assert gateway.refund(refund(unsettled.gateway_ref)) == RefundResult(False, None, "transaction_not_settled")
    assert gateway.refund(refund("123")) == RefundResult(False, None, "resource_missing")


def test_a_duplicate_refund_refused_by_authorizenet_answers_the_original_refund(
    gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet, paid: str,
) -> None:
    # A refund try that raced past the look-up: Authorize.net refunded, the list hid it.
    first = gateway.refund(refund(paid))
    listed = fake._list
    fake._list = lambda body: listed({**body, "customerProfileId": "hidden"})  # type: ignore[method-assign]
    with pytest.raises(GatewayUnavailable, match="duplicate"):
        gateway.refund(refund(paid))
    fake._list = listed  # type: ignore[method-assign]
    assert gateway.refund(refund(paid)) == first
    assert first.succeeded and fake.refunded() == 500


def test_settlement_notices_of_a_range_without_batches_are_none_and_a_refusal_is_unavailable(
    gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet, caplog: pytest.LogCaptureFixture,
) -> None:
    since, until = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 5, tzinfo=UTC)
    assert gateway.settlement_notices(since, until) == []  # I00004: no records found
    wrong = AuthorizeNetGateway(LOGIN_ID, "not-the-key", api_base=fake.url, timeout=5)
    with caplog.at_level(logging.WARNING, logger="subledger.commands.gateways.authorizenet"):
        with pytest.raises(GatewayUnavailable, match="settlement report: E00007"):
            wrong.settlement_notices(since, until)
    assert [r.levelno for r in caplog.records] == [logging.ERROR]


def test_the_fake_refuses_a_settlement_range_over_31_days_as_authorizenet_does(
    gateway: AuthorizeNetGateway, fake: FakeAuthorizeNet,
) -> None:
    asked = gateway._call("getSettledBatchListRequest", "test", "k", {
        "firstSettlementDate": "2026-04-01T00:00:00Z", "lastSettlementDate": "2026-05-02T00:00:00Z"})
    assert asked["messages"]["message"][0]["code"] == "I00004"
    with pytest.raises(Exception, match="E00059: The date range cannot exceed 31 days"):
        gateway._call("getSettledBatchListRequest", "test", "k", {
            "firstSettlementDate": "2026-04-01T00:00:00Z", "lastSettlementDate": "2026-05-02T00:00:01Z"})
