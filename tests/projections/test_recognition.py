"""The recognition sweep against the definitions of ``domain.revenue.RevenueLine``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subledger.domain.revenue import RevenueLine
from subledger.projections.recognition import Line, Parts, at_boundaries, difference

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BEFORE_ALL = EPOCH - timedelta(days=1)


def _instant(microseconds: int) -> datetime:
    return EPOCH + timedelta(microseconds=microseconds)


def _value(parts: Parts) -> Fraction:
    return sum((Fraction(n, d) for d, n in parts.items()), Fraction(0))


# Small instants, so that starts, ends, settlements and boundaries often coincide.
instants = st.integers(min_value=0, max_value=40)
amounts = st.fractions(min_value=-5000, max_value=5000, max_denominator=7)


@st.composite
def lines(draw: st.DrawFn) -> tuple[Line, RevenueLine]:
    start = draw(instants)
    end = start + draw(st.sampled_from([0, 0, 1, 3, 10, 25]))
    settled = draw(instants)
    amount = draw(amounts)
    line = Line(start, end, settled, amount.numerator, amount.denominator)
    reference = RevenueLine(amount, "USD", _instant(start), _instant(end), _instant(settled), "recurring", "inv")
    return line, reference


@settings(max_examples=400)
@given(drawn=st.lists(lines(), max_size=25), boundaries=st.lists(instants, max_size=12))
def test_the_sweep_equals_the_definitions_at_every_boundary(
    drawn: list[tuple[Line, RevenueLine]], boundaries: list[int],
) -> None:
    boundaries = sorted(set(boundaries))
    found = at_boundaries([line for line, _ in drawn], boundaries)
    for t, boundary in zip(boundaries, found, strict=True):
        at = _instant(t)
        assert _value(boundary.served) == sum((ref.within(BEFORE_ALL, at) for _, ref in drawn), Fraction(0)), t
        assert _value(boundary.deferred) == sum(
            (ref.unserved(at) for _, ref in drawn if ref.settled_at < at), Fraction(0)), t


@given(drawn=st.lists(lines(), max_size=25), cuts=st.lists(instants, min_size=2, max_size=8, unique=True))
def test_a_bucket_recognizes_the_difference_of_its_boundaries(
    drawn: list[tuple[Line, RevenueLine]], cuts: list[int],
) -> None:
    cuts = sorted(set(cuts))
    found = at_boundaries([line for line, _ in drawn], cuts)
    for s, e, earlier, later in zip(cuts, cuts[1:], found, found[1:], strict=False):
        assert _value(difference(later.served, earlier.served)) == sum(
            (ref.within(_instant(s), _instant(e)) for _, ref in drawn), Fraction(0))


def test_a_month_paid_in_advance_is_deferred_then_recognized_day_by_day() -> None:
    day = 86_400_000_000
    april = Line(start=0, end=30 * day, settled=0, numerator=3000, denominator=1)
    found = at_boundaries([april], [0, 1 * day, 10 * day, 30 * day, 31 * day])
    assert [(_value(b.served), _value(b.deferred)) for b in found] == [
        (Fraction(0), Fraction(0)),          # settled at 0: not strictly before 0
        (Fraction(100), Fraction(2900)),
        (Fraction(1000), Fraction(2000)),
        (Fraction(3000), Fraction(0)),
        (Fraction(3000), Fraction(0)),
    ]


def test_instants_must_strictly_ascend() -> None:
    for instants in ([2, 1], [1, 1]):
        with pytest.raises(ValueError):
            at_boundaries([], instants)
