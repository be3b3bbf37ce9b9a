"""Positions of the log on answers, so that a client can read its own writes.

Reads of the read models are answered from what the projector has applied, which follows the
log by a moment. Every successful write answers ``Subledger-Position``: the log's head read
after its commit, so at or after its last event. A read of the read models sent with
``Subledger-Min-Position: P`` waits, within ``SUBLEDGER_READ_WAIT`` seconds, until every read
model has applied position P, else answers 503 ``read-model-behind``; it answers
``Subledger-Position`` too: the position its read models had applied, so a client that keeps
the largest position it has seen and sends it never reads further back than what it saw.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import WithJsonSchema
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from subledger.domain.errors import ReadModelBehind
from subledger.projections.store import ViewStore

from .deps import get_principal, get_views
from .problems import STORE_UNAVAILABLE
from .security import Principal

logger = logging.getLogger(__name__)

POSITION_HEADER = "Subledger-Position"
MIN_POSITION_HEADER = "Subledger-Min-Position"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_READ_POSITION = "subledger.read_position"
"""The scope key under which a read leaves the position its read models had applied."""
_FIRST_PAUSE, _LONGEST_PAUSE = 0.01, 0.2
"""Seconds between looks at the checkpoints while waiting: short at first (a projector
following the log is usually a page away), then no more often than five times a second."""

POSITION_TEXT = "^[0-9]{1,16}$"
"""A position as a header writes it: a whole number from 0, up to 16 digits (positions stop at
2^53 - 1, which JSON numbers hold exactly)."""
MinPosition = Annotated[str | None, WithJsonSchema({"type": "string", "pattern": POSITION_TEXT}), Header(
    alias=MIN_POSITION_HEADER, pattern=POSITION_TEXT,
    description=f"Answer only once the read models have applied this position of the log (the"
                f" `{POSITION_HEADER}` of a write, or of an earlier read); waits at most"
                f" `SUBLEDGER_READ_WAIT` seconds (5 by default), then 503 `read-model-behind`")]
"""Declared as text, as headers are sent: a client (and schemathesis) reads the schema of a
header's value as the text on the wire, where an integer schema would refuse ``"12"``."""


def applied_position(views: ViewStore, models: Collection[str]) -> int:
    """The position every one of ``models`` has applied (a model never built counts 0)."""
    positions = views.positions()
    return min((positions.get(name, 0) for name in models), default=0)


async def read_models_at(request: Request, _: Annotated[Principal, Depends(get_principal)],
                         asked: MinPosition = None) -> int:
    """The position the read models have applied, once it is ``at_least`` the one asked for
    (the caller's key is checked first, so that an unknown caller cannot make the server wait).
    The wait sleeps on the event loop and reads the checkpoints in the threadpool, so a
    waiting read holds neither."""
    at_least = None if asked is None else int(asked)
    views, models = get_views(request), request.app.state.read_models
    deadline = time.monotonic() + request.app.state.settings.read_wait
    pause = _FIRST_PAUSE
    applied = await run_in_threadpool(applied_position, views, models)
    while at_least is not None and applied < at_least:
        if time.monotonic() + pause > deadline:
            raise ReadModelBehind(
                f"the read models have applied position {applied}, {at_least - applied} short"
                f" of position {at_least}; waited {request.app.state.settings.read_wait:g} s")
        await asyncio.sleep(pause)
        pause = min(pause * 2, _LONGEST_PAUSE)
        applied = await run_in_threadpool(applied_position, views, models)
    request.scope[_READ_POSITION] = applied
    return applied


READ_MODELS = Depends(read_models_at)
"""The dependency of every route that reads the read models: ``dependencies=[READ_MODELS]``."""


def reads_read_models(dependencies: Collection[Any]) -> bool:
    """Whether a route's dependencies (``Dependant.dependencies``) include :data:`READ_MODELS`."""
    return any(d.call is read_models_at for d in dependencies)


class Positions:
    """Puts ``Subledger-Position`` on every successful write (the log's head once the write
    has committed, a replayed answer's too) and on every read of the read models (what they
    had applied). One place for every write route, so none can leave it out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                position = await self._position(scope)
                if position is not None:
                    message["headers"] = [*message.get("headers", ()),
                                          (POSITION_HEADER.lower().encode(), str(position).encode())]
            await send(message)

        await self.app(scope, receive, answer)

    async def _position(self, scope: Scope) -> int | None:
        if _READ_POSITION in scope:
            return int(scope[_READ_POSITION])
        if scope["method"] not in WRITE_METHODS:
            return None
        ledger = scope["app"].state.ledger
        try:
            return int(await run_in_threadpool(ledger.event_log.max_position))
        except STORE_UNAVAILABLE:
            # The write is done: answer it, without the position the store cannot give now.
            logger.warning("the log's head could not be read after a write; answered without it")
            return None
