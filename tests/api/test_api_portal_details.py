"""Your details in the portal: a subscriber corrects their own name and e-mail address
through the API's ``ChangeSubscriberDetails``, recorded as made through their session."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from support.ledger import FakeClock, log_envelopes
from support.personal import CIPHER_KEY
from support.portal import NOW, PortalServer, PortalWorld, form_values
from support.stored_bytes import holds

from subledger.bootstrap import build_ledger
from subledger.config import Settings

DETAILS = "/portal/details"


def _home(client: Any) -> str:
    page = client.get("/portal")
    assert page.status_code == 200, page.text
    return page.text  # type: ignore[no-any-return]


def _notice(html: str) -> str:
    shown = re.search(r'<div class="notice" role="status"><p>([^<]*)</p>', html)
    assert shown is not None, "no notice"
    return shown.group(1)


def _form(client: Any) -> dict[str, str]:
    """The details form as the page shows it: its hidden fields and the current values."""
    html = _home(client)
    form = html[html.index(f'action="{DETAILS}"'):]
    form = form[:form.index("</form>")]
    shown = dict(re.findall(r'name="(name|email)"[^>]* value="([^"]*)"', form))
    return {**form_values(html, DETAILS), **shown}


def test_a_changed_email_and_name_are_recorded_through_the_portal_and_shown(
    portal_world: PortalWorld,
) -> None:
    with portal_world.portal_client(portal_world.ada) as ada:
        form = _form(ada)
        assert (form["name"], form["email"]) == ("Ada", "ada@example.com")
        done = ada.post(DETAILS, data={**form, "name": "Ada Lovelace",
                                       "email": "ada.lovelace@example.com"})
        assert done.status_code == 303, done.text
        after = ada.get(done.headers["location"]).text
    assert _notice(after) == "Your details were changed."
    assert "Hello, Ada Lovelace" in after and "Signed in as ada.lovelace@example.com" in after
    (changed,) = log_envelopes(portal_world.ledger, types=("SubscriberDetailsChanged",))
    assert changed["aggregate_id"] == str(portal_world.ada)
    assert changed["data"]["changes"] == {"email": "ada.lovelace@example.com",
                                          "name": "Ada Lovelace"}
    (taken,) = log_envelopes(portal_world.ledger, types=("PortalActionTaken",))
    assert taken["data"]["command"] == "ChangeSubscriberDetails"
    assert taken["data"]["events"] == [{"aggregate_id": changed["aggregate_id"],
                                        "aggregate_version": changed["aggregate_version"]}]
    assert portal_world.ledger.subscribers.get(portal_world.bob).email == "bob@example.com"


def test_a_change_of_the_email_alone_records_the_email_alone(portal_world: PortalWorld) -> None:
    with portal_world.portal_client(portal_world.ada) as ada:
        done = ada.post(DETAILS, data={**_form(ada), "email": "lovelace@example.com"})
        assert done.status_code == 303, done.text
    (changed,) = log_envelopes(portal_world.ledger, types=("SubscriberDetailsChanged",))
    assert changed["data"]["changes"] == {"email": "lovelace@example.com"}


def test_a_change_made_elsewhere_since_the_page_was_shown_is_not_written_back(
    portal_world: PortalWorld,
) -> None:
    with portal_world.portal_client(portal_world.ada) as ada:
        form = _form(ada)
        with portal_world.api("writer") as api:
            patched = api.patch(f"/subscribers/{portal_world.ada}",
                                json={"email": "billing@example.com"})
        assert patched.status_code == 200, patched.text
        done = ada.post(DETAILS, data={**form, "name": "Ada Lovelace"})
        assert done.status_code == 303, done.text
    subscriber = portal_world.ledger.subscribers.get(portal_world.ada)
    assert (subscriber.name, subscriber.email) == ("Ada Lovelace", "billing@example.com")


def test_a_details_form_left_as_it_was_appends_nothing_and_says_nothing_changed(
    portal_world: PortalWorld,
) -> None:
    before = log_envelopes(portal_world.ledger)
    with portal_world.portal_client(portal_world.ada) as ada:
        opened = log_envelopes(portal_world.ledger)
        done = ada.post(DETAILS, data=_form(ada))
        assert done.status_code == 303, done.text
        after = ada.get(done.headers["location"]).text
    assert _notice(after) == "Nothing changed: these are your details already."
    assert log_envelopes(portal_world.ledger) == opened and len(opened) == len(before) + 1


@pytest.mark.parametrize(("field", "value", "refusal"), [
    ("email", "ada.example.com", "email must be an e-mail address"),
    ("name", "A" * 201, "name must be text of 1 to 200 characters"),
    ("name", "   ", "not all white space"),
])
def test_bad_details_are_the_ledgers_refusal_shown_as_an_error_page_and_change_nothing(
    portal_world: PortalWorld, field: str, value: str, refusal: str,
) -> None:
    with portal_world.portal_client(portal_world.ada) as ada:
        form = _form(ada)
        before = log_envelopes(portal_world.ledger)
        refused = ada.post(DETAILS, data={**form, field: value})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("text/html")
    assert refusal in refused.text
    assert log_envelopes(portal_world.ledger) == before


def test_the_details_form_without_its_csrf_token_changes_nothing(portal_world: PortalWorld) -> None:
    with portal_world.portal_client(portal_world.ada) as ada:
        form = {**_form(ada), "email": "mallory@example.com"}
        before = log_envelopes(portal_world.ledger)
        forged = ada.post(DETAILS, data={**form, "csrf_token": "forged"})
        missing = ada.post(DETAILS, data={k: v for k, v in form.items() if k != "csrf_token"})
    assert (forged.status_code, missing.status_code) == (403, 403)
    assert log_envelopes(portal_world.ledger) == before
    assert portal_world.ledger.subscribers.get(portal_world.ada).email == "ada@example.com"


def test_a_double_submit_of_the_details_form_is_one_change(portal_world: PortalWorld) -> None:
    with portal_world.portal_client(portal_world.ada) as ada:
        form = {**_form(ada), "email": "lovelace@example.com"}
        first, second = ada.post(DETAILS, data=form), ada.post(DETAILS, data=form)
    assert (first.status_code, second.status_code) == (303, 303), second.text
    assert len(log_envelopes(portal_world.ledger, types=("SubscriberDetailsChanged",))) == 1
    assert len(log_envelopes(portal_world.ledger, types=("PortalActionTaken",))) == 1


def test_a_details_form_sent_after_the_subscriber_was_forgotten_is_refused_and_changes_nothing(
    portal_world: PortalWorld,
) -> None:
    with portal_world.portal_client(portal_world.ada) as ada:
        form = {**_form(ada), "name": "Ada Lovelace"}
        with portal_world.api("admin") as admin:
            assert admin.post(f"/subscribers/{portal_world.ada}/forget").status_code == 200
        before = log_envelopes(portal_world.ledger)
        refused = ada.post(DETAILS, data=form)
    assert refused.status_code == 401 and "erased" in refused.text  # the portal is closed
    assert log_envelopes(portal_world.ledger) == before


def test_with_a_cipher_key_a_name_changed_in_the_portal_is_stored_encrypted(
    settings: Settings,
) -> None:
    keyed = replace(settings, cipher_key=CIPHER_KEY)
    clock = FakeClock(NOW)
    ledger = build_ledger(keyed, clock=clock)
    try:
        with PortalServer(keyed, ledger, clock) as world, world.portal_client(world.ada) as ada:
            done = ada.post(DETAILS, data={**_form(ada), "name": "Ada Byron-7731"})
            assert done.status_code == 303, done.text
            assert "Hello, Ada Byron-7731" in ada.get(done.headers["location"]).text
    finally:
        ledger.close()
    assert holds(keyed, "Ada Byron-7731") == []
