"""The built-in sandbox gateway: its test tokens, and answers that depend on the request alone."""

from __future__ import annotations

import hashlib

import pytest

from subledger.commands.gateways import (
    ChargeRequest,
    ChargeResult,
    PaymentGateway,
    RefundRequest,
    RefundResult,
)
from subledger.commands.gateways.sandbox import SandboxGateway


def charge_request(
    token: str, *, attempt: int = 1, key: str = "inv_1:1", amount: int = 1999
) -> ChargeRequest:
    return ChargeRequest(
        idempotency_key=key,
        amount=amount,
        currency="EUR",
        token=token,
        customer_ref="sub_1",
        description="Invoice inv_1",
        attempt=attempt,
    )


def refund_request(*, key: str = "re_1", amount: int = 500) -> RefundRequest:
    return RefundRequest(
        idempotency_key=key,
        charge_gateway_ref="sb_ch_0123",
        amount=amount,
        currency="EUR",
        reason="requested_by_customer",
    )


@pytest.fixture
def gateway() -> SandboxGateway:
    return SandboxGateway()


def test_the_gateway_is_named_sandbox_and_implements_the_port(gateway: SandboxGateway) -> None:
    port: PaymentGateway = gateway
    assert port.name == "sandbox"


def test_tok_visa_always_succeeds_with_a_reference(gateway: SandboxGateway) -> None:
    for attempt in (1, 2, 3, 4):
        result = gateway.charge(charge_request("tok_visa", attempt=attempt, key=f"inv_1:{attempt}"))
        assert result.succeeded
        assert result.decline_code is None
        assert result.gateway_ref is not None and result.gateway_ref.startswith("sb_ch_")


def test_tok_charge_declined_always_fails_with_card_declined(gateway: SandboxGateway) -> None:
    for attempt in (1, 2, 3, 4):
        result = gateway.charge(
            charge_request("tok_chargeDeclined", attempt=attempt, key=f"inv_1:{attempt}")
        )
        assert not result.succeeded
        assert result.decline_code == "card_declined"


def test_tok_fail_first_fails_the_first_attempt_at_an_invoice_and_succeeds_on_the_next(
    gateway: SandboxGateway,
) -> None:
    first = gateway.charge(charge_request("tok_fail_first", attempt=1, key="inv_1:1"))
    second = gateway.charge(charge_request("tok_fail_first", attempt=2, key="inv_1:2"))
    third = gateway.charge(charge_request("tok_fail_first", attempt=3, key="inv_1:3"))

    assert (first.succeeded, first.decline_code) == (False, "card_declined")
    assert (second.succeeded, second.decline_code) == (True, None)
    assert third.succeeded


def test_tok_fail_first_fails_the_first_attempt_at_every_invoice(gateway: SandboxGateway) -> None:
    for invoice in ("inv_1", "inv_2", "inv_3"):
        assert not gateway.charge(
            charge_request("tok_fail_first", attempt=1, key=f"{invoice}:1")
        ).succeeded
        assert gateway.charge(
            charge_request("tok_fail_first", attempt=2, key=f"{invoice}:2")
        ).succeeded


@pytest.mark.parametrize("token", ["tok_unknown", "", "pm_card_visa", "TOK_VISA", "tok_visa "])
def test_any_other_token_fails_with_invalid_token(gateway: SandboxGateway, token: str) -> None:
    result = gateway.charge(charge_request(token))
    assert not result.succeeded
    assert result.decline_code == "invalid_token"


@pytest.mark.parametrize("amount", [0, -100])
def test_a_charge_of_a_non_positive_amount_fails_with_invalid_amount(
    gateway: SandboxGateway, amount: int
) -> None:
    result = gateway.charge(charge_request("tok_visa", amount=amount))
    assert (result.succeeded, result.decline_code) == (False, "invalid_amount")


def test_the_charge_reference_is_sb_ch_and_the_sha256_of_the_idempotency_key(
    gateway: SandboxGateway,
) -> None:
    result = gateway.charge(charge_request("tok_visa", key="inv_42:1"))
    assert result.gateway_ref == "sb_ch_" + hashlib.sha256(b"inv_42:1").hexdigest()[:24]


@pytest.mark.parametrize("token", ["tok_visa", "tok_chargeDeclined", "tok_fail_first", "tok_nope"])
def test_a_retried_charge_returns_the_same_result_and_reference(
    gateway: SandboxGateway, token: str
) -> None:
    request = charge_request(token, key="inv_7:1")
    results = {gateway.charge(request) for _ in range(3)}
    assert len(results) == 1
    # another instance (another process) answers the same: there is no state
    assert SandboxGateway().charge(request) in results


def test_a_retried_first_attempt_of_tok_fail_first_still_fails(gateway: SandboxGateway) -> None:
    request = charge_request("tok_fail_first", attempt=1, key="inv_1:1")
    assert [gateway.charge(request).succeeded for _ in range(3)] == [False, False, False]


def test_different_idempotency_keys_get_different_references(gateway: SandboxGateway) -> None:
    refs = {
        gateway.charge(charge_request("tok_visa", key=f"inv_1:{n}")).gateway_ref for n in range(50)
    }
    assert len(refs) == 50


def test_a_declined_charge_also_carries_a_deterministic_reference(gateway: SandboxGateway) -> None:
    result = gateway.charge(charge_request("tok_chargeDeclined", key="inv_9:1"))
    assert result == ChargeResult(
        succeeded=False,
        gateway_ref="sb_ch_" + hashlib.sha256(b"inv_9:1").hexdigest()[:24],
        decline_code="card_declined",
    )


def test_a_refund_succeeds_with_a_reference_derived_from_its_idempotency_key(
    gateway: SandboxGateway,
) -> None:
    result = gateway.refund(refund_request(key="refund_1"))
    assert result == RefundResult(
        succeeded=True,
        gateway_ref="sb_re_" + hashlib.sha256(b"refund_1").hexdigest()[:24],
        failure_code=None,
    )


def test_a_retried_refund_returns_the_same_reference_and_another_refund_another(
    gateway: SandboxGateway,
) -> None:
    assert gateway.refund(refund_request(key="refund_1")) == gateway.refund(
        refund_request(key="refund_1")
    )
    assert (
        gateway.refund(refund_request(key="refund_1")).gateway_ref
        != gateway.refund(refund_request(key="refund_2")).gateway_ref
    )


@pytest.mark.parametrize("amount", [0, -1])
def test_a_refund_of_a_non_positive_amount_fails_with_invalid_amount(
    gateway: SandboxGateway, amount: int
) -> None:
    result = gateway.refund(refund_request(amount=amount))
    assert result == RefundResult(succeeded=False, gateway_ref=None, failure_code="invalid_amount")
