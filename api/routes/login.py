"""Signing in to the pages with an API key, and out: ``GET``/``POST /login``, ``POST /logout``.

Pages, not API operations (left out of the OpenAPI document): their forms are URL-encoded,
carry the session's CSRF token, and answer HTML or a redirect.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..json_bodies import api_router
from ..page_session import PageVisit, sign_in, sign_out, visit
from ..pages import render, session_form
from ..security import key_principal
from ..sessions import LIFETIME

router = api_router(include_in_schema=False)


def local_target(target: str | None) -> str:
    """Where to go after signing in: a path of this server only (never ``//host`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_page(request: Request, page: PageVisit, target: str, *, error: str | None = None,
               status: int = 200) -> HTMLResponse:
    return render(request, page, "login.html", status=status, next=target, error=error,
                  hours=LIFETIME // 3600)


@router.get("/login", response_model=None)
def login_form(request: Request, next: str | None = None) -> Response:  # noqa: A002
    page = visit(request)
    target = local_target(next)
    if page.principal is not None:
        return RedirectResponse(target, status_code=303)
    return login_page(request, page, target)


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    page = visit(request)
    form = await session_form(request, page, "the page")
    if isinstance(form, HTMLResponse):
        return form
    target = local_target(form.get("next"))
    api_keys = request.app.state.settings.api_keys
    if not api_keys:
        return RedirectResponse(target, status_code=303)
    key = form.get("api_key", "").strip()
    if not key or key_principal(key, api_keys) is None:
        # The form again, with the reason (200: a 401 would need a WWW-Authenticate scheme
        # the browser does not have).
        return login_page(request, page, target, error="Unknown API key.")
    response = RedirectResponse(target, status_code=303)
    sign_in(request, response, request.app.state.sessions, key)
    return response


@router.post("/logout", response_model=None)
async def logout(request: Request) -> Response:
    page = visit(request)
    form = await session_form(request, page, "the page")
    if isinstance(form, HTMLResponse):
        return form
    response = RedirectResponse("/login" if not page.open_server else "/", status_code=303)
    sign_out(request, response, request.app.state.sessions)
    return response
