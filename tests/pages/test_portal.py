"""The pricing page and the portal in a real headless Chromium: what a prospect and a
subscriber see and do, with the keyboard alone too, on a laptop and a phone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.browser import LAPTOP, PHONE, screenshot
from support.keyboard import CONTROLS, tab_stops
from support.ledger import log_envelopes
from support.portal import PortalWorld

from subledger.commands.billing import run_billing


@pytest.fixture
def refused_page(browser: Any) -> Iterator[Any]:
    """A page for requests that are meant to be refused (the browser logs each refusal as
    a console error, which the ``page`` fixture counts as a failure)."""
    context = browser.new_context(viewport=LAPTOP)
    yield context.new_page()
    context.close()


def _enter(page: Any, world: PortalWorld, subscriber: Any) -> None:
    response = page.goto(world.open_session(subscriber)["url"])
    assert response.status == 200 and page.url.endswith("/portal"), page.url


def _submit(page: Any, label: str) -> None:
    """Press a form's button and wait for the page it answers (reading before it arrives
    would read the page the form was on)."""
    with page.expect_navigation():
        page.click(f"button:has-text('{label}')")


def _amounts(page: Any, selector: str) -> list[int]:
    return [int(v) for v in page.eval_on_selector_all(
        selector, "cells => cells.map(c => c.dataset.amount)")]


def test_the_pricing_page_lists_the_plans_on_sale_and_never_an_archived_one(
    portal_world: PortalWorld, page: Any,
) -> None:
    assert page.goto(f"{portal_world.url}/pricing").status == 200
    plans = page.eval_on_selector_all("li.plan", "items => items.map(i => i.dataset.planId)")
    assert sorted(plans) == ["basic-m", "basic-y", "pro-eur", "pro-m"]
    assert "legacy" not in page.content().lower()
    assert page.locator("h2", has_text="Plans in EUR").count() == 1
    assert "14-day free trial" in page.inner_text("li[data-plan-id=basic-y]")
    offers = page.inner_text("#offers + ul")
    assert "LOYAL10" in offers and "10% off for 3 months" in offers and "OLD50" not in offers
    screenshot(page, "pricing")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "pricing-phone")


def test_a_portal_upgrade_invoices_exactly_the_proration_it_previewed(
    portal_world: PortalWorld, page: Any,
) -> None:
    _enter(page, portal_world, portal_world.ada)
    portal_world.catch_up()
    page.reload()
    screenshot(page, "portal")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "portal-phone")
    page.set_viewport_size(LAPTOP)
    page.select_option("select[name=plan_id]", "pro-m")
    page.fill("input[name=quantity]", "2")
    _submit(page, "Preview the change")
    lines, due = _amounts(page, "tr.line td.amount"), _amounts(page, "td.proration-due")[0]
    assert len(lines) == 2 and lines[0] < 0 < lines[1] and due == sum(lines)
    screenshot(page, "portal-change")
    portal_world.clock.advance(minutes=3)  # the subscriber reads before confirming
    _submit(page, "Confirm the change")
    assert "Your subscription was changed." in page.inner_text("[role=status]")
    invoice = log_envelopes(portal_world.ledger, types=("InvoiceIssued",))[-1]["data"]
    assert [line["amount"] for line in invoice["lines"]] == lines and invoice["total"] == due
    subscription = portal_world.ledger.subscriptions.get(portal_world.ada_subscription)
    assert (subscription.plan_id, subscription.quantity) == ("pro-m", 2)


def test_a_portal_cancels_at_period_end_and_revokes_the_cancellation(
    portal_world: PortalWorld, page: Any,
) -> None:
    _enter(page, portal_world, portal_world.ada)
    _submit(page, "Cancel at period end")
    assert "will end at the end of the current period" in page.inner_text("[role=status]")
    assert "ends 2026-04-01" in page.inner_text(".status")
    assert portal_world.ledger.subscriptions.get(portal_world.ada_subscription).cancel_at is not None
    _submit(page, "Keep my subscription")
    assert "The cancellation was revoked" in page.inner_text("[role=status]")
    assert portal_world.ledger.subscriptions.get(portal_world.ada_subscription).cancel_at is None
    assert page.locator("button:has-text('Cancel at period end')").count() == 1


def test_a_paused_subscription_is_resumed_before_it_changes_and_canceled_at_once(
    portal_world: PortalWorld, page: Any,
) -> None:
    """A paused subscription has no period to run out: the portal offers no change (it
    would be refused) and its cancel button ends it now, instead of a "Cancel at period
    end" that the ledger refuses for a paused subscription."""
    _enter(page, portal_world, portal_world.ada)
    _submit(page, "Pause")
    assert "Your subscription is paused." in page.inner_text("[role=status]")
    assert page.locator("button:has-text('Preview the change')").count() == 0
    assert "Resume the subscription to change its plan or seats." in page.inner_text("main")
    assert page.locator("button:has-text('Cancel at period end')").count() == 0
    _submit(page, "Cancel now")
    assert "Your subscription was canceled." in page.inner_text("[role=status]")
    assert portal_world.ledger.subscriptions.get(portal_world.ada_subscription).status == "canceled"


