"""``rebuild_model`` reads the log in pages of its own size (larger than a live runner's by
default, ``REBUILD_PAGE_SIZE``), only the event types its model reads, and what it builds
depends on neither."""

from __future__ import annotations

from typing import Any

from subledger.commands.demo import generate
from subledger.commands.ledger import Ledger
from subledger.domain.mrr import SUBSCRIPTION_EVENT_TYPES
from subledger.projections.runner import PAGE_SIZE, REBUILD_PAGE_SIZE, ProjectionRunner


def _rows(projector: ProjectionRunner, table: str) -> list[tuple[Any, ...]]:
    with projector.store.transaction() as tx:
        return sorted(tx.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


def test_a_rebuild_reads_pages_of_the_size_asked_and_builds_the_same_rows(
        ledger: Ledger, projector: ProjectionRunner) -> None:
    generate(ledger, subscribers=3, months=2, seed=5)
    projector.run_once()
    head = ledger.event_log.max_position()
    before = _rows(projector, "view_mrr_days")
    reached: list[int] = []

    summary = projector.rebuild_model("mrr", progress=lambda done, _total: reached.append(done),
                                      page_size=7)

    assert projector.model("mrr").types == ()  # every event
    assert reached == [*range(7, head, 7), head]
    assert summary.events_read == head
    assert _rows(projector, "view_mrr_days") == before


def test_a_rebuild_reads_only_its_models_event_types_and_still_reaches_the_head(
        ledger: Ledger, projector: ProjectionRunner) -> None:
    generate(ledger, subscribers=3, months=2, seed=5)
    ledger.subscribers.register(email="last@example.com", name="Last")  # the log ends past them
    projector.run_once()
    head = ledger.event_log.max_position()
    before = _rows(projector, "view_subscriptions")
    theirs = [e["position"] for e in ledger.event_log.read(0, head).items
              if e["type"] in SUBSCRIPTION_EVENT_TYPES]
    reached: list[int] = []

    summary = projector.rebuild_model("subscriptions", progress=lambda done, _total: reached.append(done),
                                      page_size=7)

    assert summary.events_read == len(theirs) < head
    assert reached == [*theirs[6::7], head]  # full pages end at their last event; the last reaches the head
    assert summary.position == head and projector.lag()["subscriptions"] == 0
    assert _rows(projector, "view_subscriptions") == before


def test_a_rebuild_reads_larger_pages_than_a_live_runner_by_default(
        ledger: Ledger, projector: ProjectionRunner) -> None:
    generate(ledger, subscribers=80, months=8, seed=5)
    head = ledger.event_log.max_position()
    reached: list[int] = []

    projector.rebuild_model("subscriptions", progress=lambda done, _total: reached.append(done))

    assert PAGE_SIZE < head < REBUILD_PAGE_SIZE
    assert reached == [head]  # one page, where a live runner reads more than one


def test_revenue_rebuilt_in_small_pages_stores_each_line_once_as_the_default_does(
        ledger: Ledger, projector: ProjectionRunner) -> None:
    """A page reads back the lines its subscriptions stored in earlier pages: in pages of 7
    nearly every subscription continues one, and none of its lines is stored again."""
    generate(ledger, subscribers=4, months=3, seed=11)
    projector.rebuild_model("revenue")
    tables = ("view_revenue_cash", "view_revenue_recognition_days", "view_revenue_days")
    before = {table: _rows(projector, table) for table in tables}
    lines = _lines(projector)

    projector.rebuild_model("revenue", page_size=7)

    assert {table: _rows(projector, table) for table in tables} == before
    assert _lines(projector) == lines
    assert len(lines) > 10


def _lines(projector: ProjectionRunner) -> list[tuple[Any, ...]]:
    """The revenue lines without ``position`` (the last event of the page that added them)."""
    with projector.store.transaction() as tx:
        return sorted(tx.execute(
            "SELECT subscription_id, currency, kind, amount, start_at, end_at, settled_at, source,"
            " recorded_at, start_us, end_us, settled_us, fraction FROM view_revenue_lines").fetchall(),
            key=repr)
