"""Domain errors: one hierarchy with stable, unique, kebab-case codes."""

from __future__ import annotations

import re

from subledger.domain import errors
from subledger.domain.errors import (
    Conflict,
    DomainError,
    GatewayUnavailableError,
    InvalidInput,
    MalformedRequest,
    NotFound,
    all_error_classes,
)

KEBAB = re.compile(r"^[a-z]+(-[a-z]+)*$")


def _every_error_class_in_the_module() -> set[type[DomainError]]:
    return {
        value for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, DomainError)
    }


def test_all_error_classes_lists_every_error_of_the_module() -> None:
    assert set(all_error_classes()) == _every_error_class_in_the_module()


def test_every_error_class_has_its_own_code() -> None:
    codes = [cls.code for cls in all_error_classes()]

    assert len(codes) == len(set(codes))


def test_every_error_code_is_kebab_case() -> None:
    for cls in all_error_classes():
        assert KEBAB.match(cls.code), cls


def test_every_error_class_has_a_title() -> None:
    for cls in all_error_classes():
        assert cls.title.strip(), cls


def test_every_concrete_error_is_of_one_kind_except_the_unavailable_ones() -> None:
    # gateway-unavailable and read-model-behind: nothing is wrong with the request (503).
    for cls in all_error_classes():
        if cls not in (DomainError, GatewayUnavailableError, errors.ReadModelBehind):
            assert issubclass(cls, (InvalidInput, NotFound, Conflict, MalformedRequest)), cls


def test_gateway_unavailable_is_a_domain_error_of_none_of_the_three_kinds() -> None:
    # Nothing is wrong with the request and nothing was recorded: the API answers 503.
    assert issubclass(GatewayUnavailableError, DomainError)
    assert not issubclass(GatewayUnavailableError, (InvalidInput, NotFound, Conflict))
    assert GatewayUnavailableError.code == "gateway-unavailable"


def test_an_error_keeps_its_detail() -> None:
    error = errors.EmptyChange("nothing to change")

    assert error.detail == "nothing to change"
    assert str(error) == "nothing to change"
    assert error.code == "empty-change"
