"""Writes over HTTP: read the ``Idempotency-Key`` header, hand the command to the ledger,
render its answer. The guarantee itself (replays, fingerprints, the in-flight guard) is the
command side's (``subledger.commands.idempotency``), the same for every entry point."""

from __future__ import annotations

from fastapi.responses import JSONResponse, Response

from subledger.commands.idempotency import IdempotencyKey
from subledger.commands.ledger import Ledger
from subledger.commands.writes import Write

from .security import Principal

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


def respond(principal: Principal, ledger: Ledger, command: Write, header: str | None) -> Response:
    """Run ``command`` under the request's ``Idempotency-Key`` (if any) and answer it: 201
    when it creates a record, else 200; a replayed answer says so in a header."""
    key = None if header is None else IdempotencyKey(principal.scope, header)
    answer = ledger.execute(command, key)
    headers = {REPLAYED_HEADER: "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=201 if answer.created else 200, headers=headers)
