"""The self-service portal over HTTP: sessions opened, used, expired and revoked; a session
touches only its own subscriber; forms need their CSRF token, and a double submit is one
change recorded as made through the portal."""

from __future__ import annotations

import re
from dataclasses import replace
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from support.ledger import log_envelopes
from support.portal import KEYS, NOW, PortalWorld, at, form_values, portal_settings

from subledger.api import portal_view
from subledger.api.app import create_app
from subledger.api.portal_forms import MAX_FIELD
from subledger.commands.billing import run_billing
from subledger.config import Settings


def _home(client: Any) -> str:
    page = client.get("/portal")
    assert page.status_code == 200, page.text
    return page.text  # type: ignore[no-any-return]


def test_a_writer_opens_a_session_whose_link_signs_the_subscriber_in(portal_world: PortalWorld) -> None:
    session = portal_world.open_session(portal_world.ada)
    assert session["expires_at"] == "2026-03-10T13:00:00Z"  # the default, one hour
    assert session["url"].startswith(portal_world.url + "/portal/session/")
    with portal_world.browser_client() as browser:
        entered = browser.get(session["url"])
        assert entered.status_code == 303 and entered.headers["location"] == "/portal"
        cookie = entered.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/portal" in cookie
        assert "Hello, Ada" in _home(browser)


def test_a_reader_key_cannot_open_a_session_and_a_ttl_is_bounded(portal_world: PortalWorld) -> None:
    with portal_world.api("reader") as reader:
        refused = reader.post(f"/subscribers/{portal_world.ada}/portal-session")
    assert refused.status_code == 403
    short = portal_world.open_session(portal_world.ada, ttl_seconds=120)
    assert short["expires_at"] == "2026-03-10T12:02:00Z"
    with portal_world.api() as admin:
        too_long = admin.post(f"/subscribers/{portal_world.ada}/portal-session",
                              json={"ttl_seconds": 8 * 86400})
        unknown = admin.post("/subscribers/00000000-0000-4000-8000-000000000000/portal-session")
    assert too_long.status_code == 422 and unknown.status_code == 404


def test_an_expired_link_and_its_pages_are_refused(portal_world: PortalWorld) -> None:
    link = portal_world.open_session(portal_world.ada, ttl_seconds=60)["url"]
    with portal_world.browser_client() as browser:
        assert browser.get(link).status_code == 303
        portal_world.clock.advance(seconds=61)
        assert browser.get("/portal").status_code == 401
        refused = browser.get(link)
    assert refused.status_code == 401 and "expired" in refused.text


def test_a_revoked_session_is_refused_and_cannot_be_revoked_again(portal_world: PortalWorld) -> None:
    session = portal_world.open_session(portal_world.ada)
    with portal_world.browser_client() as browser, portal_world.api("writer") as api:
        assert browser.get(session["url"]).status_code == 303
        revoked = api.delete(f"/portal-sessions/{session['portal_session_id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"] == "2026-03-10T12:00:00Z"
        refused = browser.get("/portal")
        assert refused.status_code == 401 and "revoked" in refused.text
        assert browser.get(session["url"]).status_code == 401
        again = api.delete(f"/portal-sessions/{session['portal_session_id']}")
    assert again.status_code == 409 and again.json()["type"] == "/problems/portal-session-closed"


def test_every_process_of_a_deployment_accepts_a_link_another_signed(
    portal_world: PortalWorld, settings: Settings,
) -> None:
    """Without SUBLEDGER_SESSION_SECRET a link is signed under the API keys, as the pages'
    sessions are: another process with the same keys accepts it, one with other keys not."""
    keyed = replace(portal_settings(settings), session_secret=None)
    one, other = (create_app(keyed, portal_world.ledger) for _ in range(2))
    rekeyed = create_app(replace(keyed, api_keys={"k-new": "admin"}), portal_world.ledger)
    writer = {"Authorization": f"Bearer {KEYS['writer']}"}
    with TestClient(one) as first, TestClient(other) as second, TestClient(rekeyed) as third:
        opened = first.post(f"/subscribers/{portal_world.ada}/portal-session", headers=writer)
        assert opened.status_code == 201, opened.text
        entry = "/portal/session/" + opened.json()["url"].rsplit("/", 1)[1]
        assert second.get(entry, follow_redirects=False).status_code == 303
        assert "Hello, Ada" in second.get("/portal").text
        assert third.get(entry, follow_redirects=False).status_code == 401


