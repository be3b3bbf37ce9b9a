"""A portal session's rules: its length is bounded, it closes when revoked or expired, and a
closed session can be neither used nor revoked."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from support.factories import utc

from subledger.domain.errors import InvalidInput, PortalSessionClosed
from subledger.domain.portal_session import PortalSession

OPENED = utc(2026, 3, 10, 12)


def _session(ttl_seconds: int = 3600) -> PortalSession:
    return PortalSession.open(subscriber_id=uuid4(), ttl_seconds=ttl_seconds,
                              effective_at=OPENED, recorded_at=OPENED)


@pytest.mark.parametrize("ttl", [59, 7 * 86400 + 1, True, 0])
def test_a_session_lasts_from_a_minute_to_a_week(ttl: int) -> None:
    with pytest.raises(InvalidInput):
        _session(ttl)
    assert _session(60).expires_at == OPENED + timedelta(minutes=1)


def test_a_session_is_open_until_it_expires() -> None:
    session = _session(60)
    session.check_open(OPENED + timedelta(seconds=59))
    with pytest.raises(PortalSessionClosed, match="expired"):
        session.check_open(OPENED + timedelta(seconds=60))
    with pytest.raises(PortalSessionClosed):
        session.revoke(effective_at=OPENED + timedelta(seconds=60), recorded_at=OPENED)


def test_a_revoked_session_is_closed_and_cannot_be_revoked_again() -> None:
    session = _session()
    session.revoke(effective_at=OPENED, recorded_at=OPENED)
    with pytest.raises(PortalSessionClosed, match="revoked"):
        session.check_open(OPENED)
    with pytest.raises(PortalSessionClosed):
        session.revoke(effective_at=OPENED, recorded_at=OPENED)


def test_an_action_is_counted_and_never_earlier_than_the_sessions_last_event() -> None:
    session = _session()
    session.record_action("PauseSubscription", [{"aggregate_id": str(uuid4()),
                                                 "aggregate_version": 2}],
                          recorded_at=OPENED - timedelta(seconds=1))
    assert session.actions == 1 and session.last_effective_at == OPENED
