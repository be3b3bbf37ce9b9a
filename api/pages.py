"""The pages for people: their templates (Jinja2, ``templates/``), their assets (``static/``,
served at ``/assets``), the headers every page answers with, and reading a page's form.

Every page extends ``templates/base.html`` (the header, who is signed in, the open-server
notice, the skip link) and loads only what the app serves itself: no CDN, no inline script
or style (the Content-Security-Policy refuses them), so a page works without internet. The
dashboard's pages are rendered for a :class:`PageVisit` (:func:`render`); the pricing page
and the portal, whose visitor holds no API key, through :mod:`.portal_pages`, which
overrides base.html's header blocks.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from .formats import day, money
from .page_session import PageVisit
from .sessions import CSRF_FIELD

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
ASSETS = "/assets"
FORM_TYPE = "application/x-www-form-urlencoded"
FORM_PATHS = ("/login", "/logout", "/dashboard/", "/portal/")
"""Paths whose POSTs are a page's form (URL-encoded); every other write takes JSON alone.
Each such form proves it comes from its own page with a CSRF token: the page session's
(:mod:`.sessions`) or, in the portal, the portal session's (:mod:`.portal_auth`)."""
MAX_FORM_FIELDS = 50
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@lru_cache(maxsize=1)
def templates() -> Environment:
    """The one Jinja2 environment of the app's HTML (pages and documents)."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["money"] = lambda amount, currency: money(int(amount), currency)
    env.filters["day"] = day
    return env


def mount_assets(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="assets")


def html(name: str, *, status: int = 200, headers: dict[str, str] | None = None,
         **context: Any) -> HTMLResponse:
    """``templates/name`` as a page with the pages' headers (and ``headers`` besides)."""
    page = templates().get_template(name).render(assets=ASSETS, csrf_field=CSRF_FIELD, **context)
    return HTMLResponse(page, status_code=status, headers={**HEADERS, **(headers or {})})


def render(request: Request, visit: PageVisit, name: str, *, status: int = 200,
           **context: Any) -> HTMLResponse:
    """``templates/name`` as a page for ``visit``, with the session cookie it needs."""
    response = html(name, status=status, visit=visit, csrf_token=visit.csrf_token,
                    path=request.url.path, **context)
    visit.remember(response, request)
    return response


def page_problem(request: Request, visit: PageVisit, status: int, title: str,
                 detail: str) -> HTMLResponse:
    """An error a person reads (a page's form refused), as a page rather than JSON."""
    return render(request, visit, "problem.html", status=status, title=title, detail=detail)


async def session_form(request: Request, visit: PageVisit, where: str) -> dict[str, str] | HTMLResponse:
    """The page's form when it carries this session's CSRF token; else the page refusing it
    (403), which tells the person to open ``where`` again."""
    form = await read_form(request)
    if visit.csrf_ok(form):
        return form
    return page_problem(request, visit, 403, "The form has expired",
                        f"This form is not from this session; open {where} again.")


async def read_form(request: Request) -> dict[str, str]:
    """A page's URL-encoded form (at most 1 MiB, as every body: ``app.BodyLimit``); a field
    sent twice keeps its first value."""
    form: dict[str, str] = {}
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        fields = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:
        return {}  # more fields than any page's form has: no field is trusted
    for name, value in fields:
        form.setdefault(name, value)
    return form
