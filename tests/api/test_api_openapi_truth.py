"""The OpenAPI document describes the API as it behaves: the problems each operation answers,
the security the server is configured with, and the rules the ledger applies to requests,
published from the same definitions the ledger checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from subledger.bootstrap import build_api
from subledger.config import Settings
from subledger.domain.money import MAX_AMOUNT, iso_currencies
from subledger.domain.text import EMAIL, IDENTIFIER, NAME
from subledger.domain.time import INSTANT

PROBLEM = {"$ref": "#/components/schemas/Problem"}
PUBLIC_PAGES = {"/pricing"}
"""Pages for anyone, in the document as text/html operations without security."""


def _document(tmp_path: Path, **env: str) -> dict[str, Any]:
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/oa.db", **env})
    return TestClient(build_api(settings)).get("/openapi.json").json()  # type: ignore[no-any-return]


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, operation) for path, item in document["paths"].items()
            for method, operation in item.items()]


def test_every_error_answer_is_documented_as_a_problem_document(tmp_path: Path) -> None:
    document = _document(tmp_path)
    assert "HTTPValidationError" not in str(document)
    for method, path, operation in _operations(document):
        errors = {status: r for status, r in operation["responses"].items() if status >= "400"}
        if not path.startswith(("/problems", "/schemas", "/asyncapi")):
            assert "503" in errors, f"{method} {path}: the store can be down"
        for status, response in errors.items():
            media = response["content"]
            assert list(media) == ["application/problem+json"], (method, path, status)
            assert media["application/problem+json"]["schema"] == PROBLEM


def test_each_operation_documents_the_problems_its_inputs_can_cause(tmp_path: Path) -> None:
    paths = _document(tmp_path)["paths"]
    create = paths["/plans"]["post"]["responses"]
    assert {"400", "409", "413", "415", "422", "503"} <= set(create)
    assert "404" in paths["/subscriptions/{subscription_id}"]["get"]["responses"]
    assert "409" not in paths["/plans"]["get"]["responses"]
    assert "422" not in paths["/plans/{plan_id}"]["get"]["responses"]


def test_a_preview_documents_the_refusals_of_the_change_and_no_idempotency_key(
    tmp_path: Path,
) -> None:
    paths = _document(tmp_path)["paths"]
    change = paths["/subscriptions/{subscription_id}/change"]["post"]
    preview = paths["/subscriptions/{subscription_id}/change/preview"]["post"]
    headers = [{p["name"] for p in op["parameters"] if p["in"] == "header"} for op in (change, preview)]
    assert headers == [{"Idempotency-Key"}, set()]
    assert set(change["responses"]) - {"200"} == set(preview["responses"]) - {"200"}
    assert "idempotency" not in preview["responses"]["409"]["description"].lower()
    upcoming = paths["/subscriptions/{subscription_id}/upcoming-invoice"]["get"]
    assert {"404", "409", "503"} <= set(upcoming["responses"])
    assert "no-upcoming-invoice" in upcoming["responses"]["409"]["description"]
    assert "409" not in paths["/subscriptions/{subscription_id}"]["get"]["responses"]


def test_an_open_server_documents_no_security(tmp_path: Path) -> None:
    document = _document(tmp_path)
    assert "securitySchemes" not in document["components"]
    assert all("security" not in op for _, _, op in _operations(document))


def test_a_server_with_api_keys_documents_them_and_the_401_and_403_they_cause(
    tmp_path: Path,
) -> None:
    """A read also takes the pages' session cookie; a write only a key in a header."""
    document = _document(tmp_path, SUBLEDGER_API_KEYS="k1:admin")
    assert set(document["components"]["securitySchemes"]) == {"bearer", "apiKey", "session"}
    for method, path, operation in _operations(document):
        if path.startswith(("/problems", "/schemas", "/asyncapi")) or path in PUBLIC_PAGES:
            assert operation["security"] == [] and "401" not in operation["responses"], path
            continue
        if path.startswith("/gateways/"):
            # A provider cannot send an API key: its signature is checked instead (a 400).
            assert operation["security"] == [] and "401" not in operation["responses"], path
            assert "400" in operation["responses"], path
            continue
        cookie = [{"session": []}] if method == "GET" else []
        assert operation["security"] == [{"bearer": []}, {"apiKey": []}, *cookie], path
        assert "401" in operation["responses"], (method, path)
        if method != "GET":
            assert "403" in operation["responses"], (method, path)


def test_the_request_rules_published_are_the_ones_the_ledger_applies(tmp_path: Path) -> None:
    schemas = _document(tmp_path)["components"]["schemas"]
    plan = schemas["PlanIn"]["properties"]
    assert plan["plan_id"]["pattern"] == IDENTIFIER
    assert plan["name"]["pattern"] == NAME
    assert (plan["amount"]["minimum"], plan["amount"]["maximum"]) == (0, MAX_AMOUNT)
    assert set(plan["currency"]["enum"]) == set(iso_currencies())
    assert plan["effective_at"]["anyOf"][0]["pattern"] == INSTANT
    assert schemas["SubscriberIn"]["properties"]["email"]["pattern"] == EMAIL
    assert schemas["PaymentMethodIn"]["properties"]["gateway"]["enum"] == ["sandbox"]
    assert schemas["ManualChargeIn"]["properties"]["amount"]["minimum"] == 1


@pytest.mark.parametrize("path,model", [("/plans", "PlanIn"), ("/coupons", "CouponIn"),
                                        ("/subscribers", "SubscriberIn")])
def test_each_documented_example_is_a_request_the_server_accepts(
    tmp_path: Path, path: str, model: str,
) -> None:
    settings = Settings.from_env({"SUBLEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ex.db"})
    client = TestClient(build_api(settings))
    examples = client.get("/openapi.json").json()["components"]["schemas"][model]["examples"]
    assert examples
    for example in examples:
        answer = client.post(path, json=example)
        assert answer.status_code == 201, answer.text
