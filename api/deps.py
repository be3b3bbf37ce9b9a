"""Request dependencies: the ledger, the read models, the caller's principal, ids."""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Header, Path, Query, Request
from pydantic import BeforeValidator

from subledger.commands.ledger import Ledger
from subledger.domain.errors import InvalidInput, NotFound
from subledger.projections.store import ViewStore

from .inputs import UUID_TEXT, uuid_text
from .security import ApiProblem, Principal, authenticate, require_admin
from .writes import IDEMPOTENCY_HEADER


def get_ledger(request: Request) -> Ledger:
    return request.app.state.ledger  # type: ignore[no-any-return]


def get_views(request: Request) -> ViewStore:
    """The read models' database (the API's own connection)."""
    views = request.app.state.views
    if views is None:
        raise ApiProblem("store-unavailable", "this API was started without read models")
    return views  # type: ignore[no-any-return]


def get_principal(request: Request) -> Principal:
    return authenticate(request, request.app.state.settings.api_keys, request.app.state.sessions)


get_principal.before_body = get_principal  # type: ignore[attr-defined]


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
ViewsDep = Annotated[ViewStore, Depends(get_views)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


def admin_key(what: str) -> Any:
    """A dependency: the caller's principal, which must be an admin key (or an open server)
    to ``what``. As a dependency it is checked before the request's body is validated, so a
    key without the role gets its 403 whatever body it sent."""

    def require(principal: PrincipalDep) -> Principal:
        return require_admin(principal, what)

    require.before_body = lambda request: require_admin(get_principal(request), what)  # type: ignore[attr-defined]
    return Depends(require)


Limit = Annotated[int, Query(ge=1, le=1000, description="page size, at most 1000")]
CURSOR = "^[0-9]{1,18}$"
Cursor = Annotated[str | None, Query(
    description="`next_cursor` of the previous page", json_schema_extra={"pattern": CURSOR})]
IdempotencyKeyHeader = Annotated[str | None, Header(
    alias=IDEMPOTENCY_HEADER,
    description="A retry with the same key and the same command answers the first answer and"
                " appends nothing; the same key with another command is a 409 (1 to 255"
                " characters; scoped to the API key, or global when the server is open)",
    json_schema_extra={"minLength": 1, "maxLength": 255})]


_UUID_TEXT = re.compile(UUID_TEXT)


UuidQuery = Annotated[str | None, BeforeValidator(lambda v: None if v is None else uuid_text(v)),
                      Query(json_schema_extra={"format": "uuid", "pattern": UUID_TEXT})]
IdPath = Annotated[str, Path(json_schema_extra={"format": "uuid", "pattern": UUID_TEXT})]


def path_id(value: str, not_found: type[NotFound]) -> UUID:
    """A malformed id in a path names nothing: 404, like an unknown one."""
    if not _UUID_TEXT.fullmatch(value):
        raise not_found(f"no such id {value!r}")
    return UUID(value)


def parse_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 18:
        raise InvalidInput("cursor must be a value of next_cursor from a previous page")
    return int(cursor)
