"""Sessions of the pages for people: a signed cookie that remembers which API key signed in,
and the CSRF token of every form, derived from the session.

The cookie is ``base64url(JSON) "." base64url(HMAC-SHA256)``; it holds a random nonce, an
id of the API key (an HMAC of it, never the key), and an expiry. It is signed with a secret
that is ``SUBLEDGER_SESSION_SECRET`` when set, or else derived from the API keys and their
roles (:func:`deployment_secret`, which signs portal links too), so every process of one
deployment signs alike and changing the keys ends every session. An open server (no keys)
signs with a secret of its own process: its sessions carry only the nonce the forms' CSRF
tokens come from.

A session authorises what its key does, and the key is looked up again on every request: a
key removed from ``SUBLEDGER_API_KEYS`` ends its sessions at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from subledger.config import Settings

COOKIE = "subledger_session"
LIFETIME = 12 * 3600
"""Seconds a session lasts from sign-in (or, unsigned, from its first page)."""
CSRF_FIELD = "csrf_token"
"""The hidden field every state-changing form carries."""
_CONTEXT = b"subledger page session v1"


@dataclass(frozen=True)
class Session:
    nonce: str
    key_id: str | None
    """Which API key signed in (an HMAC of it); None before sign-in, or on an open server."""
    expires: int
    """Unix seconds."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def deployment_secret(settings: Settings) -> bytes:
    """What the pages' sessions and the portal's links are signed with (each under a key
    derived from it for its own use): ``SUBLEDGER_SESSION_SECRET``, or else the API keys and
    their roles, so that every process of one deployment accepts what another signed; an
    open server's own random secret, which dies with the process."""
    if settings.session_secret is not None:
        return settings.session_secret
    if settings.api_keys:
        return "\n".join(f"{k}:{r}" for k, r in sorted(settings.api_keys.items())).encode()
    return secrets.token_bytes(32)


class Sessions:
    """Makes, signs and reads sessions, for one server's keys."""

    def __init__(self, secret: bytes, api_keys: Mapping[str, str]) -> None:
        self._secret = hmac.new(secret, _CONTEXT, hashlib.sha256).digest()
        self._keys = {self._key_id(key): key for key in api_keys}

    def _mac(self, purpose: bytes, data: bytes) -> bytes:
        return hmac.new(self._secret, purpose + b"\0" + data, hashlib.sha256).digest()

    def _key_id(self, key: str) -> str:
        return _b64(self._mac(b"key", key.encode()))[:32]

    def new(self, now: float, key: str | None = None) -> Session:
        """A fresh session (a new nonce, so a sign-in never keeps a session set before it)."""
        key_id = None if key is None else self._key_id(key)
        return Session(secrets.token_urlsafe(16), key_id, int(now) + LIFETIME)

    def dumps(self, session: Session) -> str:
        body = json.dumps({"n": session.nonce, "k": session.key_id, "e": session.expires},
                          separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._mac(b'cookie', body))}"

    def loads(self, text: str | None, now: float) -> Session | None:
        """The session a cookie holds, or None if it is missing, forged or expired."""
        if not text or text.count(".") != 1:
            return None
        body_text, mac_text = text.split(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
            if not hmac.compare_digest(mac, self._mac(b"cookie", body)):
                return None
            fields = json.loads(body)
            session = Session(str(fields["n"]), fields["k"], int(fields["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > now else None

    def key_of(self, session: Session | None) -> str | None:
        """The API key a session signed in with, while it is still configured."""
        if session is None or session.key_id is None:
            return None
        return self._keys.get(session.key_id)

    def csrf_token(self, session: Session) -> str:
        return _b64(self._mac(b"csrf", session.nonce.encode()))

    def csrf_ok(self, session: Session | None, token: str | None) -> bool:
        """Whether a form's ``token`` is this session's: a page of another site cannot read it."""
        return (session is not None and token is not None
                and hmac.compare_digest(token.encode(), self.csrf_token(session).encode()))
