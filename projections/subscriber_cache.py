"""What a read model keeps of each subscriber between pages, and when it may trust it.

:class:`SubscriberCache` holds one entry per subscriber, least recently used first out beyond
``limit`` (entries weigh what their owner says), valid only while the model follows the log
without a gap. :class:`HistoryCache` keeps subscribers' subscription events (``revenue``);
``mrr_fold.SubscriberFolds`` keeps each subscriber's MRR fold (``mrr``).

Invariant: every entry reflects *every* subscription event of its subscriber with a position
up to ``through``. The log is append-only and its order final (the recorder's table lock), so
that never goes stale by itself; only a gap can break it. A page therefore keeps the cache
only when it starts right after ``through``: its model's checkpoint, read in the page's own
transaction, must equal ``through`` (the page then holds every event in ``(through, page
end]``). Otherwise (the first page, a page read again after its transaction rolled back,
another runner that moved or reset the checkpoint, a scratch rebuild from 0) the cache is
dropped first.

A cache that has followed the log from position 0 without a gap (a rebuild) knows more: a
subscriber it neither holds nor ever evicted has no events up to ``through``
(:meth:`SubscriberCache.unseen`), so the log need not be asked about them at all.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from subledger.domain.mrr import SUBSCRIPTION_EVENT_TYPES

from .store import ViewCursor

History = Callable[[str, int], list[dict[str, Any]]]
"""(subscriber id, up to position) -> the subscriber's history envelopes."""

HISTORY_CACHE_LIMIT = 400_000
"""Envelopes a model keeps in its history cache: enough for every subscription event of a
book of ~25k subscribers; beyond it the least recently used subscribers are read from the
log again. An envelope takes about 2 KB of memory (measured), so up to ~800 MB per model,
held for as long as the runner lives."""

Entry = TypeVar("Entry")


class SubscriberCache(Generic[Entry]):
    """Entries by subscriber id, trusted up to ``through`` (see the module)."""

    def __init__(self, *, limit: int) -> None:
        self.limit = limit
        self.through: int | None = None
        self._entries: OrderedDict[str, tuple[Entry, int]] = OrderedDict()
        self._size = 0
        self._from_zero = False
        self._evicted: set[str] = set()
        """Subscribers evicted since position 0 (only kept while ``_from_zero``)."""
        self.hits = 0
        self.misses = 0

    def clear(self, *, start: int | None = None) -> None:
        self._entries.clear()
        self._size = 0
        self.through = None
        self._from_zero = start == 0
        self._evicted.clear()

    def begin_page(self, tx: ViewCursor, model: str, envelopes: list[dict[str, Any]]) -> None:
        """Take a page of ``model`` (its envelopes after its checkpoint, in ``tx``) in."""
        start = tx.checkpoint(model)
        if start is None or start != self.through:
            self.clear(start=start)
        # Not trusted while being extended: an error half way leaves it cleared next page.
        self.through = None
        self._take(sorted(envelopes, key=lambda e: e["position"]))
        self.through = last_position(envelopes)
        self._evict()

    def _take(self, envelopes: list[dict[str, Any]]) -> None:
        """What an entry learns from the page's envelopes, in log order (nothing here)."""

    def unseen(self, subscriber_id: str) -> bool:
        """Whether the subscriber surely has no subscription event up to ``through``."""
        return self._from_zero and subscriber_id not in self._entries and subscriber_id not in self._evicted

    def get(self, subscriber_id: str) -> Entry | None:
        found = self._entries.get(subscriber_id)
        if found is None:
            return None
        self._entries.move_to_end(subscriber_id)
        return found[0]

    def put(self, subscriber_id: str, entry: Entry, size: int) -> None:
        old = self._entries.pop(subscriber_id, None)
        if old is not None:
            self._size -= old[1]
        self._evicted.discard(subscriber_id)
        self._entries[subscriber_id] = (entry, size)
        self._size += size
        self._evict()

    def _evict(self) -> None:
        while self._size > self.limit and self._entries:
            subscriber_id, (_entry, size) = self._entries.popitem(last=False)
            self._size -= size
            if self._from_zero:
                self._evicted.add(subscriber_id)


class HistoryCache(SubscriberCache[list[dict[str, Any]]]):
    """Subscribers' histories kept across pages, so that a page does not read from the log
    again what the pages before it already held. Only subscription events are kept (the
    folds skip every other event); ``limit`` counts envelopes."""

    def __init__(self, read: History, *, limit: int = HISTORY_CACHE_LIMIT) -> None:
        super().__init__(limit=limit)
        self.read = read

    def _take(self, envelopes: list[dict[str, Any]]) -> None:
        for envelope in envelopes:
            if envelope["type"] not in SUBSCRIPTION_EVENT_TYPES:
                continue
            subscriber_id = envelope["subscriber_id"]
            found = self._entries.get(subscriber_id)
            if found is None and self.unseen(subscriber_id):
                self._entries[subscriber_id] = ([envelope], 1)  # nothing of theirs before this page
                self._size += 1
            elif found is not None:
                found[0].append(envelope)
                self._entries[subscriber_id] = (found[0], found[1] + 1)
                self._size += 1

    def history(self, subscriber_id: str, up_to: int) -> list[dict[str, Any]]:
        """The subscriber's subscription events up to ``up_to`` (the page's end); the list
        is the cache's own: read it, never change it."""
        if up_to != self.through:
            raise ValueError(f"history up to {up_to} asked of a cache complete up to {self.through}")
        entry = self.get(subscriber_id)
        if entry is not None:
            self.hits += 1
            return entry
        self.misses += 1
        entry = [e for e in self.read(subscriber_id, up_to) if e["type"] in SUBSCRIPTION_EVENT_TYPES]
        self.put(subscriber_id, entry, len(entry))
        return entry


def last_position(envelopes: list[dict[str, Any]]) -> int:
    return max(int(e["position"]) for e in envelopes)
