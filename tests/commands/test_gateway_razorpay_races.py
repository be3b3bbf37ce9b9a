"""Two processes taking the same charge attempt to Razorpay at once (two billing runs, or a
command and the billing clock): Razorpay has no idempotency key, so both may look the
order up before either has made it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes.razorpay import CUSTOMER, KEY_ID, KEY_SECRET, FakeRazorpay

from subledger.commands.gateways import ChargeRequest, ChargeResult
from subledger.commands.gateways.razorpay import RazorpayGateway

KEY = "subledger-1b4e28ba-2fa1-11d2-883f-0016d3cca427"


class RacedRazorpay(FakeRazorpay):
    """Another process makes and pays the same order (same receipt) between this
    process's look-up and its own order."""

    def __init__(self) -> None:
        super().__init__()
        self.raced = False

    def _create_order(self, body: dict[str, Any]) -> Any:
        if not self.raced:
            self.raced = True
            theirs = super()._create_order(body).body
            paid = self._recurring({
                "order_id": theirs["id"], "customer_id": CUSTOMER, "email": "ada@example.com",
                "contact": "+919000090000", "amount": body["amount"], "currency": body["currency"],
                "token": "token_ok", "recurring": "1"})
            assert paid.status == 200
        return super()._create_order(body)


@pytest.fixture
def fake() -> Iterator[RacedRazorpay]:
    with RacedRazorpay() as server:
        yield server


def test_a_charge_that_races_another_process_to_its_order_pays_the_first_order_only(
    fake: RacedRazorpay,
) -> None:
    gateway = RazorpayGateway(KEY_ID, KEY_SECRET, api_base=fake.url, timeout=5)
    request = ChargeRequest(idempotency_key=KEY, amount=49900, currency="INR",
                            token=f"{CUSTOMER}:token_ok", customer_ref="sub-1",
                            description="subscription s invoice i")

    result = gateway.charge(request)

    [payment] = fake.payments.values()
    assert result == ChargeResult(True, payment["id"])
    assert fake.captured() == 49900
    assert gateway.charge(request) == result