def test_a_forged_or_altered_link_is_refused(portal_world: PortalWorld) -> None:
    link = portal_world.open_session(portal_world.ada, ttl_seconds=60)["url"]
    session_id, expiry, signature = link.rsplit("/", 1)[1].split(".")
    with portal_world.browser_client() as browser:
        longer = browser.get(f"/portal/session/{session_id}.{int(expiry) + 3600}.{signature}")
        forged = browser.get(f"/portal/session/{session_id}.{expiry}.{'A' * len(signature)}")
        bare = browser.get("/portal")
    assert (longer.status_code, forged.status_code, bare.status_code) == (401, 401, 401)


def test_a_session_cannot_read_or_change_another_subscribers_things(portal_world: PortalWorld) -> None:
    bob_sub = portal_world.bob_subscription
    with portal_world.portal_client(portal_world.ada) as ada:
        values = form_values(_home(ada), f"/portal/subscriptions/{portal_world.ada_subscription}/pause")
        preview = ada.get(f"/portal/subscriptions/{bob_sub}/change", params={"plan_id": "pro-m"})
        pause = ada.post(f"/portal/subscriptions/{bob_sub}/pause", data=values)
        assert "Bob" not in _home(ada)
    assert (preview.status_code, pause.status_code) == (403, 403)
    assert portal_world.ledger.subscriptions.get(bob_sub).status == "active"


def test_a_form_without_its_csrf_token_changes_nothing(portal_world: PortalWorld) -> None:
    action = f"/portal/subscriptions/{portal_world.ada_subscription}/pause"
    with portal_world.portal_client(portal_world.ada) as ada:
        values = form_values(_home(ada), action)
        forged = ada.post(action, data={**values, "csrf_token": "forged"})
        missing = ada.post(action, data={"idempotency_key": values["idempotency_key"]})
    assert (forged.status_code, missing.status_code) == (403, 403)
    assert portal_world.ledger.subscriptions.get(portal_world.ada_subscription).status == "active"


def test_a_form_the_portal_cannot_take_is_refused_with_its_reason_and_changes_nothing(
    portal_world: PortalWorld,
) -> None:
    sub = portal_world.ada_subscription
    pause, change = f"/portal/subscriptions/{sub}/pause", f"/portal/subscriptions/{sub}/change"
    form = {"content-type": "application/x-www-form-urlencoded"}
    with portal_world.portal_client(portal_world.ada) as ada:
        values = form_values(_home(ada), pause)
        answers = {
            "json": ada.post(pause, json=values),
            "repeated": ada.post(pause, headers=form, content=urlencode(
                [*values.items(), ("idempotency_key", "another")])),
            "too long": ada.post(pause, data={**values, "note": "x" * (MAX_FIELD + 1)}),
        }
        preview = ada.get(change, params={"plan_id": "pro-m"})
        confirm = form_values(preview.text, change)
        answers["seats"] = ada.post(change, data={**confirm, "quantity": "3x"})
        answers["stale"] = ada.post(change, data={**confirm, "effective_at": "2020-01-01T00:00:00Z"})
    assert {name: (a.status_code, a.headers["content-type"].split(";")[0])
            for name, a in answers.items()} == {
        "json": (415, "text/html"), "repeated": (400, "text/html"), "too long": (400, "text/html"),
        "seats": (403, "text/html"), "stale": (403, "text/html")}
    assert "application/x-www-form-urlencoded" in answers["json"].text
    assert "repeated or too long" in answers["repeated"].text
    assert "not the one previewed" in answers["seats"].text
    assert "not the one previewed" in answers["stale"].text
    subscription = portal_world.ledger.subscriptions.get(sub)
    assert (subscription.status, subscription.plan_id) == ("active", "basic-m")
    assert log_envelopes(portal_world.ledger, types=("PortalActionTaken",)) == []


def _ten_seats_and_a_week_long_link(portal_world: PortalWorld) -> tuple[Any, str, str]:
    """Ada's subscription at 10 seats, a portal link of hers good for a week, and the path
    of the subscription's change form."""
    sub = portal_world.ada_subscription
    portal_world.ledger.subscriptions.change(sub, quantity=10)
    link = portal_world.open_session(portal_world.ada, ttl_seconds=7 * 86400)["url"]
    return sub, link, f"/portal/subscriptions/{sub}/change"


