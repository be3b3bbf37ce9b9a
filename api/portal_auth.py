"""Portal links and the requests made with them: signed tokens, the session cookie, CSRF.

A portal link carries a token ``<session id>.<expiry>.<signature>``: the signature is
HMAC-SHA256 of the session id and its expiry under a key derived from the deployment's
secret (``SUBLEDGER_SESSION_SECRET``, else the API keys: the rule of the pages' sessions,
so every process of a deployment accepts a link), so a token can be neither forged nor
extended. Opening the link stores the token in an HttpOnly, SameSite=Lax cookie scoped
to ``/portal``; every portal request then checks the signature, the expiry, and the
session in the ledger (revoked sessions are refused there). Each form carries a CSRF
token, an HMAC of the session id under the same key, checked on every POST: the portal's
own CSRF proof, since its visitor has no page session (the pages' rule, a token derived
from the visitor's session, in the field ``csrf_token`` as theirs). A change's preview seals
what it showed (the subscription, plan, seats and instant) the same way, so its
confirmation cannot be edited into another change, nor moved to another instant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from fastapi import Request

from subledger.domain.errors import DomainError, PortalSessionClosed, PortalSessionNotFound
from subledger.domain.portal_session import PortalSession
from subledger.domain.subscriber import Subscriber

from .security import ApiProblem

COOKIE = "subledger_portal"
COOKIE_PATH = "/portal"
ENTRY_PATH = "/portal/session/"
SEAL_FIELD = "preview"
SEALED = ("plan_id", "quantity", "effective_at")
"""The fields of a change's confirmation that its preview seals."""
_CONTEXT = b"subledger portal link v1"


def link_key(secret: bytes) -> bytes:
    """The key of portal links and their CSRF tokens, derived from the deployment's secret
    (:func:`.sessions.deployment_secret`) for this use alone: a page session's MAC can never
    pass for a link's."""
    return hmac.new(secret, _CONTEXT, hashlib.sha256).digest()


def _mac(secret: bytes, *parts: str) -> str:
    digest = hmac.new(secret, "|".join(parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: bytes, session: PortalSession) -> str:
    expiry = str(int(session.expires_at.timestamp()))
    return f"{session.id.hex}.{expiry}.{_mac(secret, 'portal', session.id.hex, expiry)}"


def csrf_token(secret: bytes, session: PortalSession) -> str:
    return _mac(secret, "csrf", session.id.hex)


def _read(secret: bytes, token: str, now: datetime) -> tuple[UUID, int]:
    """(session id, expiry) of a well-signed, unexpired token; else 401."""
    parts = token.split(".")
    if len(parts) != 3 or not hmac.compare_digest(parts[2], _mac(secret, "portal", *parts[:2])):
        raise ApiProblem("unauthorized", "this portal link is not valid; ask for a new one")
    if not parts[1].isdigit() or int(parts[1]) <= now.timestamp():
        raise ApiProblem("unauthorized", "this portal link has expired; ask for a new one")
    return UUID(hex=parts[0]), int(parts[1])


@dataclass(frozen=True)
class PortalVisit:
    """A request of a subscriber in their portal: their open session and who they are."""

    session: PortalSession
    subscriber: Subscriber
    csrf: str
    secret: bytes = field(repr=False)

    def check_owner(self, subscriber_id: UUID, what: str) -> None:
        """Refuse (403) anything that is not the session's own subscriber's."""
        if subscriber_id != self.subscriber.id:
            raise ApiProblem("forbidden", f"this portal session may not use {what}")

    def check_csrf(self, presented: str | None) -> None:
        if presented is None or not hmac.compare_digest(presented, self.csrf):
            raise ApiProblem("forbidden", "the form's CSRF token is missing or wrong; reload the page")

    def preview_seal(self, subscription_id: UUID, change: Mapping[str, str]) -> str:
        """The seal of a previewed change: its confirmation form's ``plan_id``, ``quantity``
        and ``effective_at`` as the preview page wrote them, for this session only."""
        values = [subscription_id.hex, *(change.get(name, "").strip() for name in SEALED)]
        return _mac(self.secret, "preview", self.session.id.hex, json.dumps(values))

    def check_preview(self, subscription_id: UUID, form: Mapping[str, str]) -> None:
        """Refuse (403) a confirmation whose change or instant is not the one previewed:
        an instant moved back would prorate time already used as unused."""
        presented = form.get(SEAL_FIELD)
        if presented is None or not hmac.compare_digest(
                presented, self.preview_seal(subscription_id, form)):
            raise ApiProblem("forbidden", "this change is not the one previewed; preview it again")


def visit(request: Request, token: str | None = None) -> PortalVisit:
    """The portal visit of ``token`` (else of the request's cookie), or 401."""
    ledger = request.app.state.ledger
    secret = request.app.state.portal_secret
    token = token if token is not None else request.cookies.get(COOKIE)
    if not token:
        raise ApiProblem("unauthorized", "open the portal with the link you were sent")
    session_id, expiry = _read(secret, token, ledger.store.clock())
    try:
        session = ledger.portal_sessions.usable(session_id)
    except (PortalSessionClosed, PortalSessionNotFound) as error:
        raise ApiProblem("unauthorized", f"{error.detail}; ask for a new link") from None
    if int(session.expires_at.timestamp()) != expiry:
        raise ApiProblem("unauthorized", "this portal link is not valid; ask for a new one")
    subscriber = ledger.subscribers.get(session.subscriber_id)
    if subscriber.forgotten_at is not None:  # forgotten after the link was sent
        raise ApiProblem("unauthorized", "this portal is closed: the subscriber's data was erased")
    return PortalVisit(session, subscriber, csrf_token(secret, session), secret)


def is_visitor(request: Request) -> bool:
    """Whether the request opens the portal (a valid link's cookie): only such a visitor may
    make a portal page wait for a position (``positions.reads``)."""
    try:
        visit(request)
    except (ApiProblem, DomainError):
        return False
    return True
