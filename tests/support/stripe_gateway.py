"""The Stripe gateway against FakeStripe, for its tests: the fake and the gateway as fixtures
(a test module takes them in by name), the charge and refund requests it is sent, and the
late retries of an attempt whose first answer was lost."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes.stripe import FakeStripe

from subledger.commands.gateways import ChargeRequest, GatewayUnavailable, RefundRequest
from subledger.commands.gateways.stripe import StripeGateway

API_KEY = "sk_test_subledger123"
SENT_AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
DUE = SENT_AT
LATE_KEY = "subledger-inv_1-1"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


@pytest.fixture
def gateway(fake: FakeStripe) -> StripeGateway:
    return StripeGateway(API_KEY, api_base=fake.url, timeout=5)


def charge_request(
    token: str = "pm_card_visa",
    *,
    key: str = "inv_1:1",
    amount: int = 1999,
    currency: str = "EUR",
    attempt: int = 1,
) -> ChargeRequest:
    return ChargeRequest(
        idempotency_key=key,
        amount=amount,
        currency=currency,
        token=token,
        customer_ref="3f0c8a1e-sub",
        description="Invoice inv_1",
        attempt=attempt,
        metadata={"invoice_id": "inv_1"},
        # A fresh attempt: Stripe still knows its key, no look-up first.
        due_at=SENT_AT,
        sent_at=SENT_AT,
    )


def refund_request(
    charge_ref: str, *, key: str = "refund_1", amount: int = 500, reason: str | None = None,
    currency: str = "EUR",
) -> RefundRequest:
    return RefundRequest(
        idempotency_key=key,
        charge_gateway_ref=charge_ref,
        amount=amount,
        currency=currency,
        reason=reason,
    )


@pytest.fixture(name="gateway")
def impatient_gateway(fake: FakeStripe) -> StripeGateway:
    """A short timeout: a test that loses an answer on purpose waits it out."""
    return StripeGateway(API_KEY, api_base=fake.url, timeout=0.3)


def attempt_sent(sent_after: timedelta, token: str = "pm_card_visa") -> ChargeRequest:
    """Attempt 1 at invoice inv_1, due at :data:`DUE`, sent ``sent_after`` it fell due."""
    return ChargeRequest(
        idempotency_key=LATE_KEY, amount=1999, currency="EUR", token=token,
        customer_ref="sub-1", description="invoice inv_1", attempt=1,
        metadata={"invoice_id": "inv_1"}, due_at=DUE, sent_at=DUE + sent_after,
    )


def lose_the_answer(fake: FakeStripe, gateway: StripeGateway, request: ChargeRequest) -> None:
    """The first sending: Stripe does the work, the answer never arrives."""
    fake.hang_next(seconds=2)
    with pytest.raises(GatewayUnavailable):
        gateway.charge(request)