def test_a_preview_confirmed_more_than_15_minutes_later_is_refused_and_changes_nothing(
    portal_world: PortalWorld,
) -> None:
    """Confirmed a day later at its instant, a cut from 10 seats to 1 would credit a day
    already used as if it were still to come."""
    sub, link, change = _ten_seats_and_a_week_long_link(portal_world)
    with portal_world.browser_client() as ada:
        assert ada.get(link).status_code == 303
        confirm = form_values(ada.get(change, params={"quantity": "1"}).text, change)
        portal_world.clock.advance(minutes=15, seconds=1)
        late = ada.post(change, data=confirm)
        assert late.status_code == 422 and "more than 15 minutes old" in late.text
        assert portal_world.ledger.subscriptions.get(sub).quantity == 10
        again = form_values(ada.get(change, params={"quantity": "1"}).text, change)
        portal_world.clock.advance(minutes=15)
        assert ada.post(change, data=again).status_code == 303
    assert portal_world.ledger.subscriptions.get(sub).quantity == 1


def test_a_confirmation_edited_to_an_earlier_instant_or_another_change_changes_nothing(
    portal_world: PortalWorld,
) -> None:
    """Moved back to the session's opening, a cut from 10 seats to 1 previewed on day 6
    would credit 9 seats' unused time from day 0 (USD 62.41 instead of the USD 45.00
    shown): the preview seals the change and its instant."""
    sub, link, change = _ten_seats_and_a_week_long_link(portal_world)
    with portal_world.browser_client() as ada:
        assert ada.get(link).status_code == 303
        portal_world.clock.advance(days=6)
        confirm = form_values(ada.get(change, params={"quantity": "1"}).text, change)
        moved = ada.post(change, data={**confirm, "effective_at": at(NOW)})
        other = ada.post(change, data={**confirm, "quantity": "2", "idempotency_key": "other"})
        assert (moved.status_code, other.status_code) == (403, 403)
        assert "not the one previewed" in moved.text
        assert portal_world.ledger.subscriptions.get(sub).quantity == 10
        assert ada.post(change, data=confirm).status_code == 303
    issued = log_envelopes(portal_world.ledger, types=("InvoiceIssued",))[-1]
    assert issued["effective_at"] == "2026-03-16T12:00:00Z"
    assert [line["amount"] for line in issued["data"]["lines"]] == [-5000, 500]


def test_a_double_submit_is_one_change_recorded_as_made_through_the_portal(
    portal_world: PortalWorld,
) -> None:
    action = f"/portal/subscriptions/{portal_world.ada_subscription}/cancel"
    with portal_world.portal_client(portal_world.ada) as ada:
        values = form_values(_home(ada), action)
        first, second = ada.post(action, data=values), ada.post(action, data=values)
        assert "will end at the end of the current period" in ada.get(first.headers["location"]).text
    assert (first.status_code, second.status_code) == (303, 303)
    scheduled = log_envelopes(portal_world.ledger, types=("CancellationScheduled",))
    taken = log_envelopes(portal_world.ledger, types=("PortalActionTaken",))
    assert len(scheduled) == 1 and len(taken) == 1
    assert taken[0]["data"]["command"] == "CancelSubscription"
    assert taken[0]["subscriber_id"] == str(portal_world.ada)
    assert {"aggregate_id": scheduled[0]["aggregate_id"],
            "aggregate_version": scheduled[0]["aggregate_version"]} in taken[0]["data"]["events"]


def test_every_lifecycle_form_runs_the_apis_command(portal_world: PortalWorld) -> None:
    sub = portal_world.ada_subscription
    steps = [("coupon", {"coupon": "LOYAL10"}), ("pause", {}), ("resume", {}),
             ("cancel", {}), ("cancel/revoke", {})]
    with portal_world.portal_client(portal_world.ada) as ada:
        for action, fields in steps:
            path = f"/portal/subscriptions/{sub}/{action}"
            done = ada.post(path, data={**form_values(_home(ada), path), **fields})
            assert done.status_code == 303, (action, done.text)
        path = "/portal/payment-method"
        done = ada.post(path, data={**form_values(_home(ada), path), "gateway": "sandbox",
                                    "token": "tok_fail_first"})
        assert done.status_code == 303, done.text
        archived = ada.post(f"/portal/subscriptions/{sub}/coupon",
                            data={**form_values(_home(ada), f"/portal/subscriptions/{sub}/coupon"),
                                  "coupon": "OLD50"})
    assert archived.status_code == 409 and "coupon-archived" in archived.text
    subscription = portal_world.ledger.subscriptions.get(sub)
    assert subscription.status == "active" and subscription.cancel_at is None
    assert subscription.coupon["coupon_id"] == "LOYAL10"
    assert portal_world.ledger.subscribers.get(portal_world.ada).payment_method["token"] == "tok_fail_first"
    taken = log_envelopes(portal_world.ledger, types=("PortalActionTaken",))
    # A write that takes a payment saves twice (its decision, then the gateway's answer):
    # each save is recorded with its own events.
    assert [command for command, _ in groupby(e["data"]["command"] for e in taken)] == [
        "ApplyCoupon", "PauseSubscription", "ResumeSubscription", "CancelSubscription",
        "RevokeCancellation", "SetPaymentMethod"]
    recorded = {(e["aggregate_id"], e["aggregate_version"]) for e in log_envelopes(portal_world.ledger)}
    resumed = [ref for e in taken if e["data"]["command"] == "ResumeSubscription"
               for ref in e["data"]["events"]]
    assert {(r["aggregate_id"], r["aggregate_version"]) for r in resumed} <= recorded
    charged = log_envelopes(portal_world.ledger, types=("ChargeSucceeded",))[-1]
    assert {"aggregate_id": charged["aggregate_id"],
            "aggregate_version": charged["aggregate_version"]} in resumed


