"""Request dependencies: the ledger, the caller's principal, ids."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Request

from subledger.commands.ledger import Ledger
from subledger.domain.errors import InvalidInput, NotFound

from .security import Principal, authenticate


def get_ledger(request: Request) -> Ledger:
    return request.app.state.ledger  # type: ignore[no-any-return]


def get_principal(request: Request) -> Principal:
    return authenticate(request, request.app.state.settings.api_keys)


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
Limit = Annotated[int, Query(ge=1, le=1000, description="page size, at most 1000")]


def path_id(value: str, not_found: type[NotFound]) -> UUID:
    """A malformed id in a path names nothing: 404, like an unknown one."""
    try:
        return UUID(value)
    except ValueError:
        raise not_found(f"no such id {value!r}") from None


def parse_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or len(cursor) > 18:
        raise InvalidInput("cursor must be a value of next_cursor from a previous page")
    return int(cursor)
