"""Portal sessions over the API: an admin or writer key opens one for a subscriber and gets
its signed link; any key reads one; an admin or writer key revokes it."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from subledger.commands.idempotency import IdempotencyKey
from subledger.commands.portal_writes import OpenPortalSession, RevokePortalSession
from subledger.contract.portal_bodies import portal_session_body
from subledger.domain.errors import PortalSessionNotFound, SubscriberNotFound

from ..deps import IdempotencyKeyHeader, IdPath, LedgerDep, PrincipalDep, path_id
from ..json_bodies import api_router
from ..portal_auth import ENTRY_PATH, sign
from ..requests import PortalSessionIn
from ..schemas import PortalSessionLinkOut, PortalSessionOut
from ..writes import respond

router = api_router(tags=["portal"])
CLOSED = {409: {"description": "`portal-session-closed`: the session was already revoked or"
                               " has expired"}}


@router.post("/subscribers/{subscriber_id}/portal-session", status_code=201,
             response_model=PortalSessionLinkOut)
def open_session(request: Request, subscriber_id: IdPath, ledger: LedgerDep,
                 principal: PrincipalDep, body: PortalSessionIn | None = None,
                 key: IdempotencyKeyHeader = None) -> Response:
    """Open a portal session for the subscriber and answer its signed link (`url`), which
    works until `expires_at` (default `SUBLEDGER_PORTAL_TTL`, 1 hour) unless revoked. Send
    the link to the subscriber only: whoever holds it manages their subscriptions."""
    ttl = body.ttl_seconds if body is not None and body.ttl_seconds is not None else None
    command = OpenPortalSession(path_id(subscriber_id, SubscriberNotFound),
                                ttl if ttl is not None else request.app.state.settings.portal_ttl)
    answer = ledger.execute(command, None if key is None else IdempotencyKey(principal.scope, key))
    session = ledger.portal_sessions.get(path_id(answer.body["portal_session_id"], PortalSessionNotFound))
    url = str(request.base_url).rstrip("/") + ENTRY_PATH + sign(request.app.state.portal_secret, session)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse({**answer.body, "url": url}, status_code=201, headers=headers)


@router.get("/portal-sessions/{portal_session_id}", response_model=PortalSessionOut)
def get_session(portal_session_id: IdPath, ledger: LedgerDep, _: PrincipalDep) -> dict[str, Any]:
    """A portal session: until when it works, whether it was revoked, and how many changes
    were made through it (its link is answered only when it is opened)."""
    return portal_session_body(ledger.portal_sessions.get(
        path_id(portal_session_id, PortalSessionNotFound)))


@router.delete("/portal-sessions/{portal_session_id}", response_model=PortalSessionOut,
               responses=CLOSED)
def revoke_session(portal_session_id: IdPath, ledger: LedgerDep, principal: PrincipalDep,
                   key: IdempotencyKeyHeader = None) -> Response:
    """Revoke a portal session now: its link and its pages refuse every request from then
    on (401)."""
    command = RevokePortalSession(path_id(portal_session_id, PortalSessionNotFound))
    return respond(principal, ledger, command, key)

