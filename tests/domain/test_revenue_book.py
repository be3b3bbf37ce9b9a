"""``RevenueBook`` resumed: the lines of a history folded in parts, cut anywhere, are the
lines of the whole history folded at once, in the same order, and only its ``TYPES`` of
events make them (what lets the revenue model fold each event once, page after page, and
only the events of those types)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.histories import USD_PLANS, commands, play, signup_instants

from subledger.contract.envelope import to_envelope
from subledger.domain.plans import PlanTerms
from subledger.domain.revenue import RevenueBook, revenue_lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    signup=signup_instants(),
    terms=st.sampled_from(USD_PLANS),
    trial_days=st.sampled_from([None, 0, 7]),
    steps=st.lists(commands, min_size=3, max_size=25),
    data=st.data(),
)
def test_a_history_folded_in_parts_gives_the_lines_of_the_whole_history(
    signup: datetime, terms: PlanTerms, trial_days: int | None, steps: list[tuple[Any, ...]],
    data: st.DataObject,
) -> None:
    events = play(signup, terms, trial_days, steps).events
    envelopes = [to_envelope(position, event) for position, event in enumerate(events, start=1)]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(envelopes)), max_size=4), label="cuts"))

    book = RevenueBook()
    seen = 0
    for cut in [*cuts, len(envelopes)]:
        before = len(book.out)
        book.fold(envelopes[seen:cut])
        assert book.out[:before] == revenue_lines(envelopes[:seen])  # earlier lines kept as they were
        seen = max(seen, cut)

    assert book.out == revenue_lines(envelopes)
    booked = RevenueBook()
    booked.fold([e for e in envelopes if e["type"] in RevenueBook.TYPES])
    assert booked.out == book.out  # the other events change nothing
