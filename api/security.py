"""API keys and roles. Unset keys = an open server (for local use only, logged loudly).

A key comes in a header (``Authorization: Bearer`` or ``X-API-Key``), or, for reads only,
as the pages' signed session cookie (``sessions.py``): a cookie goes with every request a
browser makes, so it never authorises a write; the pages' own forms carry a CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request

from .sessions import COOKIE, Sessions

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_ROLES = frozenset({"writer", "admin"})


class ApiProblem(Exception):
    """An error of the HTTP edge itself (auth, framing), not of the ledger."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Principal:
    role: str
    scope: str
    """Idempotency keys are scoped per API key (a hash of it), or global when open."""


OPEN = Principal(role="admin", scope="global")


def _presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        return None
    return request.headers.get("x-api-key")


def authenticate(request: Request, api_keys: Mapping[str, str],
                 sessions: Sessions | None = None) -> Principal:
    if not api_keys:
        return OPEN
    presented = _presented_key(request)
    if presented is None and sessions is not None and request.method in READ_METHODS:
        presented = sessions.key_of(sessions.loads(request.cookies.get(COOKIE), time.time()))
    if presented is None:
        raise ApiProblem("unauthorized", "this server needs an API key")
    principal = key_principal(presented, api_keys)
    if principal is None:
        raise ApiProblem("unauthorized", "unknown API key")
    if request.method not in READ_METHODS and principal.role not in WRITE_ROLES:
        raise ApiProblem("forbidden", f"a {principal.role} key may not {request.method} {request.url.path}")
    return principal


def key_principal(presented: str, api_keys: Mapping[str, str]) -> Principal | None:
    """Who ``presented`` is among ``api_keys``, or None for an unknown key. Idempotency keys
    are scoped to the API key, however it came (a header or a session)."""
    role = None
    for key, key_role in api_keys.items():
        if hmac.compare_digest(key.encode(), presented.encode()):
            role = key_role
    if role is None:
        return None
    return Principal(role=role, scope="key:" + hashlib.sha256(presented.encode()).hexdigest()[:32])


def require_admin(principal: Principal, what: str) -> Principal:
    """Only an ``admin`` key (or an open server) may ``what``."""
    if principal.role != "admin":
        raise ApiProblem("forbidden", f"a {principal.role} key may not {what}; this needs an admin key")
    return principal
