"""The FastAPI application: routers, the body-size limit, and the one place where every
error becomes a problem document."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import iter_route_contexts
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import subledger
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.errors import DomainError
from subledger.projections.store import ViewStore

from . import openapi
from .json_bodies import RepeatedKey
from .pages import FORM_PATHS, FORM_TYPE, mount_assets
from .portal_auth import link_key
from .positions import Positions
from .problems import STORE_UNAVAILABLE, domain_problem, edge_problem, problem
from .routes import (
    audit,
    billing,
    catalog,
    cohorts,
    corrections,
    dashboard,
    invoices,
    log,
    login,
    portal,
    portal_actions,
    portal_sessions,
    pricing,
    receivables,
    reports,
    subscribers,
    subscriptions,
)
from .routes.gateway_events import router as gateway_events_router
from .routes.webhooks import router as webhooks_router
from .security import ApiProblem
from .sessions import Sessions, deployment_secret

logger = logging.getLogger("subledger.api")

MAX_BODY_BYTES = 1024 * 1024
_JSON_TYPES = ("application/json",)


class BodyLimit:
    """Refuse request bodies over 1 MiB with 413, whether announced or streamed, and
    write bodies that are not JSON with 415."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope.get("path")
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await edge_problem("payload-too-large", f"the body has {length} bytes", path)(scope, receive, send)
            return
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        announces_body = (length not in (None, "0")) or "transfer-encoding" in headers
        page_form = content_type == FORM_TYPE and str(path).startswith(FORM_PATHS)
        if (
            scope["method"] in ("POST", "PUT", "PATCH")
            and announces_body
            and not (content_type in _JSON_TYPES or content_type.endswith("+json") or page_form)
        ):
            await edge_problem(
                "unsupported-media-type", f"send application/json, not {content_type or 'nothing'}", path
            )(scope, receive, send)
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        # Read the whole body first (it is at most 1 MiB), so that a streamed body over the
        # limit is refused with 413 before any route sees it.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await edge_problem("payload-too-large", "the body exceeds 1 MiB", path)(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def create_app(
    settings: Settings,
    ledger: Ledger,
    *,
    projection_lag: Callable[[], Mapping[str, int]] = dict,
    views: ViewStore | None = None,
    read_models: Collection[str] = (),
) -> FastAPI:
    """The API over ``ledger``. ``projection_lag`` reports each projection's lag in events
    for ``/readyz`` (none run yet with the ledger core alone); ``read_models`` names the read
    models whose checkpoints a read waits on when it asks for a position of the log."""
    # /docs loads Swagger UI from files the app serves itself, not from a CDN: the first page
    # a newcomer opens must work without internet. One docs page: ReDoc is off, since even
    # served locally it fetches its logo from its vendor's CDN.
    app = FastAPIOffline(
        redoc_url=None,
        title="subledger",
        version=subledger.__version__,
        summary="An event-sourced subscription ledger.",
        description=(
            "Every write appends events to an immutable log. Amounts are integer minor "
            "units; times are ISO-8601 UTC. Errors are RFC 9457 problem documents whose "
            "`type` is `/problems/<code>`. Every write accepts an `Idempotency-Key` header "
            "and an optional `effective_at`. A preview (`POST .../preview`) is not a write: "
            "it appends nothing and takes no `Idempotency-Key`."
        ),
    )
    app.state.settings = settings
    app.state.ledger = ledger
    app.state.projection_lag = projection_lag
    app.state.views = views
    app.state.read_models = tuple(read_models)
    secret = deployment_secret(settings)
    app.state.sessions = Sessions(secret, settings.api_keys)
    app.state.portal_secret = link_key(secret)
    if not settings.api_keys:
        logger.warning(
            "SUBLEDGER_API_KEYS is unset: the API is OPEN to anyone who can reach it. "
            "Use this only on a local machine."
        )
    if ledger.keys is None:
        logger.warning(
            "SUBLEDGER_CIPHER_KEY is unset: personal data (e-mails, names, payment tokens, "
            "comments) is stored IN CLEAR in the log, and forgetting a subscriber cannot erase it "
            "(docs/privacy.md)."
        )

    for router in (catalog.router, subscribers.router, subscriptions.router, billing.router,
                   corrections.router, invoices.router, reports.router, cohorts.router,
                   receivables.router, log.router, audit.router):
        app.include_router(router)
    app.include_router(webhooks_router)
    app.include_router(gateway_events_router)
    for router in (portal_sessions.router, pricing.router, portal.router, portal_actions.router):
        app.include_router(router)
    app.include_router(login.router)
    app.include_router(dashboard.router)
    mount_assets(app)

    _install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(Positions)
    openapi.install(app, secured=bool(settings.api_keys), gateways=ledger.gateways)
    return app


def _methods_at(request: Request) -> set[str]:
    """Every method of every route at the request's path (each method is a route of its
    own, so the one that refused knows only its own)."""
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        route = context.original_route
        if route.matches(request.scope)[0] != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return methods


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def on_domain_error(request: Request, error: DomainError) -> Response:
        return domain_problem(error, request.url.path)

    @app.exception_handler(ApiProblem)
    async def on_api_problem(request: Request, error: ApiProblem) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if error.code == "unauthorized" else None
        response = edge_problem(error.code, error.detail, request.url.path)
        if headers:
            response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, error: RequestValidationError) -> Response:
        errors = error.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            cause = error.__cause__
            detail = str(cause.msg) if isinstance(cause, RepeatedKey) else "the body is not valid JSON"
            return edge_problem("malformed-request", detail, request.url.path)
        details = [
            {"loc": [str(part) for part in e.get("loc", ())], "msg": e.get("msg", ""),
             "type": e.get("type", "")}
            for e in errors
        ]
        summary = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details[:5])
        return edge_problem("validation-error", summary, request.url.path, errors=details)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 400:
            # The framework could not parse the body (bad UTF-8, nesting too deep, ...).
            return edge_problem("malformed-request", str(error.detail), request.url.path)
        if error.status_code == 404:
            return edge_problem("route-not-found", f"no route {request.url.path}", request.url.path)
        if error.status_code == 405:
            # RFC 9110: a 405 names the methods the resource has.
            refused = edge_problem("method-not-allowed", f"{request.method} is not allowed here",
                                   request.url.path)
            refused.headers["Allow"] = ", ".join(sorted(_methods_at(request)))
            return refused
        return problem(error.status_code, "http-error", str(error.detail), str(error.detail),
                       request.url.path)

    async def on_store_down(request: Request, error: Exception) -> Response:
        logger.error("store unavailable: %s", error)
        return edge_problem("store-unavailable", "the store did not answer", request.url.path)

    for unavailable in STORE_UNAVAILABLE:
        app.add_exception_handler(unavailable, on_store_down)

    @app.exception_handler(Exception)
    async def on_bug(request: Request, error: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return edge_problem("internal-error", "an unexpected error occurred", request.url.path)


