"""Pay now in the portal: a subscriber whose card was declined pays the invoice in dunning at
once, through the API's retry by hand, instead of waiting for the next scheduled attempt."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest
from fakes.gateways import DownGateway
from support.ledger import log_envelopes
from support.portal import PortalWorld, form_values

from subledger.commands.billing import run_billing


def _home(client: Any) -> str:
    page = client.get("/portal")
    assert page.status_code == 200, page.text
    return page.text  # type: ignore[no-any-return]


def _declined_renewal(world: PortalWorld, *subscribers: UUID) -> dict[UUID, str]:
    """Each subscriber's April renewal declined: their subscription past due, the invoice
    in dunning. Returns subscriber -> the invoice."""
    for subscriber in subscribers:
        world.ledger.subscribers.set_payment_method(subscriber, gateway="sandbox",
                                                    token="tok_chargeDeclined")
    world.clock.advance(days=22)  # to 2026-04-01 12:00, past the renewal
    run_billing(world.ledger, world.clock())
    world.catch_up()
    overdue = {}
    for subscriber, subscription in ((world.ada, world.ada_subscription),
                                     (world.bob, world.bob_subscription)):
        if subscriber in subscribers:
            state = world.ledger.subscriptions.get(subscription)
            assert state.status == "past_due"
            (overdue[subscriber],) = state.open_invoices
    return overdue


def _adas_overdue(world: PortalWorld) -> tuple[str, str]:
    """Ada's April renewal declined: the invoice, and the path its Pay now form posts to."""
    invoice = _declined_renewal(world, world.ada)[world.ada]
    return invoice, f"/portal/invoices/{invoice}/pay"

def _replace_card(client: Any, token: str) -> None:
    path = "/portal/payment-method"
    done = client.post(path, data={**form_values(_home(client), path), "gateway": "sandbox",
                                   "token": token})
    assert done.status_code == 303, done.text


def _notice(html: str) -> str:
    shown = re.search(r'<div class="notice" role="status"><p>([^<]*)</p>', html)
    assert shown is not None, "no notice"
    return shown.group(1)


def _form(html: str, action: str) -> str:
    start = html.index(f'action="{action}"')
    return html[start:html.index("</form>", start)]


def _ref(envelope: dict[str, Any]) -> dict[str, Any]:
    return {"aggregate_id": envelope["aggregate_id"],
            "aggregate_version": envelope["aggregate_version"]}


def test_a_past_due_subscriber_with_a_new_card_pays_the_overdue_invoice_now(
    portal_world: PortalWorld,
) -> None:
    invoice, pay = _adas_overdue(portal_world)
    with portal_world.portal_client(portal_world.ada) as ada:
        _replace_card(ada, "tok_visa")
        home = _home(ada)
        assert "Amount due: <strong class=\"overdue-due\">USD 10.00</strong>" in _form(home, pay)
        paid = ada.post(pay, data=form_values(home, pay))
        assert paid.status_code == 303, paid.text
        after = ada.get(paid.headers["location"]).text
    assert _notice(after) == "The invoice was paid. Thank you."
    assert f'action="{pay}"' not in after
    subscription = portal_world.ledger.subscriptions.get(portal_world.ada_subscription)
    assert subscription.status == "active"
    assert subscription.invoices[invoice]["status"] == "paid"
    charged = log_envelopes(portal_world.ledger, types=("ChargeSucceeded",))[-1]
    assert charged["data"]["invoice_id"] == invoice
    retried = [ref for e in log_envelopes(portal_world.ledger, types=("PortalActionTaken",))
               if e["data"]["command"] == "RetryCharge" for ref in e["data"]["events"]]
    assert _ref(charged) in retried


def test_pay_now_with_a_card_still_declined_says_so_and_the_dunning_goes_on(
    portal_world: PortalWorld,
) -> None:
    invoice, pay = _adas_overdue(portal_world)
    scheduled = portal_world.ledger.subscriptions.get(
        portal_world.ada_subscription).open_invoices[invoice]["next_attempt_at"]
    with portal_world.portal_client(portal_world.ada) as ada:
        declined = ada.post(pay, data=form_values(_home(ada), pay))
        assert declined.status_code == 303, declined.text
        after = ada.get(declined.headers["location"]).text
    assert "declined" in _notice(after) and "Replace the payment method" in _notice(after)
    assert f'action="{pay}"' in after  # still due: it can be paid again
    subscription = portal_world.ledger.subscriptions.get(portal_world.ada_subscription)
    assert subscription.status == "past_due"
    unpaid = subscription.open_invoices[invoice]
    assert (unpaid["attempts"], unpaid["next_attempt_at"]) == (2, scheduled)


