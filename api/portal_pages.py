"""Pages whose visitor holds no API key: the public pricing page and the subscriber's portal
(a signed link). They are rendered in the one environment with the pages' headers
(:mod:`.pages`), extend ``templates/public.html`` (base.html without the dashboard's
navigation, signed-in key or open-server notice), and show an error as a page.

An error on a page is the same problem as over JSON (the status and title come from the
one error map, :mod:`.problems`), laid out as HTML for a person.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from fastapi.responses import HTMLResponse, Response

from subledger.domain.errors import DomainError

from .pages import html
from .problems import RETRY_AFTER, problem_catalog, status_of
from .security import ApiProblem

F = TypeVar("F", bound=Callable[..., Response])
HTML = {200: {"content": {"text/html": {"schema": {"type": "string"}}},
              "description": "The page, as HTML"}}
"""The OpenAPI answer of a public page (the pricing page is in the document)."""


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return html(template, status=status, headers=RETRY_AFTER if status == 503 else None,
                **context)


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
