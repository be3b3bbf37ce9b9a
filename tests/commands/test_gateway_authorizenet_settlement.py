"""What Authorize.net reports about a charge after approving it (a returned eCheck, a
settlement error, a void before the batch, a chargeback), asked through its Transaction
Reporting API against FakeAuthorizeNet and recorded as the ledger's reversal, on both stores."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fakes import authorizenet as anet
from fastapi.testclient import TestClient
from support.factories import utc
from support.ledger import add_plan, add_subscriber, log_envelopes

from subledger.billing_worker import SettlementRounds, billing_follower
from subledger.bootstrap import build_api, build_projector, ledger_env
from subledger.commands.gateways import ChargeRequest
from subledger.commands.gateways.authorizenet import AuthorizeNetGateway
from subledger.commands.ledger import Ledger
from subledger.commands.settlement_reports import reconcile
from subledger.config import Settings
from subledger.domain.errors import GatewayUnavailableError, InvalidInput

APRIL_1 = utc(2026, 4, 1)
SETTLED = utc(2026, 4, 2, 3)
APRIL_10 = utc(2026, 4, 10)


@dataclass
class Shop:
    fake: anet.FakeAuthorizeNet
    ledger: Ledger
    settings: Settings
    subscription_id: Any
    trans_id: str
    invoice_id: str

    def reconcile(self, since: datetime = APRIL_1, until: datetime = APRIL_10) -> dict[str, Any]:
        return reconcile(self.ledger, "authorizenet", since, until).as_dict()


def gateway(url: str) -> AuthorizeNetGateway:
    return AuthorizeNetGateway(anet.LOGIN_ID, anet.TRANSACTION_KEY, api_base=url, timeout=2)


def ada_charged(ledger: Ledger) -> tuple[Any, dict[str, Any]]:
    """Ada subscribed to pro (4900 a month) on Apr 1, charged at once by Authorize.net: her
    subscription and its charge."""
    add_plan(ledger, "pro", amount=4900)
    ada = add_subscriber(ledger, "ada@example.com")
    ledger.subscribers.set_payment_method(ada.id, gateway="authorizenet",
                                          token=f"{anet.CUSTOMER}:1000", effective_at=APRIL_1)
    sub = ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=APRIL_1)
    [(_, charge)] = ledger.subscriptions.get(sub.id).charges.items()
    return sub, charge


@pytest.fixture
def shop(settings: Settings) -> Iterator[Shop]:
    """Ada's first month (4900) charged by Authorize.net on Apr 1, settled in the batch of
    Apr 2 03:00 UTC."""
    with anet.FakeAuthorizeNet() as fake:
        fake.settle = False  # as Authorize.net: approved now, settled in the nightly batch
        ledger = Ledger(ledger_env(settings), gateways={"authorizenet": gateway(fake.url)})
        try:
            sub, charge = ada_charged(ledger)
            assert fake.batches.settle(SETTLED)
            yield Shop(fake, ledger, settings, sub.id, charge["gateway_ref"], charge["invoice_id"])
        finally:
            ledger.close()


def collected_in_april(shop: Shop) -> int:
    projector = build_projector(shop.settings, shop.ledger)
    try:
        projector.run_once()
        client = TestClient(build_api(shop.settings, ledger=shop.ledger, projector=projector))
        body = client.get("/reports/revenue", params={"from": "2026-04-01", "to": "2026-04-30",
                                                      "interval": "month"}).json()
        return sum(b["collected"] for b in body["buckets"])
    finally:
        projector.close()
        projector.store.close()


def test_a_returned_echeck_reopens_the_invoice_starts_dunning_and_lowers_collected(shop: Shop) -> None:
    assert collected_in_april(shop) == 4900
    shop.fake.batches.mark(shop.trans_id, "returnedItem")

    summary = shop.reconcile()

    assert (summary["found"], summary["recorded"]) == (1, 1)
    [reversed_] = log_envelopes(shop.ledger, types=("ChargeReversed",))
    data = reversed_["data"]
    assert (data["gateway"], data["gateway_ref"], data["amount"], data["reason"]) == (
        "authorizenet", shop.trans_id, 4900, "returnedItem")
    assert data["invoice_id"] == shop.invoice_id and data["next_attempt_at"] is not None
    sub = shop.ledger.subscriptions.get(shop.subscription_id)
    assert sub.status == "past_due"
    assert (sub.invoices[shop.invoice_id]["status"], sub.invoices[shop.invoice_id]["amount_due"]) == ("open", 4900)
    assert shop.invoice_id in sub.open_invoices
    assert collected_in_april(shop) == 0


def test_a_settlement_error_is_a_reversal_too(shop: Shop) -> None:
    shop.fake.batches.mark(shop.trans_id, "settlementError")
    assert shop.reconcile()["recorded"] == 1
    [reversed_] = log_envelopes(shop.ledger, types=("ChargeReversed",))
    assert reversed_["data"]["reason"] == "settlementError"


def test_a_chargeback_is_a_lost_dispute_of_the_whole_charge_and_the_card_is_not_charged_again(
    shop: Shop,
) -> None:
    shop.fake.batches.mark(shop.trans_id, "chargeback")

    assert shop.reconcile()["recorded"] == 1

    [closed] = log_envelopes(shop.ledger, types=("DisputeClosed",))
    assert (closed["data"]["outcome"], closed["data"]["amount"], closed["data"]["gateway_ref"]) == (
        "lost", 4900, shop.trans_id)
    assert log_envelopes(shop.ledger, types=("ChargeReversed",)) == []
    sub = shop.ledger.subscriptions.get(shop.subscription_id)
    assert (sub.status, sub.invoices[shop.invoice_id]["status"]) == ("active", "paid")
    assert shop.invoice_id not in sub.open_invoices
    assert shop.reconcile()["already_recorded"] == 1


def test_a_chargeback_after_a_partial_refund_takes_what_was_left(shop: Shop) -> None:
    [(charge_id, _)] = shop.ledger.subscriptions.get(shop.subscription_id).charges.items()
    shop.ledger.payments.refund_charge(charge_id, amount=900, effective_at=utc(2026, 4, 3))
    shop.fake.batches.mark(shop.trans_id, "chargeback")

    shop.reconcile()

    [closed] = log_envelopes(shop.ledger, types=("DisputeClosed",))
    assert closed["data"]["amount"] == 4000


def test_a_charge_voided_before_its_batch_is_found_in_the_unsettled_list(settings: Settings) -> None:
    with anet.FakeAuthorizeNet() as fake:
        fake.settle = False
        ledger = Ledger(ledger_env(settings), gateways={"authorizenet": gateway(fake.url)})
        try:
            sub, charge = ada_charged(ledger)
            fake.batches.mark(charge["gateway_ref"], "voided")

            summary = reconcile(ledger, "authorizenet", APRIL_1, utc(2026, 4, 2)).as_dict()

            assert summary["recorded"] == 1
            assert ledger.subscriptions.get(sub.id).status == "past_due"
        finally:
            ledger.close()


def test_a_refund_voided_before_its_batch_is_a_failed_refund_of_its_charge(shop: Shop) -> None:
    [(charge_id, _)] = shop.ledger.subscriptions.get(shop.subscription_id).charges.items()
    shop.ledger.payments.refund_charge(charge_id, amount=1900, effective_at=utc(2026, 4, 3))
    [issued] = log_envelopes(shop.ledger, types=("RefundIssued",))
    shop.fake.batches.mark(issued["data"]["gateway_ref"], "voided")

    assert shop.reconcile()["recorded"] == 1

    [failed] = log_envelopes(shop.ledger, types=("RefundReversed",))
    assert (failed["data"]["gateway_ref"], failed["data"]["failure_code"]) == (
        issued["data"]["gateway_ref"], "voided")
    assert log_envelopes(shop.ledger, types=("ChargeReversed",)) == []


def test_a_second_run_records_nothing_new(shop: Shop) -> None:
    shop.fake.batches.mark(shop.trans_id, "returnedItem")
    assert shop.reconcile()["recorded"] == 1
    length = len(log_envelopes(shop.ledger))

    again = shop.reconcile()

    assert (again["found"], again["recorded"], again["already_recorded"]) == (1, 0, 1)
    assert len(log_envelopes(shop.ledger)) == length


def test_a_later_run_over_another_range_records_nothing_new_either(shop: Shop) -> None:
    shop.fake.batches.mark(shop.trans_id, "returnedItem")
    assert shop.reconcile()["recorded"] == 1
    length = len(log_envelopes(shop.ledger))

    later = shop.reconcile(since=utc(2026, 3, 20), until=utc(2026, 4, 20))

    assert (later["found"], later["recorded"], later["already_recorded"]) == (1, 0, 1)
    assert len(log_envelopes(shop.ledger)) == length


def test_a_transaction_the_ledger_did_not_make_is_ignored(shop: Shop) -> None:
    other = gateway(shop.fake.url).charge(ChargeRequest(
        "another-system-1", 1500, "USD", f"{anet.CUSTOMER}:1000", "someone", "not ours"))
    assert other.gateway_ref
    shop.fake.batches.settle(utc(2026, 4, 3, 3))
    shop.fake.batches.mark(other.gateway_ref, "returnedItem")
    length = len(log_envelopes(shop.ledger))

    summary = shop.reconcile()

    assert (summary["found"], summary["recorded"], summary["ignored"]) == (1, 0, 1)
    assert len(log_envelopes(shop.ledger)) == length
    assert shop.ledger.subscriptions.get(shop.subscription_id).status == "active"


def test_an_unreachable_authorizenet_is_a_clear_error_and_changes_nothing(shop: Shop) -> None:
    shop.fake.batches.mark(shop.trans_id, "returnedItem")
    length = len(log_envelopes(shop.ledger))
    shop.fake.fail_next(status=503, when=lambda r: b"getUnsettledTransactionListRequest" in r.body)

    with pytest.raises(GatewayUnavailableError, match="authorizenet could not be asked.*nothing was recorded"):
        shop.reconcile()

    assert len(log_envelopes(shop.ledger)) == length
    assert shop.reconcile()["recorded"] == 1


def test_a_range_over_31_days_is_asked_in_windows_of_31_days_at_most(shop: Shop) -> None:
    shop.fake.batches.mark(shop.trans_id, "returnedItem")

    summary = shop.reconcile(since=utc(2026, 3, 1), until=utc(2026, 6, 30))

    assert summary["recorded"] == 1
    asked = [r.json()["getSettledBatchListRequest"] for r in shop.fake.requests
             if "getSettledBatchListRequest" in (r.json() or {})]
    assert len(asked) == 4
    assert asked[0]["firstSettlementDate"] == "2026-03-01T00:00:00Z"
    assert asked[-1]["lastSettlementDate"] == "2026-06-30T00:00:00Z"
    assert all(a["lastSettlementDate"] == b["firstSettlementDate"] for a, b in zip(asked, asked[1:], strict=False))


def test_a_gateway_that_cannot_be_asked_or_a_reversed_range_is_refused(shop: Shop) -> None:
    with pytest.raises(InvalidInput, match="'sandbox' cannot be asked.*authorizenet"):
        reconcile(shop.ledger, "sandbox", APRIL_1, utc(2026, 4, 2))
    with pytest.raises(InvalidInput, match="after until"):
        reconcile(shop.ledger, "authorizenet", utc(2026, 4, 2), APRIL_1)


def test_the_billing_clock_asks_authorizenet_once_an_hour_over_its_settlement_days(shop: Shop) -> None:
    shop.fake.batches.mark(shop.trans_id, "returnedItem")
    assert len(log_envelopes(shop.ledger, types=("ChargeReversed",))) == 0

    billing_follower(shop.ledger, 60, settlement_days=365).run_once()

    [reversed_] = log_envelopes(shop.ledger, types=("ChargeReversed",))
    assert reversed_["data"]["reason"] == "returnedItem"


def asked(fake: anet.FakeAuthorizeNet) -> int:
    return sum(1 for r in fake.requests if "getSettledBatchListRequest" in (r.json() or {}))


def test_settlement_rounds_ask_at_most_once_an_hour_and_never_with_0_days(shop: Shop) -> None:
    clock = [0.0]
    rounds = SettlementRounds(shop.ledger, 30, monotonic=lambda: clock[0])
    rounds.run()
    first = asked(shop.fake)
    assert first >= 1
    clock[0] = 3599.0
    rounds.run()
    assert asked(shop.fake) == first
    clock[0] = 3600.0
    rounds.run()
    assert asked(shop.fake) == 2 * first
    SettlementRounds(shop.ledger, 0).run()
    assert asked(shop.fake) == 2 * first


def test_an_unreachable_gateway_is_logged_and_asked_again_the_next_round(
    shop: Shop, caplog: pytest.LogCaptureFixture,
) -> None:
    shop.fake.batches.mark(shop.trans_id, "returnedItem")
    rounds = SettlementRounds(shop.ledger, 365, monotonic=lambda: 0.0)
    shop.fake.fail_next(status=503)
    with caplog.at_level(logging.WARNING, logger="subledger.billing_worker"):
        rounds.run()
    assert "settlement reconcile of authorizenet: authorizenet could not be asked" in caplog.text
    rounds.run()
    assert len(log_envelopes(shop.ledger, types=("ChargeReversed",))) == 1
