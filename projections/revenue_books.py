"""What the ``revenue`` model keeps of each subscription between pages: its
``domain.revenue.RevenueBook``, folded through one position, so that a page folds only the
events it brings. Without it, every page a subscription appears in folded the
subscription's whole history again: a rebuild slowing down as histories grow.

The books are trusted as the model's history cache is (:mod:`.subscriber_cache`): only for a
page that follows, without a gap, the last page they were kept for, so that a book has seen
every event of its subscription up to the page. A subscription without a book (new, evicted
beyond ``limit``, or dropped with the cache) is folded again from its history, and its lines
are then checked against those stored, as a first page's are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from subledger.domain.revenue import RevenueBook, RevenueLine

from .subscriber_cache import SubscriberCache


@dataclass(frozen=True)
class Folded:
    """A subscription's book, folded through position ``through``; the currency of its
    lines; how many events it folded (its weight in the cache)."""

    book: RevenueBook
    through: int
    currency: str
    events: int


class RevenueBooks(SubscriberCache[dict[str, Folded]]):
    """Each subscriber's books, by subscription id; ``limit`` counts the events folded."""

    def keep(self, subscriber_id: str, books: dict[str, Folded]) -> None:
        self.put(subscriber_id, books, sum(folded.events for folded in books.values()))


def resume(folded: Folded, events: list[dict[str, Any]]) -> tuple[Folded, list[RevenueLine]] | None:
    """``folded`` with the subscription's ``events`` that follow it (in log order), and the
    lines they add; None if they do not all follow it."""
    if int(events[0]["position"]) <= folded.through:
        return None
    before = len(folded.book.out)
    folded.book.fold(events)
    return (Folded(folded.book, int(events[-1]["position"]), folded.currency, folded.events + len(events)),
            folded.book.out[before:])


def fold_anew(known: list[dict[str, Any]]) -> tuple[Folded, list[RevenueLine]]:
    """The book of a subscription's history ``known`` (not empty, in log order), and every
    line of it (some may be stored already)."""
    book = RevenueBook()
    book.fold(known)
    currency = next((str(e["data"]["currency"]) for e in known if "currency" in e["data"]), "")
    return Folded(book, int(known[-1]["position"]), currency, len(known)), book.out
