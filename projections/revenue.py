"""Read model ``revenue``: cash (billed, collected, refunded) and recognition lines.

- ``view_revenue_cash``: one row per invoice, void, credit note and balance adjustment
  (billed), succeeded charge (collected) and refund (refunded), at its effective instant (and
  its UTC ``day``, which reports sum by), with its ``source``: the invoice, credit note,
  adjustment, charge or refund id.
- ``view_revenue_lines``: the lines of every paid invoice and the lines refunds, credit notes
  and balance adjustments take off or add (``domain.revenue.revenue_lines``), each recognized
  evenly per second over its service period.

Both are append-only: a subscription's billing events only ever add lines, so a row's
``recorded_at`` (when the ledger knew it: see ``mrr.KnownAt``) is all "as known at K" needs.
A line's instants are kept as text (to read) and as integer microseconds since the epoch
(``*_us``, what the report's sweep computes with: ``projections.recognition``), and its
amount's part below a whole minor unit as ``fraction`` (NULL when whole: every invoice
line), all the revenue report reads of the lines that ended before its window.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from itertools import groupby
from typing import Any

from subledger.domain.revenue import RevenueBook, RevenueLine

from .day_summary import Change, DaySummary
from .mrr import KnownAt, fraction_text, sortable
from .open_versions import OpenVersions
from .recognition import Line, below_whole, microseconds
from .recognition_days import RECOGNITION_DAYS, changes
from .revenue_books import Folded, RevenueBooks, fold_anew, resume
from .store import ViewCursor
from .subscriber_cache import HISTORY_CACHE_LIMIT, History, HistoryCache, last_position

CASH = {"InvoiceIssued": ("billed", "total", "invoice_id", 1),
        "InvoiceVoided": ("billed", "total", "invoice_id", -1),
        "CreditNoteIssued": ("billed", "total", "credit_note_id", -1),
        "BalanceAdjusted": ("billed", "amount", "adjustment_id", -1),
        "ChargeSucceeded": ("collected", "amount", "charge_id", 1),
        "RefundIssued": ("refunded", "amount", "refund_id", 1),
        "DisputeClosed": ("refunded", "amount", "dispute_id", 1),
        "RefundReversed": ("refunded", "amount", "reversal_id", -1),
        "ChargeReversed": ("collected", "amount", "reversal_id", -1)}
"""event type -> (figure, the field of its amount, the field of its id: the row's source, the
sign it moves the figure by): a void, a credit note and a balance credit take billed down, a
balance debit (a negative adjustment) takes it up; a lost dispute is refunded like a refund
(:func:`moves_cash`); a refund reversed (it failed at the provider) takes refunded down at
its own instant, so net stays collected - refunded; a charge reversed (the provider denied
it) takes collected down at its own instant."""
REVENUE_EVENTS = frozenset(CASH)

CASH_COLUMNS = ("event_id", "subscription_id", "subscriber_id", "currency", "kind", "at", "amount",
                "position", "recorded_at", "day", "source")
LINE_COLUMNS = ("subscription_id", "currency", "kind", "amount", "start_at", "end_at", "settled_at",
                "source", "position", "recorded_at", "start_us", "end_us", "settled_us", "fraction")

CASH_DAYS = DaySummary("view_revenue_days")
"""The cash rows, totalled per currency, day and figure (``revenue_reports`` reads them):
append-only, so the version believed at K adds up the rows recorded by K."""


def moves_cash(envelope: dict[str, Any]) -> bool:
    """Whether an event moves a cash figure: every one of :data:`CASH`, but a dispute only
    when it was lost (a won one gives nothing back)."""
    if envelope["type"] == "DisputeClosed":
        return bool(envelope["data"]["outcome"] == "lost")
    return envelope["type"] in CASH


class RevenueModel:
    name = "revenue"
    version = 8
    """Of the stored form: a new one rebuilds the model (4: a line's ``fraction``; 5: the
    per-day totals of the cash rows; 6: the per-day recognition summaries; 7: their totals
    also scaled to integers; 8: the lines of refunds and credit notes of one invoice each
    net of the earlier ones, which a book folded anew would not match with those stored)."""
    metrics_version = "revenue-v4"
    """Of the definitions of the figures (a new one changes what a figure means; v3:
    corrections with their signs, as of the report's ``as_of``, recognized rounded
    cumulatively; v4: each refund and credit note of an invoice net of the earlier ones)."""
    tables = ("view_revenue_cash", "view_revenue_lines", "view_revenue_known_at", "view_revenue_days",
              "view_revenue_recognition_days")
    types: tuple[str, ...] = ()
    """Every event: the model's known-at stamps follow every event's ``recorded_at``."""
    volatile = {"view_revenue_lines": ("position",)}
    """A line's ``position`` is the last event of the belief that added it, which depends on
    how the log was paged: left out when a rebuild is compared with the live model."""
    clock = KnownAt("view_revenue_known_at")

    def __init__(self, history: History, *, cache_limit: int = HISTORY_CACHE_LIMIT) -> None:
        self.cache = HistoryCache(history, limit=cache_limit)
        self.books = RevenueBooks(limit=cache_limit)
        """Each subscription's revenue lines folded so far (:mod:`.revenue_books`)."""
        self.totals = OpenVersions()
        """The open versions of the cash and recognition totals, from page to page."""

    def create(self, tx: ViewCursor) -> None:
        self.clock.create(tx)
        CASH_DAYS.create(tx)
        RECOGNITION_DAYS.create(tx)
        tx.execute(
            "CREATE TABLE IF NOT EXISTS view_revenue_cash (event_id TEXT PRIMARY KEY,"
            " subscription_id TEXT NOT NULL, subscriber_id TEXT NOT NULL, currency TEXT NOT NULL,"
            " kind TEXT NOT NULL, at TEXT NOT NULL, amount BIGINT NOT NULL,"
            " position BIGINT NOT NULL, recorded_at TEXT NOT NULL, day TEXT NOT NULL,"
            " source TEXT NOT NULL)"
        )
        tx.execute("CREATE INDEX IF NOT EXISTS view_revenue_cash_source ON view_revenue_cash (source)")
        tx.execute("CREATE INDEX IF NOT EXISTS view_revenue_cash_at ON view_revenue_cash (currency, at)")
        tx.execute(
            "CREATE TABLE IF NOT EXISTS view_revenue_lines (subscription_id TEXT NOT NULL,"
            " currency TEXT NOT NULL, kind TEXT NOT NULL, amount TEXT NOT NULL,"
            " start_at TEXT NOT NULL, end_at TEXT NOT NULL, settled_at TEXT NOT NULL,"
            " source TEXT NOT NULL, position BIGINT NOT NULL, recorded_at TEXT NOT NULL,"
            " start_us BIGINT NOT NULL, end_us BIGINT NOT NULL, settled_us BIGINT NOT NULL,"
            " fraction TEXT)"
        )
        tx.execute("CREATE INDEX IF NOT EXISTS view_revenue_lines_sub"
                   " ON view_revenue_lines (subscription_id)")
        tx.execute("CREATE INDEX IF NOT EXISTS view_revenue_lines_period"
                   " ON view_revenue_lines (currency, end_us)")
        tx.execute("CREATE INDEX IF NOT EXISTS view_revenue_lines_fraction"
                   " ON view_revenue_lines (currency, end_us) WHERE fraction IS NOT NULL")
        # A report as of a past instant takes off the lines settled after it.
        tx.execute("CREATE INDEX IF NOT EXISTS view_revenue_lines_settled"
                   " ON view_revenue_lines (currency, settled_us)")

    def apply(self, tx: ViewCursor, envelopes: list[dict[str, Any]]) -> None:
        stamps = self.clock.stamp(tx, envelopes)
        self.cache.begin_page(tx, self.name, envelopes)
        self.books.begin_page(tx, self.name, envelopes)
        self.totals.begin_page(tx, self.name)
        relevant = [e for e in envelopes if moves_cash(e)]
        cash = [(e["event_id"], e["aggregate_id"], e["subscriber_id"], e["data"]["currency"], figure, at,
                 sign * int(e["data"][amount]), e["position"], stamps[int(e["position"])], at[:10],
                 e["data"][source])
                for e in relevant for at in (sortable(e["effective_at"]),)
                for figure, amount, source, sign in (CASH[e["type"]],)]
        tx.insert("view_revenue_cash", CASH_COLUMNS, cash)
        CASH_DAYS.record(tx, (Change(known_at, currency, day, kind, Fraction(value), 1)
                              for _id, _sub, _subscriber, currency, kind, _at, value, _position, known_at, day, _source
                              in cash), self.totals)
        end = last_position(envelopes)
        recognition: list[Change] = []
        rows: list[tuple[Any, ...]] = []
        booked = [e for e in envelopes if e["type"] in RevenueBook.TYPES]
        ordered = sorted(booked, key=lambda e: (e["subscriber_id"], e["position"]))
        stored = _Stored(tx, sorted({e["aggregate_id"] for e in booked
                                     if e["aggregate_id"] not in (self.books.get(e["subscriber_id"]) or {})}))
        for subscriber_id, events in groupby(ordered, key=lambda e: e["subscriber_id"]):
            books = dict(self.books.get(subscriber_id) or {})
            for subscription_id, group in groupby(sorted(events, key=lambda e: (e["aggregate_id"], e["position"])),
                                                  key=lambda e: e["aggregate_id"]):
                lines = _Lines(self.cache, subscriber_id, subscription_id, end, books.get(subscription_id))
                recognition += lines.add(rows, list(group), stamps, stored)
                if lines.folded is not None:
                    books[subscription_id] = lines.folded
            self.books.keep(subscriber_id, books)
        tx.insert("view_revenue_lines", LINE_COLUMNS, rows)
        RECOGNITION_DAYS.record(tx, recognition, self.totals)
        self.totals.end_page(tx, end)


