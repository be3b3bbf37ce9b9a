"""PayPal forgets a PayPal-Request-Id after 6 hours: a retry of a charge whose answer was lost
must still capture once, however late it comes. Through the official SDK against FakePayPal,
whose own clock ages the ids and delays Transaction Search by three hours."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes.paypal import CLIENT_ID, CLIENT_SECRET, FakePayPal

from subledger.commands.gateways import ChargeRequest, GatewayUnavailable, RefundRequest
from subledger.commands.gateways.paypal import PayPalGateway

HOUR = timedelta(hours=1)
KEY = "subledger-inv_1-1"


@pytest.fixture
def fake() -> Iterator[FakePayPal]:
    with FakePayPal() as server:
        yield server


@pytest.fixture
def gateway(fake: FakePayPal) -> PayPalGateway:
    return PayPalGateway(CLIENT_ID, CLIENT_SECRET, api_base=fake.url, timeout=0.5)


Charge = Callable[..., ChargeRequest]


@pytest.fixture
def charge(fake: FakePayPal) -> Charge:
    """The attempt, due as the test starts on the clock the ledger and PayPal share, sent
    ``sent_after`` that."""
    due = datetime.fromtimestamp(fake.now(), UTC)

    def request(sent_after: timedelta, token: str = "card_ok") -> ChargeRequest:
        return ChargeRequest(idempotency_key=KEY, amount=4900, currency="USD", token=token,
                             customer_ref="sub-1", description="invoice inv_1",
                             metadata={"invoice_id": "inv_1"}, due_at=due,
                             sent_at=due + sent_after)

    return request


def lose_the_answer(fake: FakePayPal, gateway: PayPalGateway, request: ChargeRequest) -> None:
    """The first sending: PayPal captures, the answer never arrives."""
    fake.hang_next(seconds=2, path="/v2/checkout/orders")
    with pytest.raises(GatewayUnavailable):
        gateway.charge(request)


def searches(fake: FakePayPal) -> int:
    return len(fake.requests_to("GET", "/v1/reporting/transactions"))


@pytest.mark.parametrize("blocks_duplicates", [True, False])
def test_a_retry_two_days_after_a_lost_answer_finds_the_capture_and_captures_once(
    fake: FakePayPal, gateway: PayPalGateway, charge: Charge, blocks_duplicates: bool,
) -> None:
    fake.block_duplicate_invoice_ids = blocks_duplicates
    lose_the_answer(fake, gateway, charge(timedelta(0)))
    [first] = fake.captures.values()

    fake.advance(48 * HOUR.total_seconds())
    result = gateway.charge(charge(48 * HOUR))

    assert (result.succeeded, result.gateway_ref) == (True, first["id"])
    assert fake.captured() == 4900, "PayPal forgot the request id: only the look-up saves it"


def test_a_retry_inside_the_window_replays_the_request_id_without_a_search(
    fake: FakePayPal, gateway: PayPalGateway, charge: Charge,
) -> None:
    lose_the_answer(fake, gateway, charge(timedelta(0)))
    [first] = fake.captures.values()

    fake.advance(2 * HOUR.total_seconds())
    result = gateway.charge(charge(2 * HOUR))

    assert (result.succeeded, result.gateway_ref) == (True, first["id"])
    assert fake.captured() == 4900 and searches(fake) == 0


def test_a_late_first_sending_finds_nothing_and_captures(
    fake: FakePayPal, gateway: PayPalGateway, charge: Charge,
) -> None:
    """The billing clock did not run for two days: the attempt is old but was never sent."""
    result = gateway.charge(charge(48 * HOUR))

    [capture] = fake.captures.values()
    assert (result.succeeded, result.gateway_ref) == (True, capture["id"])
    assert searches(fake) == 1 and capture["invoice_id"] == KEY


def test_without_the_search_permission_a_late_attempt_is_sent_and_a_lost_one_is_refused_as_a_duplicate(
    fake: FakePayPal, gateway: PayPalGateway, charge: Charge, caplog: pytest.LogCaptureFixture,
) -> None:
    """An app without "Transaction Search": an attempt first sent two days late is captured
    (not left waiting for the permission), and a retry after PayPal forgot the request id of
    a captured sending is refused by the account's duplicate invoice id guard, never
    captured twice."""
    fake.transaction_search_permitted = False
    late = gateway.charge(charge(48 * HOUR, token="card_ok"))
    assert late.succeeded and fake.captured() == 4900
    assert "Transaction Search is not permitted" in caplog.text

    fake.advance(48 * HOUR.total_seconds())
    with pytest.raises(GatewayUnavailable):
        gateway.charge(charge(96 * HOUR))
    assert fake.captured() == 4900


def test_a_capture_not_yet_listed_is_refused_as_a_duplicate_and_left_for_a_person(
    fake: FakePayPal, gateway: PayPalGateway, charge: Charge, caplog: pytest.LogCaptureFixture,
) -> None:
    """An outage delays PayPal's Transaction Search beyond its three hours: the look-up
    finds nothing, and PayPal's duplicate invoice id check refuses a second capture."""
    fake.listing_lag = 12 * HOUR.total_seconds()
    lose_the_answer(fake, gateway, charge(timedelta(0)))
    fake.advance(7 * HOUR.total_seconds())

    with pytest.raises(GatewayUnavailable, match="already captured"):
        gateway.charge(charge(7 * HOUR))

    assert fake.captured() == 4900
    assert any("POST /invoices/inv_1/payments" in r.getMessage() for r in caplog.records)


def test_the_fake_forgets_a_request_id_after_6_hours(
    fake: FakePayPal, gateway: PayPalGateway, charge: Charge,
) -> None:
    """What makes the look-up necessary, as PayPal documents it."""
    fake.block_duplicate_invoice_ids = False
    gateway.charge(charge(timedelta(0)))
    fake.advance(6 * HOUR.total_seconds())
    gateway.charge(charge(timedelta(0)))  # a fresh-looking request: no look-up asked for
    assert fake.captured() == 2 * 4900


def test_a_refund_retried_seven_hours_after_a_lost_answer_refunds_once(
    fake: FakePayPal, gateway: PayPalGateway, charge: Charge,
) -> None:
    paid = gateway.charge(charge(timedelta(0)))
    request = RefundRequest(idempotency_key="subledger-re_1", charge_gateway_ref=str(paid.gateway_ref),
                            amount=1000, currency="USD")
    fake.hang_next(seconds=2, path=f"/v2/payments/captures/{paid.gateway_ref}/refund")
    with pytest.raises(GatewayUnavailable):
        gateway.refund(request)
    [first] = fake.refunds.values()

    fake.advance(7 * HOUR.total_seconds())
    result = gateway.refund(request)

    assert (result.succeeded, result.gateway_ref) == (True, first["id"])
    assert fake.refunded() == 1000, "PayPal forgot the request id: only the look-up saves it"
