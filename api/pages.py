"""Pages for people (the pricing page, the portal): one Jinja2 environment with the filters
they share, and errors shown as a page.

An error on a page is the same problem as over JSON (the status and title come from the
one error map, :mod:`.problems`), laid out as HTML for a person.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from subledger.domain.errors import DomainError

from .documents import TEMPLATES, day, money
from .problems import RETRY_AFTER, problem_catalog, status_of
from .security import ApiProblem

F = TypeVar("F", bound=Callable[..., Response])
HTML = {200: {"content": {"text/html": {"schema": {"type": "string"}}},
              "description": "The page, as HTML"}}
SECURITY_HEADERS = {
    # Pages use no script, frame nothing and load nothing from elsewhere.
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
                               " form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@lru_cache(maxsize=1)
def templates() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    env.filters["money"] = lambda amount, currency: money(int(amount), currency)
    env.filters["day"] = day
    return env


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = templates().get_template(template).render(**context)
    headers = dict(SECURITY_HEADERS)
    if status == 503:
        headers.update(RETRY_AFTER)
    return HTMLResponse(html, status_code=status, headers=headers)


def error_page(code: str, detail: str, status: int | None = None) -> HTMLResponse:
    kind = problem_catalog()[code]
    return page("portal/error.html", status or kind.status, title=kind.title, detail=detail,
                code=code)


def shows_errors(route: F) -> F:
    """Answer the ledger's and the edge's refusals of ``route`` as an error page."""

    @wraps(route)
    def guarded(*args: Any, **kwargs: Any) -> Response:
        try:
            return route(*args, **kwargs)
        except ApiProblem as refused:
            return error_page(refused.code, refused.detail)
        except DomainError as refused:
            return error_page(refused.code, refused.detail, status_of(type(refused)))

    return guarded  # type: ignore[return-value]
