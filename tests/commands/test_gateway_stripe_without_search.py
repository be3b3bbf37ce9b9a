"""Stripe offers its Search API to no account in India: there a late retry of a charge whose
answer was lost finds the earlier PaymentIntent by listing the account's PaymentIntents since
the attempt fell due, and still takes the money once. Through the official SDK against
FakeStripe playing an account without Search."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fakes.stripe import FakeStripe
from support import stripe_gateway
from support.stripe_gateway import DUE, LATE_KEY, attempt_sent, lose_the_answer

from subledger.commands.gateways import EARLY_SENDING, GatewayUnavailable
from subledger.commands.gateways.stripe import StripeGateway
from subledger.commands.gateways.stripe_lookup import LIST_MAX_PAGES, LIST_PAGE_LIMIT

DAY = timedelta(days=1)

gateway = stripe_gateway.impatient_gateway


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        server.search_available = False
        yield server


def listings(fake: FakeStripe) -> list[dict[str, str]]:
    return [r.params for r in fake.requests_to("GET", "/v1/payment_intents")]


def creations(fake: FakeStripe) -> int:
    return len(fake.requests_to("POST", "/v1/payment_intents"))


def test_a_retry_two_days_after_a_lost_answer_finds_the_payment_through_the_list(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    lose_the_answer(fake, gateway, attempt_sent(timedelta(0)))
    [first] = fake.payment_intents.values()
    fake.add_payment_intents(3)  # other subscribers' payments since

    fake.advance(2 * DAY.total_seconds())
    result = gateway.charge(attempt_sent(2 * DAY))

    assert (result.succeeded, result.gateway_ref) == (True, first["id"])
    assert creations(fake) == 1, "Stripe forgot the key: only the list saves it"
    assert sum(i["amount_received"] for i in fake.payment_intents.values()) == 1999 + 3 * 500
    [listing] = listings(fake)
    assert listing["created[gte]"] == str(int((DUE - EARLY_SENDING).timestamp()))
    assert listing["limit"] == str(LIST_PAGE_LIMIT) and "customer" not in listing


def test_a_late_retry_of_a_declined_charge_answers_the_decline_without_a_new_payment(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    declined = attempt_sent(timedelta(0), token="pm_card_chargeDeclined")
    fake.hang_next(seconds=2)
    with pytest.raises(GatewayUnavailable):
        gateway.charge(declined)

    fake.advance(2 * DAY.total_seconds())
    result = gateway.charge(attempt_sent(2 * DAY, token="pm_card_chargeDeclined"))

    assert (result.succeeded, result.decline_code) == (False, "generic_decline")
    assert creations(fake) == 1 and len(listings(fake)) == 1


def test_the_list_is_read_page_after_page_until_the_payment_is_among_them(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    lose_the_answer(fake, gateway, attempt_sent(timedelta(0)))
    [first] = fake.payment_intents.values()
    fake.add_payment_intents(2 * LIST_PAGE_LIMIT + 20)  # newer: listed before it

    fake.advance(2 * DAY.total_seconds())
    result = gateway.charge(attempt_sent(2 * DAY))

    assert (result.succeeded, result.gateway_ref) == (True, first["id"])
    pages = listings(fake)
    assert len(pages) == 3 and creations(fake) == 1
    assert "starting_after" not in pages[0]
    assert all(page["starting_after"].startswith("pi_") for page in pages[1:])


def test_a_payment_made_before_the_key_was_in_its_metadata_is_found_by_invoice_and_attempt(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    lose_the_answer(fake, gateway, attempt_sent(timedelta(0)))
    [first] = fake.payment_intents.values()
    del first["metadata"]["subledger_key"]

    fake.advance(2 * DAY.total_seconds())
    result = gateway.charge(attempt_sent(2 * DAY))

    assert (result.succeeded, result.gateway_ref) == (True, first["id"])
    assert creations(fake) == 1


def test_a_customers_payment_is_listed_among_that_customers_only(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    lose_the_answer(fake, gateway, attempt_sent(timedelta(0), token="cus_A:pm_card_visa"))
    [first] = fake.payment_intents.values()
    fake.add_payment_intents(LIST_PAGE_LIMIT + 1, customer="cus_B")

    fake.advance(2 * DAY.total_seconds())
    result = gateway.charge(attempt_sent(2 * DAY, token="cus_A:pm_card_visa"))

    assert (result.succeeded, result.gateway_ref) == (True, first["id"])
    [listing] = listings(fake)
    assert listing["customer"] == "cus_A"


def test_more_pages_than_the_bound_is_unavailable_and_charges_nothing(
    fake: FakeStripe, gateway: StripeGateway, caplog: pytest.LogCaptureFixture,
) -> None:
    lose_the_answer(fake, gateway, attempt_sent(timedelta(0)))
    fake.add_payment_intents(LIST_MAX_PAGES * LIST_PAGE_LIMIT)  # it is one page too far

    fake.advance(2 * DAY.total_seconds())
    with caplog.at_level(logging.ERROR), pytest.raises(GatewayUnavailable):
        gateway.charge(attempt_sent(2 * DAY))

    assert len(listings(fake)) == LIST_MAX_PAGES and creations(fake) == 1
    assert any(LATE_KEY in r.getMessage() and r.levelno == logging.ERROR
               for r in caplog.records)


def test_a_late_first_sending_lists_nothing_of_its_own_and_charges(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    """The billing clock did not run for two days: the attempt is old but was never sent."""
    fake.add_payment_intents(3)

    result = gateway.charge(attempt_sent(2 * DAY))

    assert result.succeeded and creations(fake) == 1
    assert fake.payment_intents[str(result.gateway_ref)]["metadata"]["subledger_key"] == LATE_KEY


def test_once_search_is_refused_later_look_ups_go_straight_to_the_list(
    fake: FakeStripe, gateway: StripeGateway,
) -> None:
    gateway.charge(attempt_sent(2 * DAY))
    gateway.charge(attempt_sent(3 * DAY))

    assert len(fake.requests_to("GET", "/v1/payment_intents/search")) == 1
    assert len(listings(fake)) == 2
