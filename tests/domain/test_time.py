"""UTC instants, the effective_at of a command and the as_of of a report."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from support.factories import utc

from subledger.domain.errors import EffectiveAtInFuture, InvalidAsOf, InvalidInput
from subledger.domain.time import (
    UTC,
    as_utc,
    isoformat,
    parse_instant,
    report_as_of,
    resolve_effective_at,
    written_instant,
)

NOW = utc(2026, 3, 1, 12)


def test_an_instant_with_an_offset_is_converted_to_utc() -> None:
    paris = datetime(2026, 3, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))

    assert as_utc(paris) == utc(2026, 3, 1, 12)
    assert as_utc(paris).utcoffset() == timedelta(0)


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(InvalidInput):
        as_utc(datetime(2026, 3, 1, 12))


def test_without_a_requested_effective_at_the_server_clock_is_used() -> None:
    assert resolve_effective_at(None, NOW) == NOW


def test_a_past_effective_at_is_accepted() -> None:
    assert resolve_effective_at(utc(2020, 1, 1), NOW) == utc(2020, 1, 1)


def test_an_effective_at_up_to_five_minutes_ahead_is_accepted() -> None:
    assert resolve_effective_at(utc(2026, 3, 1, 12, 5), NOW) == utc(2026, 3, 1, 12, 5)


def test_an_effective_at_more_than_five_minutes_ahead_is_refused() -> None:
    with pytest.raises(EffectiveAtInFuture) as info:
        resolve_effective_at(utc(2026, 3, 1, 12, 5, 0, 1), NOW)

    assert info.value.code == "effective-at-in-future"


def test_isoformat_writes_utc_with_a_z() -> None:
    assert isoformat(utc(2026, 1, 31, 8, 30)) == "2026-01-31T08:30:00Z"
    assert isoformat(datetime(2026, 1, 31, 9, 30, tzinfo=timezone(timedelta(hours=1)))) == (
        "2026-01-31T08:30:00Z"
    )


def test_a_report_is_as_of_now_unless_asked_or_known_at_an_earlier_instant() -> None:
    earlier, later = NOW - timedelta(days=3), NOW + timedelta(days=3)

    assert report_as_of(None, None, NOW) == NOW
    assert report_as_of(None, earlier, NOW) == earlier
    assert report_as_of(None, later, NOW) == NOW  # a K still to come knows all there is
    assert report_as_of(earlier, None, NOW) == earlier
    assert report_as_of(NOW, NOW, NOW) == NOW


def test_an_as_of_after_now_or_after_as_known_at_is_refused_not_clamped() -> None:
    known_at = NOW - timedelta(days=3)
    for asked, known in ((NOW + timedelta(microseconds=1), None),
                         (known_at + timedelta(microseconds=1), known_at),
                         (NOW + timedelta(seconds=1), NOW + timedelta(days=1))):
        with pytest.raises(InvalidAsOf):
            report_as_of(asked, known, NOW)


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2199, 12, 31),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                               timezone(timedelta(hours=-11))])))
def test_an_envelope_time_parses_to_the_same_utc_instant_every_time_it_is_read(instant: datetime) -> None:
    text = instant.isoformat()

    first, again = parse_instant(text), parse_instant(text)

    assert first == again == instant
    assert first.utcoffset() == again.utcoffset() == timedelta(0)
    assert parse_instant(instant) == instant


def test_an_envelope_time_without_an_offset_is_refused_each_time_it_is_read() -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="without a UTC offset"):
            parse_instant("2026-03-01T12:00:00")


_WRITTEN_DAYS = st.one_of(  # mostly the first and last days, where an offset crosses the range
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(1970, 1, 1, 23, 59, 59, 999999)),
    st.datetimes(min_value=datetime(2199, 12, 31), max_value=datetime(2199, 12, 31, 23, 59, 59, 999999)),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2199, 12, 31, 23, 59, 59, 999999)),
)
_OFFSETS = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))


@given(written=_WRITTEN_DAYS, offset=_OFFSETS)
@example(written=datetime(1970, 1, 1), offset=timezone(timedelta(hours=14)))
@example(written=datetime(2199, 12, 31, 23, 59, 59), offset=timezone(timedelta(hours=-5)))
def test_an_instant_written_with_any_offset_is_accepted_exactly_when_it_is_in_range_in_utc(
    written: datetime, offset: timezone,
) -> None:
    text = written.replace(tzinfo=offset).isoformat()
    utc = written.replace(tzinfo=offset).astimezone(UTC)

    if datetime(1970, 1, 1, tzinfo=UTC) <= utc < datetime(2200, 1, 1, tzinfo=UTC):
        assert written_instant(text) == utc
        assert written_instant(text).utcoffset() == timedelta(0)
    else:
        with pytest.raises(InvalidInput, match="in UTC"):
            written_instant(text)