def test_the_portal_shows_a_change_scheduled_for_the_period_end(portal_world: PortalWorld) -> None:
    sub = portal_world.ada_subscription
    subscription = portal_world.ledger.subscriptions.change(sub, quantity=3, when="period_end")
    with portal_world.portal_client(portal_world.ada) as ada:
        home = _home(ada)
    end = subscription.current_period_end.strftime("%Y-%m-%d")
    assert re.search(rf"<dt>From {end}</dt><dd class=\"scheduled\">[^<]*× 3 seats \(scheduled\)", home)


def test_the_portal_names_the_payment_method_by_its_token_not_as_card_digits(
    portal_world: PortalWorld,
) -> None:
    token = portal_world.ledger.subscribers.get(portal_world.ada).payment_method["token"]
    with portal_world.portal_client(portal_world.ada) as ada:
        home = _home(ada)

    assert f"payment method, token ending “{token[-4:]}”" in home
    assert "card ending" not in home


def test_a_coupon_applied_again_in_the_portal_is_refused_and_changes_nothing(
    portal_world: PortalWorld,
) -> None:
    sub = portal_world.ada_subscription
    path = f"/portal/subscriptions/{sub}/coupon"
    with portal_world.portal_client(portal_world.ada) as ada:
        first = ada.post(path, data={**form_values(_home(ada), path), "coupon": "LOYAL10"})
        assert first.status_code == 303, first.text
        before = log_envelopes(portal_world.ledger)
        again = ada.post(path, data={**form_values(_home(ada), path), "coupon": "LOYAL10"})
    assert again.status_code == 409 and "coupon-already-redeemed" in again.text
    assert "already redeemed" in again.text
    assert log_envelopes(portal_world.ledger) == before


def test_the_portal_shows_invoices_with_their_pdf_and_refuses_anothers_pdf(
    portal_world: PortalWorld,
) -> None:
    portal_world.catch_up()
    with portal_world.api() as api:
        ada_invoice = api.get(f"/subscribers/{portal_world.ada}/invoices").json()["items"][0]
        bob_invoice = api.get(f"/subscribers/{portal_world.bob}/invoices").json()["items"][0]
    with portal_world.portal_client(portal_world.ada) as ada:
        home = _home(ada)
        own = ada.get(f"/portal/invoices/{ada_invoice['invoice_id']}.pdf")
        other = ada.get(f"/portal/invoices/{bob_invoice['invoice_id']}.pdf")
    assert ada_invoice["number"] in home and bob_invoice["number"] not in home
    assert own.status_code == 200 and own.content.startswith(b"%PDF")
    assert other.status_code == 403


def test_the_portal_lists_the_newest_invoices_when_there_are_more_than_it_shows(
    portal_world: PortalWorld, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(portal_view, "MAX_INVOICES", 2)
    portal_world.clock.advance(days=62)  # two renewals: April's and May's invoices
    run_billing(portal_world.ledger, portal_world.clock())
    portal_world.catch_up()
    with portal_world.api() as api:
        numbers = [i["number"] for i in api.get(f"/subscribers/{portal_world.ada}/invoices").json()["items"]]
    with portal_world.portal_client(portal_world.ada) as ada:
        shown = re.findall(r'<td data-label="Number">([^<]+)</td>', _home(ada))
    assert len(numbers) == 3 and shown == [numbers[2], numbers[1]]


def test_signing_out_revokes_the_session(portal_world: PortalWorld) -> None:
    with portal_world.portal_client(portal_world.ada) as ada:
        values = form_values(_home(ada), "/portal/sign-out")
        assert ada.post("/portal/sign-out", data=values).status_code == 200
        assert ada.get("/portal").status_code == 401
    revoked = log_envelopes(portal_world.ledger, types=("PortalSessionRevoked",))
    assert len(revoked) == 1