class _Stored:
    """The lines stored of each subscription (their keys, counted): those of the subscriptions
    asked for read back in a few statements (``select_in``), any other when first asked."""

    def __init__(self, tx: ViewCursor, subscription_ids: list[str]) -> None:
        self.tx = tx
        self.lines = self._read(subscription_ids)

    def of(self, subscription_id: str) -> Counter[tuple[str, ...]]:
        if subscription_id not in self.lines:
            self.lines.update(self._read([subscription_id]))
        return self.lines[subscription_id]

    def _read(self, subscription_ids: list[str]) -> dict[str, Counter[tuple[str, ...]]]:
        lines: dict[str, Counter[tuple[str, ...]]] = {sid: Counter() for sid in subscription_ids}
        for subscription_id, *key in self.tx.select_in(
                "SELECT subscription_id, kind, amount, start_at, end_at, settled_at, source"
                " FROM view_revenue_lines WHERE subscription_id IN ({marks})", subscription_ids):
            lines[subscription_id][tuple(key)] += 1
        return lines


class _Lines:
    """One subscription's lines on a page, belief by belief: its book resumed with the page's
    events, or else folded anew from its history and checked against the lines stored."""

    def __init__(self, cache: HistoryCache, subscriber_id: str, subscription_id: str, end: int,
                 folded: Folded | None) -> None:
        self.cache, self.subscriber_id, self.subscription_id = cache, subscriber_id, subscription_id
        self.end = end
        self.folded = folded

    def add(self, rows: list[tuple[Any, ...]], new_events: list[dict[str, Any]],
            stamps: dict[int, str], stored: _Stored) -> list[Change]:
        """Add to ``rows`` the lines the new events add; return their changes to the
        recognition summaries."""
        out: list[Change] = []
        for known_at, group in groupby(new_events, key=lambda e: stamps[int(e["position"])]):
            added = list(group)
            fresh, lines, currency = self._fresh(added, stored)
            last = added[-1]["position"]
            rows += [(self.subscription_id, currency, *key, last, known_at,
                      microseconds(lines[key].start), microseconds(lines[key].end),
                      microseconds(lines[key].settled_at), _fraction(lines[key]))
                     for key, count in fresh.items() for _ in range(count)]
            for key, count in fresh.items():
                line = lines[key]
                swept = Line(microseconds(line.start), microseconds(line.end), microseconds(line.settled_at),
                             line.amount.numerator, line.amount.denominator)
                out += changes(currency, known_at, swept) * count
        return out

    def _fresh(self, added: list[dict[str, Any]], stored: _Stored
               ) -> tuple[Counter[tuple[str, ...]], dict[tuple[str, ...], RevenueLine], str]:
        """The keys of the lines a belief's events add (counted), the lines by key, and their
        currency."""
        resumed = None if self.folded is None else resume(self.folded, added)
        if resumed is not None:
            self.folded, new = resumed
        else:
            last = added[-1]["position"]
            history = self.cache.history(self.subscriber_id, self.end)
            self.folded, new = fold_anew(sorted((e for e in history if e["aggregate_id"] == self.subscription_id
                                                 and e["position"] <= last), key=lambda e: e["position"]))
        keyed = [(_line_key(line), line) for line in new]
        fresh = Counter(key for key, _ in keyed)
        if resumed is None:
            fresh -= stored.of(self.subscription_id)
        return fresh, dict(keyed), self.folded.currency


def _fraction(line: RevenueLine) -> str | None:
    rest = below_whole(line.amount)
    return None if rest is None else fraction_text(rest)


def _line_key(line: RevenueLine) -> tuple[str, ...]:
    return (line.kind, fraction_text(line.amount), sortable(line.start), sortable(line.end),
            sortable(line.settled_at), line.source)
