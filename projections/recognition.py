"""Revenue recognition over many lines at many instants, exact, in one pass.

The definitions are ``domain.revenue.RevenueLine.within`` and ``.unserved``: a line is
recognized evenly per second over its service ``[start, end)`` (a zero-length line at its
instant), and what is unserved of it after ``t`` is deferred once it was settled. A report
asks for them at every bucket boundary of a window; summing each line's part afresh per
bucket costs lines x buckets. Here each line is placed once:

- ``served(t)`` (R) is the part of every line served before ``t``. A bucket ``[s, e)``
  recognizes ``R(e) - R(s)``, which is ``within(s, e)`` summed over the lines.
- ``deferred(t)`` (D) is the part for service after ``t`` of the lines settled strictly
  before ``t``.

Both are piecewise linear in ``t``. While a line of amount ``n/d`` and length ``L`` is being
served (``start <= t < end``) its served part is ``(n t - n start) / (d L)`` and its unserved
part ``(n end - n t) / (d L)``; before it starts it is all unserved, after it ends all
served. So a line adds, from the first boundary of each of its phases to the first of the
next, a constant ``n`` per denominator ``d`` (wholly served, or wholly unserved) or the two
integer sums ``n`` and ``n start`` (or ``n end``) per denominator ``d L``: a few ``bisect``
calls and a few additions into difference arrays over the boundaries, whatever the number of
buckets. A pass over the boundaries then keeps the running sums and writes each figure as
``{denominator: numerator}`` parts, exact, for ``domain.money.round_minor_sum`` (a
``Fraction`` sum of thousands of unrelated denominators would be slow). Times are integer
microseconds, as ``RevenueLine`` measures them.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import NamedTuple

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Parts = dict[int, int]
"""An exact sum as ``{denominator: numerator}``: the sum of ``numerator / denominator``."""


def microseconds(instant: datetime) -> int:
    """Integer microseconds since the epoch: the unit of ``Line`` and ``RevenueLine``."""
    return (instant - EPOCH) // timedelta(microseconds=1)


class Line(NamedTuple):
    """A revenue line in integer microseconds since the epoch, its amount ``n/d`` (a tuple:
    a report makes one per line, hundreds of thousands)."""

    start: int
    end: int
    settled: int
    numerator: int
    denominator: int


@dataclass(frozen=True)
class Boundary:
    served: Parts
    """R(t): the part of the lines served strictly before t."""
    deferred: Parts
    """D(t): the part for service after t of the lines settled strictly before t."""


def difference(later: Parts, earlier: Parts) -> Parts:
    """``later - earlier``, as parts."""
    out = dict(later)
    for denominator, numerator in earlier.items():
        out[denominator] = out.get(denominator, 0) - numerator
    return out


def plus(one: Parts, other: Parts) -> Parts:
    """``one + other``, as parts."""
    out = dict(one)
    for denominator, numerator in other.items():
        out[denominator] = out.get(denominator, 0) + numerator
    return out


def below_whole(amount: Fraction) -> Fraction | None:
    """What an amount holds below a whole minor unit (``amount - floor(amount)``, in
    ``[0, 1)``), or None when it is whole: all a report needs of a line that ended before its
    window (``revenue_reports``)."""
    rest = amount - math.floor(amount)
    return rest or None


class _Changes:
    """Difference arrays over the boundaries: what starts counting at each boundary index.
    Index ``len(instants)`` (after the last boundary) is never read, so it is not kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.flat: list[dict[int, int]] = [{} for _ in range(size)]
        """d -> change of the sum of n of wholly counted lines"""
        self.linear: list[dict[int, list[int]]] = [{} for _ in range(size)]
        """d L -> change of [sum of n, sum of n x (start or end)] of lines counted in part"""

    def add_flat(self, lo: int, hi: int, denominator: int, numerator: int) -> None:
        """Count n/d at the boundaries of indices [lo, hi)."""
        if lo >= hi:
            return
        flat = self.flat
        flat[lo][denominator] = flat[lo].get(denominator, 0) + numerator
        if hi < self.size:
            flat[hi][denominator] = flat[hi].get(denominator, 0) - numerator

    def add_linear(self, lo: int, hi: int, denominator: int, numerator: int, weight: int) -> None:
        """Count n (t - weight) / D (or its negation) at the boundaries of indices [lo, hi)."""
        if lo >= hi:
            return
        self._bump(lo, denominator, numerator, numerator * weight)
        if hi < self.size:
            self._bump(hi, denominator, -numerator, -numerator * weight)

    def _bump(self, index: int, denominator: int, numerator: int, weighted: int) -> None:
        entry = self.linear[index].get(denominator)
        if entry is None:
            self.linear[index][denominator] = [numerator, weighted]
        else:
            entry[0] += numerator
            entry[1] += weighted


def at_boundaries(lines: Iterable[Line], instants: Sequence[int]) -> list[Boundary]:
    """R(t) and D(t) (see the module) at each of ``instants``, which must ascend."""
    if any(b <= a for a, b in zip(instants, instants[1:], strict=False)):
        raise ValueError("instants must strictly ascend")
    size = len(instants)
    served, deferred = _Changes(size), _Changes(size)
    for start, end, settled, n, d in lines:
        first_settled = bisect_right(instants, settled)  # first boundary after settlement
        if start == end:
            # Served at the first boundary after its instant; deferred from settlement to it.
            after = bisect_right(instants, start)
            served.add_flat(after, size, d, n)
            deferred.add_flat(first_settled, bisect_left(instants, start), d, n)
            continue
        length = (end - start) * d
        starts = bisect_left(instants, start)  # first boundary at or after its start
        ends = bisect_left(instants, end)  # first boundary at or after its end
        served.add_linear(starts, ends, length, n, start)  # (n t - n start) / (d L)
        served.add_flat(ends, size, d, n)
        deferred.add_flat(first_settled, starts, d, n)  # settled, not started: all of it
        deferred.add_linear(max(first_settled, starts), ends, length, n, end)  # (n end - n t) / (d L)
    r_flat: dict[int, int] = {}
    r_linear: dict[int, list[int]] = {}
    d_flat: dict[int, int] = {}
    d_linear: dict[int, list[int]] = {}
    out = []
    for index, t in enumerate(instants):
        _apply_flat(r_flat, served.flat[index])
        _apply_linear(r_linear, served.linear[index])
        _apply_flat(d_flat, deferred.flat[index])
        _apply_linear(d_linear, deferred.linear[index])
        r = dict(r_flat)
        for denominator, (n_sum, weighted) in r_linear.items():
            r[denominator] = r.get(denominator, 0) + t * n_sum - weighted
        dd = dict(d_flat)
        for denominator, (n_sum, weighted) in d_linear.items():
            dd[denominator] = dd.get(denominator, 0) + weighted - t * n_sum
        out.append(Boundary(r, dd))
    return out


def _apply_flat(running: dict[int, int], changes: dict[int, int]) -> None:
    for denominator, change in changes.items():
        value = running.get(denominator, 0) + change
        if value:
            running[denominator] = value
        else:
            running.pop(denominator, None)


def _apply_linear(running: dict[int, list[int]], changes: dict[int, list[int]]) -> None:
    for denominator, (n_change, weighted_change) in changes.items():
        entry = running.get(denominator)
        if entry is None:
            running[denominator] = [n_change, weighted_change]
            continue
        entry[0] += n_change
        entry[1] += weighted_change
        if entry[0] == 0 and entry[1] == 0:
            del running[denominator]  # exactly nothing left