def test_pay_now_while_the_gateway_cannot_be_reached_leaves_the_attempt_to_the_billing_clock(
    portal_world: PortalWorld, monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoice, pay = _adas_overdue(portal_world)
    with portal_world.portal_client(portal_world.ada) as ada:
        values = form_values(_home(ada), pay)
        monkeypatch.setitem(portal_world.ledger.payment_gateways, "sandbox", DownGateway())
        pending = ada.post(pay, data=values)
        assert pending.status_code == 303, pending.text
        after = ada.get(pending.headers["location"]).text
    assert "could not be reached" in _notice(after)
    subscription = portal_world.ledger.subscriptions.get(portal_world.ada_subscription)
    assert subscription.status == "past_due"
    assert subscription.open_invoices[invoice]["retry_at"] is not None


def test_pay_now_on_another_subscribers_invoice_or_without_the_csrf_token_changes_nothing(
    portal_world: PortalWorld,
) -> None:
    overdue = _declined_renewal(portal_world, portal_world.ada, portal_world.bob)
    own, others = (f"/portal/invoices/{overdue[who]}/pay"
                   for who in (portal_world.ada, portal_world.bob))
    with portal_world.portal_client(portal_world.ada) as ada:
        values = form_values(_home(ada), own)
        before = log_envelopes(portal_world.ledger)
        foreign = ada.post(others, data=values)
        missing = ada.post(own, data={"idempotency_key": values["idempotency_key"]})
        forged = ada.post(own, data={**values, "csrf_token": "forged"})
    assert (foreign.status_code, missing.status_code, forged.status_code) == (403, 403, 403)
    assert log_envelopes(portal_world.ledger) == before


def test_a_double_submitted_pay_now_charges_once(portal_world: PortalWorld) -> None:
    invoice, pay = _adas_overdue(portal_world)
    with portal_world.portal_client(portal_world.ada) as ada:
        _replace_card(ada, "tok_visa")
        values = form_values(_home(ada), pay)
        first, second = ada.post(pay, data=values), ada.post(pay, data=values)
    assert (first.status_code, second.status_code) == (303, 303)
    assert first.headers["location"] == second.headers["location"]
    charged = [e for e in log_envelopes(portal_world.ledger, types=("ChargeSucceeded",))
               if e["data"]["invoice_id"] == invoice]
    assert len(charged) == 1
    assert len(log_envelopes(portal_world.ledger, types=("ChargeRetryScheduled",))) == 1


def test_pay_now_on_an_invoice_already_paid_is_the_ledgers_refusal(
    portal_world: PortalWorld,
) -> None:
    invoice, pay = _adas_overdue(portal_world)
    with portal_world.portal_client(portal_world.ada) as ada:
        _replace_card(ada, "tok_visa")
        stale = form_values(_home(ada), pay)
        assert ada.post(pay, data=stale).status_code == 303
        before = log_envelopes(portal_world.ledger)
        again = ada.post(pay, data={**stale, "idempotency_key": "another-tab"})
    assert again.status_code == 409 and again.headers["content-type"].startswith("text/html")
    assert "invoice-not-open" in again.text
    assert log_envelopes(portal_world.ledger) == before


def test_only_a_subscriber_with_an_invoice_in_dunning_sees_pay_now(
    portal_world: PortalWorld,
) -> None:
    _declined_renewal(portal_world, portal_world.bob)
    with portal_world.portal_client(portal_world.bob) as bob:
        assert "Pay now" in _home(bob)
    with portal_world.portal_client(portal_world.ada) as ada:
        home = _home(ada)
    assert "Pay now" not in home and '/pay"' not in home


def test_a_canceled_subscriptions_unpaid_invoice_offers_no_pay_now(portal_world: PortalWorld) -> None:
    _declined_renewal(portal_world, portal_world.bob)
    portal_world.ledger.subscriptions.cancel(portal_world.bob_subscription, when="now")
    with portal_world.portal_client(portal_world.bob) as bob:
        home = _home(bob)
    assert "Pay now" not in home and '/pay"' not in home