def test_a_past_due_subscriber_replaces_the_card_and_pays_now(
    portal_world: PortalWorld, page: Any,
) -> None:
    portal_world.ledger.subscribers.set_payment_method(portal_world.ada, gateway="sandbox",
                                                       token="tok_chargeDeclined")
    portal_world.clock.advance(days=22)  # past the April renewal, which is declined
    run_billing(portal_world.ledger, portal_world.clock())
    _enter(page, portal_world, portal_world.ada)
    assert "USD 10.00" in page.inner_text("form.overdue")
    screenshot(page, "portal-pay-now")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(LAPTOP)
    page.fill("input[name=token]", "tok_visa")
    _submit(page, "Replace")
    _submit(page, "Pay now")
    assert "The invoice was paid." in page.inner_text("[role=status]")
    assert page.locator("form.overdue").count() == 0
    assert page.inner_text(".status") == "active"


def test_a_subscriber_corrects_their_name_and_email_address(
    portal_world: PortalWorld, page: Any,
) -> None:
    _enter(page, portal_world, portal_world.ada)
    assert page.input_value("#details-email") == "ada@example.com"
    page.fill("#details-name", "Ada Lovelace")
    page.fill("#details-email", "ada.lovelace@example.com")
    _submit(page, "Save my details")
    assert page.inner_text("[role=status]") == "Your details were changed."
    assert page.inner_text("h1") == "Hello, Ada Lovelace"
    assert page.input_value("#details-email") == "ada.lovelace@example.com"
    (changed,) = log_envelopes(portal_world.ledger, types=("SubscriberDetailsChanged",))
    assert changed["data"]["changes"] == {"email": "ada.lovelace@example.com",
                                          "name": "Ada Lovelace"}


def test_a_portal_session_cannot_open_another_subscribers_subscription(
    portal_world: PortalWorld, refused_page: Any,
) -> None:
    page = refused_page
    _enter(page, portal_world, portal_world.ada)
    other = page.goto(f"{portal_world.url}/portal/subscriptions/{portal_world.bob_subscription}"
                      "/change?plan_id=pro-m")
    assert other.status == 403 and "may not use" in page.inner_text("[role=alert]")


def test_an_expired_link_and_a_revoked_session_are_refused(
    portal_world: PortalWorld, refused_page: Any,
) -> None:
    page = refused_page
    expiring = portal_world.open_session(portal_world.ada, ttl_seconds=60)["url"]
    portal_world.clock.advance(seconds=60)
    assert page.goto(expiring).status == 401 and "expired" in page.inner_text("[role=alert]")
    session = portal_world.open_session(portal_world.ada)
    assert page.goto(session["url"]).status == 200
    with portal_world.api("admin") as admin:
        assert admin.delete(f"/portal-sessions/{session['portal_session_id']}").status_code == 200
    assert page.reload().status == 401 and "revoked" in page.inner_text("[role=alert]")


def test_the_keyboard_alone_reaches_every_control(
    portal_world: PortalWorld, page: Any,
) -> None:
    _enter(page, portal_world, portal_world.ada)
    pages = [page.url, f"{portal_world.url}/portal/subscriptions/{portal_world.ada_subscription}"
             "/change?plan_id=pro-m&quantity=1", f"{portal_world.url}/pricing"]
    for url in pages:
        page.goto(url)
        controls = page.evaluate(CONTROLS)
        reached = tab_stops(page)
        assert controls and set(controls) <= set(reached), (url, set(controls) - set(reached))
    page.goto(pages[0])
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # sign out, from the keyboard
    assert "You are signed out" in page.inner_text("h1")
