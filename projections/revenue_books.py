"""What the ``revenue`` model keeps of each subscription between pages: its
``domain.revenue.RevenueBook``, folded through one position, so that a page folds only the
events it brings. Without it, every page a subscription appears in folded the
subscription's whole history again: a rebuild slowing down as histories grow.

The books are trusted as the model's history cache is (:mod:`.subscriber_cache`): only for a
page that follows, without a gap, the last page they were kept for. A book that does not
start with the events a page knows (dropped, never kept, or evicted beyond ``limit``) is
folded again from the subscription's history, and its lines are then checked against those
stored, as a first page's are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from subledger.domain.revenue import RevenueBook, RevenueLine

from .subscriber_cache import SubscriberCache


@dataclass(frozen=True)
class Folded:
    """A subscription's book, folded through its first ``events`` events, the last at
    position ``through``."""

    book: RevenueBook
    events: int
    through: int

    def resumes(self, known: list[dict[str, Any]]) -> bool:
        """Whether ``known`` (the subscription's events up to a position, in log order)
        starts with the events folded."""
        return self.events <= len(known) and (
            self.events == 0 or int(known[self.events - 1]["position"]) == self.through)


class RevenueBooks(SubscriberCache[dict[str, Folded]]):
    """Each subscriber's books, by subscription id; ``limit`` counts the events folded."""

    def keep(self, subscriber_id: str, books: dict[str, Folded]) -> None:
        self.put(subscriber_id, books, sum(folded.events for folded in books.values()))


def advance(folded: Folded | None, known: list[dict[str, Any]]) -> tuple[Folded, list[RevenueLine], bool]:
    """The book folded through ``known`` (not empty, in log order), the lines that folding
    added, and whether it resumed ``folded``: if not, the lines are every line of ``known``,
    some of which may be stored already."""
    last = int(known[-1]["position"])
    if folded is not None and folded.resumes(known):
        before = len(folded.book.out)
        folded.book.fold(known[folded.events:])
        return Folded(folded.book, len(known), last), folded.book.out[before:], True
    book = RevenueBook()
    book.fold(known)
    return Folded(book, len(known), last), book.out, False
