"""A fold's answer as rows of a table (``replay.rows``): the one shape behind ``to_arrow()``,
``--format csv`` and ``--format table``. Exact values stay exact; nothing becomes a float."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from subledger.replay.rows import cell, columns, rows_of, text

ID = UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427")


class Tier(Enum):
    PRO = "pro"


@dataclasses.dataclass
class Line:
    tier: Tier
    amount: int


def test_a_list_of_mappings_or_dataclasses_is_one_row_each() -> None:
    assert rows_of([{"a": 1}, Line(Tier.PRO, 500)]) == [{"a": 1}, {"tier": "pro", "amount": 500}]


def test_a_list_with_a_plain_value_is_one_value_row_per_item() -> None:
    assert rows_of([1, {"a": 1}]) == [{"value": 1}, {"value": {"a": 1}}]


def test_a_mapping_of_mappings_is_one_row_per_key_with_the_key_first() -> None:
    assert rows_of({ID: {"paid": 3}, "b": Line(Tier.PRO, 1)}) == [
        {"key": str(ID), "paid": 3}, {"key": "b", "tier": "pro", "amount": 1}]


def test_any_other_mapping_is_key_and_value_rows() -> None:
    assert rows_of({"USD": 4000, "EUR": Fraction(1, 4)}) == [
        {"key": "USD", "value": 4000}, {"key": "EUR", "value": Decimal("0.2500000000")}]
    assert rows_of({}) == []


def test_a_single_dataclass_is_one_row_and_a_scalar_one_value_row() -> None:
    assert rows_of(Line(Tier.PRO, 7)) == [{"tier": "pro", "amount": 7}]
    assert rows_of(12) == [{"value": 12}]
    assert rows_of(None) == [{"value": None}]


def test_cells_keep_exact_types_ids_as_text_and_nest() -> None:
    assert cell((ID, Tier.PRO, [Fraction(2, 3)])) == [
        str(ID), "pro", [Decimal("0.6666666667")]]
    assert cell({1: Line(Tier.PRO, 2)}) == {"1": {"tier": "pro", "amount": 2}}
    instant = datetime(2026, 1, 31, tzinfo=UTC)
    assert cell(instant) is instant


@given(st.fractions(max_denominator=10**6))
def test_a_fraction_cell_is_a_decimal_within_half_a_unit_of_its_tenth_place(value: Fraction) -> None:
    shown = cell(value)
    assert isinstance(shown, Decimal)
    assert abs(Fraction(shown) - value) <= Fraction(1, 2 * 10**10)


def test_text_writes_instants_in_utc_dates_decimals_and_nested_values() -> None:
    assert text(None) == ""
    assert text(datetime(2026, 1, 31, 12, tzinfo=UTC)) == "2026-01-31T12:00:00Z"
    assert text(date(2026, 1, 31)) == "2026-01-31"
    assert text(Decimal("1E+3")) == "1000"
    assert text({"at": datetime(2026, 1, 31, tzinfo=UTC)}) == '{"at": "2026-01-31T00:00:00Z"}'
    assert text(5) == "5"


def test_columns_are_every_key_in_the_order_first_seen() -> None:
    assert columns([{"a": 1, "b": 2}, {"c": 3, "a": 4}]) == ["a", "b", "c"]
