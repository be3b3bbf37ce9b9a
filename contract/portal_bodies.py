"""The public body of a portal session, a table of fields like :mod:`.bodies`."""

from __future__ import annotations

from typing import Any

from subledger.domain.portal_session import PortalSession
from subledger.domain.time import isoformat

from . import schema_types as t
from .bodies import Body, Field


def _time(value: Any) -> str | None:
    return None if value is None else isoformat(value)


PORTAL_SESSION = Body("PortalSessionOut", (
    Field("portal_session_id", t.UUID, str, lambda s: str(s.id)),
    Field("subscriber_id", t.UUID, str, lambda s: str(s.subscriber_id)),
    Field("opened_at", t.TIME, str, lambda s: isoformat(s.opened_at)),
    Field("expires_at", t.TIME, str, lambda s: isoformat(s.expires_at)),
    Field("revoked_at", t.nullable(t.TIME), str | None, lambda s: _time(s.revoked_at)),
    Field("actions", t.INTEGER, int, lambda s: s.actions),
))
"""A portal session: whose it is, until when, whether it was revoked, and how many changes
were made through it. (Its link is the answer of opening it, never stored.)"""


def portal_session_body(session: PortalSession) -> dict[str, Any]:
    return PORTAL_SESSION.of(session)
