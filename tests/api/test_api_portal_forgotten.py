"""The portal of a forgotten subscriber: none is opened, and a link sent before they were
forgotten no longer opens it (their pages would show erased details)."""

from __future__ import annotations

from support.http import assert_problem
from support.ledger import log_envelopes
from support.portal import PortalWorld


def _forget(world: PortalWorld) -> None:
    with world.api() as api:
        forgotten = api.post(f"/subscribers/{world.ada}/forget")
    assert forgotten.status_code == 200, forgotten.text


def test_a_forgotten_subscriber_gets_no_portal_session_and_the_log_is_unchanged(
    portal_world: PortalWorld,
) -> None:
    _forget(portal_world)
    before = log_envelopes(portal_world.ledger)
    with portal_world.api("writer") as api:
        refused = api.post(f"/subscribers/{portal_world.ada}/portal-session")
    assert_problem(refused, 409, "subscriber-forgotten")
    assert log_envelopes(portal_world.ledger) == before


def test_a_link_sent_before_the_subscriber_was_forgotten_no_longer_opens_the_portal(
    portal_world: PortalWorld,
) -> None:
    link = portal_world.open_session(portal_world.ada)["url"]
    with portal_world.browser_client() as browser:
        assert browser.get(link).status_code == 303
        _forget(portal_world)
        home = browser.get("/portal")
        again = browser.get(link)
    assert (home.status_code, again.status_code) == (401, 401)
    assert "erased" in home.text and "None" not in home.text
