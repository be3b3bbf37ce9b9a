"""A report's ``as_of`` over HTTP: echoed in the report's head, defaulting to now or to
``as_known_at``; an instant the report cannot be as of is refused with its own problem type,
a malformed one as a validation error, on every report and drill-down, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from support.http import World, assert_refused

from subledger.bootstrap import build_api
from subledger.config import Settings
from subledger.domain.time import INSTANT

REPORTS = ["/reports/mrr", "/reports/churn", "/reports/revenue", "/reports/mrr/movements",
           "/reports/revenue/lines", "/reports/revenue/recognition", "/reports/receivables",
           "/reports/receivables/invoices"]
WINDOW = {"from": "2026-01-01", "to": "2026-03-31", "currency": "USD"}


def _instant(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _read(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("path", REPORTS)
def test_an_as_of_after_the_ledgers_clock_or_after_as_known_at_is_refused_as_invalid_as_of(
    http: httpx.Client, world: World, path: str,
) -> None:
    tomorrow = _instant(datetime.now(UTC) + timedelta(days=1))
    assert_refused(http, [
        ("GET", path, {"params": {**WINDOW, "as_of": tomorrow}}),
        ("GET", path, {"params": {**WINDOW, "as_of": "2199-12-31T23:59:59Z"}}),
        # Refused rather than clamped: what was known at K is judged as of K at the latest.
        ("GET", path, {"params": {**WINDOW, "as_known_at": "2026-06-01T00:00:00Z",
                                  "as_of": "2026-06-01T00:00:00.000001Z"}}),
    ], 422, "invalid-as-of")


@pytest.mark.parametrize("path", REPORTS)
def test_an_as_of_that_is_not_an_rfc_3339_instant_is_a_validation_error(
    http: httpx.Client, path: str,
) -> None:
    assert_refused(http, [
        ("GET", path, {"params": {**WINDOW, "as_of": written}})
        for written in ("2026-01-01", "2026-01-01T00:00:00", "yesterday", "9999-12-31T00:00:00Z",
                        "2026-02-30T00:00:00Z")
    ], 422, "validation-error")


def test_a_report_is_as_of_now_by_default_or_as_of_an_earlier_as_known_at(
    http: httpx.Client, world: World,
) -> None:
    before = datetime.now(UTC)
    body = http.get("/reports/revenue", params=WINDOW).json()
    assert before <= _read(body["as_of"]) <= datetime.now(UTC) and body["as_known_at"] is None
    known = http.get("/reports/mrr", params={**WINDOW, "as_known_at": "2026-02-01T00:00:00+01:00"}).json()
    assert known["as_of"] == known["as_known_at"] == "2026-01-31T23:00:00.000000Z"
    # An as_known_at still to come knows everything recorded: the report is as of now.
    later = http.get("/reports/churn", params={**WINDOW, "as_known_at": "2199-01-01T00:00:00Z"})
    assert later.status_code == 200, later.text
    assert _read(later.json()["as_of"]) <= datetime.now(UTC)
    asked = http.get("/reports/mrr", params={**WINDOW, "as_of": "2026-02-15T12:00:00Z"}).json()
    assert (asked["as_of"], asked["as_known_at"]) == ("2026-02-15T12:00:00.000000Z", None)


def test_every_report_publishes_as_of_as_an_instant_and_its_refusal(tmp_path: Path) -> None:
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/oa.db"})
    paths = TestClient(build_api(settings)).get("/openapi.json").json()["paths"]
    for path in REPORTS:
        operation = paths[path]["get"]
        (as_of,) = [p for p in operation["parameters"] if p["name"] == "as_of"]
        assert (as_of["in"], as_of["required"], as_of["schema"]["anyOf"][0]["pattern"]) == (
            "query", False, INSTANT), path
        assert "invalid-as-of" in as_of["description"] and "422" in operation["responses"]
