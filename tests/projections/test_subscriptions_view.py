"""The projection runner and the ``subscriptions`` read model, on both stores."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from uuid import UUID

import pytest

from subledger.bootstrap import build_projector
from subledger.commands.demo import generate
from subledger.projections.follow import follow
from subledger.projections.subscriptions import COLUMNS, SubscriptionsModel


def _rows(projector) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    with projector.store.transaction() as tx:
        found = tx.execute(f"SELECT {', '.join(COLUMNS)} FROM view_subscriptions").fetchall()
    return {row[0]: dict(zip(COLUMNS, row, strict=True)) for row in found}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def demo_book(ledger):  # type: ignore[no-untyped-def]
    generate(ledger, subscribers=25, months=4, seed=11)
    return ledger


def test_the_view_holds_every_subscription_as_its_aggregate_does(projector, demo_book) -> None:  # type: ignore[no-untyped-def]
    projector.run_once()
    rows = _rows(projector)
    subscription_ids = {e["aggregate_id"] for e in demo_book.event_log.read(0, 100_000, ["SubscriptionStarted"]).items}
    assert set(rows) == subscription_ids
    for sid, row in rows.items():
        aggregate = demo_book.subscriptions.get(UUID(sid))
        assert (row["status"], row["plan_id"], row["plan_version"], row["quantity"], row["amount"]) == (
            aggregate.status, aggregate.plan_id, aggregate.plan_version, aggregate.quantity,
            aggregate.amount)
        assert (row["current_period_start"], row["current_period_end"], row["cancel_at"]) == (
            _iso(aggregate.current_period_start), _iso(aggregate.current_period_end),
            _iso(aggregate.cancel_at))
        assert row["position"] == max(
            e["position"] for e in demo_book.event_log.read(0, 100_000).items if e["aggregate_id"] == sid)


def test_following_the_log_page_by_page_equals_a_rebuild_from_zero(settings, ledger) -> None:  # type: ignore[no-untyped-def]
    small_pages = build_projector(settings, ledger)
    small_pages.page_size = 7
    generate(ledger, subscribers=10, months=3, seed=3)
    small_pages.run_once()
    incremental = _rows(small_pages)

    small_pages.rebuild("subscriptions")
    assert _rows(small_pages) == incremental
    assert small_pages.lag()["subscriptions"] == 0
    small_pages.close()
    small_pages.store.close()


def test_a_crash_inside_a_batch_keeps_neither_rows_nor_checkpoint_and_resumes_exactly(
    settings, ledger, monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    generate(ledger, subscribers=12, months=3, seed=5)
    runner = build_projector(settings, ledger)
    runner.page_size = 50
    calls = {"n": 0}
    original = SubscriptionsModel.apply

    def crash_on_third_page(self, tx, envelopes):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        original(self, tx, envelopes)  # rows written inside the transaction...
        if calls["n"] == 3:
            raise RuntimeError("killed mid-batch")  # ...and rolled back with it

    monkeypatch.setattr(SubscriptionsModel, "apply", crash_on_third_page)
    with pytest.raises(RuntimeError):
        runner.run_once()
    assert runner.checkpoints()["subscriptions"] == 100  # two pages of 50 committed
    monkeypatch.setattr(SubscriptionsModel, "apply", original)

    runner.run_once()
    resumed = _rows(runner)
    runner.rebuild("subscriptions")
    assert _rows(runner) == resumed
    runner.close()
    runner.store.close()


def test_a_changed_definition_rebuilds_the_model_from_position_zero(settings, ledger, projector) -> None:  # type: ignore[no-untyped-def]
    generate(ledger, subscribers=5, months=2, seed=2)
    projector.run_once()
    before = _rows(projector)

    class NextVersion(SubscriptionsModel):
        version = SubscriptionsModel.version + 1

    from subledger.projections.runner import ProjectionRunner

    upgraded = ProjectionRunner(ledger.event_log, projector.store, [NextVersion()])
    assert upgraded.checkpoints()["subscriptions"] == 0
    upgraded.run_once()
    assert _rows(upgraded) == before


def test_lag_counts_the_events_each_model_has_still_to_apply(ledger, projector) -> None:  # type: ignore[no-untyped-def]
    generate(ledger, subscribers=3, months=1, seed=1)
    head = ledger.event_log.max_position()
    assert projector.lag() == {"subscriptions": head, "mrr": head, "revenue": head, "invoices": head}
    projector.run_once()
    assert projector.lag() == {"subscriptions": 0, "mrr": 0, "revenue": 0, "invoices": 0}


def test_a_running_projector_applies_new_events_without_being_asked(ledger, projector) -> None:  # type: ignore[no-untyped-def]
    stop = threading.Event()
    thread = threading.Thread(target=follow, args=(projector.follower(idle=5.0), stop))
    thread.start()
    try:
        generate(ledger, subscribers=3, months=1, seed=9)
        head = ledger.event_log.max_position()
        deadline = time.monotonic() + 30
        while projector.checkpoints()["subscriptions"] < head:
            assert time.monotonic() < deadline, "the projector did not catch up"
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert len(_rows(projector)) == 3


def test_readyz_reports_each_read_models_lag(settings, ledger, projector) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from subledger.bootstrap import build_api

    generate(ledger, subscribers=2, months=1, seed=4)
    client = TestClient(build_api(settings, ledger=ledger, projector=projector))
    head = ledger.event_log.max_position()
    assert client.get("/readyz").json() == {"status": "ready", "store": "ok",
                                            "lag": {"subscriptions": head, "mrr": head,
                                                    "revenue": head, "invoices": head},
                                            "workers": {}}
    projector.run_once()
    assert client.get("/readyz").json()["lag"] == {"subscriptions": 0, "mrr": 0, "revenue": 0,
                                                   "invoices": 0}
