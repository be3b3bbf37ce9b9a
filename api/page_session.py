"""Who is looking at a page: the request's session (or a new one), the principal it signed
in as, and the CSRF check of a page's form.

With ``SUBLEDGER_API_KEYS`` set, a page needs a session signed in with a key (``/login``);
without keys every visitor is the open server's admin, and the page says so. Either way a
visitor has a session, because every form's CSRF token is derived from it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request, Response

from .security import OPEN, Principal, key_principal
from .sessions import COOKIE, CSRF_FIELD, LIFETIME, Session, Sessions


@dataclass(frozen=True)
class PageVisit:
    sessions: Sessions
    session: Session
    fresh: bool
    """The session is new: the answer sets its cookie."""
    principal: Principal | None
    """None: the server has keys and this visitor has not signed in."""
    open_server: bool

    @property
    def csrf_field(self) -> str:
        return CSRF_FIELD

    @property
    def csrf_token(self) -> str:
        return self.sessions.csrf_token(self.session)

    @property
    def may_write(self) -> bool:
        return self.principal is not None and self.principal.role in ("writer", "admin")

    def csrf_ok(self, form: dict[str, str]) -> bool:
        return self.sessions.csrf_ok(self.session, form.get(CSRF_FIELD))

    def remember(self, response: Response, request: Request) -> None:
        """Set the session's cookie on ``response`` if it is new."""
        if self.fresh:
            set_cookie(response, request, self.sessions, self.session)


def visit(request: Request) -> PageVisit:
    """The page request's visitor: its session if the cookie holds a valid one, else a new one."""
    sessions: Sessions = request.app.state.sessions
    api_keys = request.app.state.settings.api_keys
    now = time.time()
    session = sessions.loads(request.cookies.get(COOKIE), now)
    fresh = session is None
    if session is None:
        session = sessions.new(now)
    if not api_keys:
        return PageVisit(sessions, session, fresh, OPEN, open_server=True)
    key = sessions.key_of(session)
    principal = None if key is None else key_principal(key, api_keys)
    return PageVisit(sessions, session, fresh, principal, open_server=False)


def sign_in(request: Request, response: Response, sessions: Sessions, key: str) -> None:
    """A new session for ``key`` (a new nonce: one set before sign-in is never kept)."""
    set_cookie(response, request, sessions, sessions.new(time.time(), key))


def sign_out(request: Request, response: Response, sessions: Sessions) -> None:
    set_cookie(response, request, sessions, sessions.new(time.time()))


def set_cookie(response: Response, request: Request, sessions: Sessions, session: Session) -> None:
    # HttpOnly: no script reads it; SameSite=Strict: no other site's page sends it; Secure
    # when served over HTTPS (a plain-HTTP local server could not set it otherwise).
    response.set_cookie(COOKIE, sessions.dumps(session), max_age=LIFETIME, path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
