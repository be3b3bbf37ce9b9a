"""How a route answers rows: JSON, or CSV on request (``?format=csv``), the same way for
reports and lists."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.responses import JSONResponse, Response

Format = Annotated[Literal["json", "csv"], Query(description="json (default) or csv")]


def csv_responses(what: str, headers: Mapping[str, Any] | None = None) -> dict[int | str, Any]:
    """The OpenAPI answer of a route that can answer CSV: ``what`` it answers."""
    answer: dict[str, Any] = {"content": {"text/csv": {"schema": {"type": "string"}}},
                              "description": f"{what}; with format=csv, its rows as CSV"}
    if headers:
        answer["headers"] = dict(headers)
    return {200: answer}


def as_csv(rows: Sequence[Mapping[str, Any]], headers: Mapping[str, str] | None = None) -> Response:
    """Rows as CSV, one column per key of the first row (no rows: an empty body)."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def answer(body: dict[str, Any], rows_key: str, fmt: str) -> Response:
    """``body`` as JSON, or its ``rows_key`` rows as CSV."""
    return JSONResponse(body) if fmt == "json" else as_csv(body[rows_key])
