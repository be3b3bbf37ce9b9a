"""The text form the read models store instants in: fixed width and in UTC, so that text
order is time order on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subledger.projections.bitemporal import sortable

OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))])
INSTANTS = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2199, 12, 31),
                        timezones=OFFSETS)


@given(INSTANTS)
def test_an_instant_is_written_in_utc_with_every_microsecond_digit(instant: datetime) -> None:
    expected = instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    assert sortable(instant) == expected
    assert sortable(instant.isoformat()) == expected
    assert sortable(instant.astimezone(UTC).isoformat().replace("+00:00", "Z")) == expected
    assert len(expected) == 27


@given(INSTANTS, INSTANTS)
def test_the_text_of_two_instants_sorts_as_the_instants_do(first: datetime, second: datetime) -> None:
    assert (sortable(first) < sortable(second)) == (first < second)
    assert (sortable(first) == sortable(second)) == (first == second)


@given(INSTANTS)
def test_a_text_already_in_the_form_is_written_as_it_is(instant: datetime) -> None:
    text = instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    assert sortable(text) == text == sortable(instant)


@pytest.mark.parametrize("text", ["2026-02-30T10:11:12.123456Z", "2026-01-01T25:11:12.123456Z",
                                  "2026-01-01T10:11:12.12345xZ", "2026-01-01T10:11:12.123456X"])
def test_a_text_of_the_form_that_is_no_instant_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        sortable(text)


def test_a_text_of_the_same_width_in_another_form_is_converted() -> None:
    assert sortable("2026-W01-1T10:11:12.123456Z") == "2025-12-29T10:11:12.123456Z"
