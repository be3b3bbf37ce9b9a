"""The analysts' export lists a charge denied at the gateway after it succeeded: a row of
its own in ``charges`` (outcome ``reversed``), beside the charge it reverses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from subledger.commands.gateways.notices import CHARGE_DENIED, GatewayNotice
from subledger.commands.ledger import Ledger
from subledger.replay.export import export
from subledger.replay.reader import Replay


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def test_the_export_lists_a_reversed_charge_as_a_row_of_its_own(ledger: Ledger, tmp_path: Path) -> None:
    ledger.catalog.create_plan(plan_id="basic", name="Basic", tier="basic", currency="USD",
                               amount=3000, interval="month", effective_at=at(3, 1))
    ada = ledger.subscribers.register(email="ada@example.com", name="Ada", effective_at=at(3, 1))
    ledger.subscribers.set_payment_method(ada.id, gateway="sandbox", token="tok_visa",
                                          effective_at=at(3, 1))
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=at(4, 1))
    charge_id, charge = next(iter(ledger.subscriptions.get(sub.id).charges.items()))
    ledger.gateway_notices.record("sandbox", GatewayNotice(
        kind=CHARGE_DENIED, occurred_at=at(4, 21), ref=charge["gateway_ref"],
        charge_refs=(charge["gateway_ref"],), amount=3000, currency="USD", reason="denied"))
    out = tmp_path / "export"
    export(Replay(ledger.event_log), out, "parquet")
    rows = duckdb.sql(f"SELECT charge_id, outcome, amount, attempt, decline_code FROM"
                      f" '{out}/charges/**/*.parquet' ORDER BY position").fetchall()
    assert rows == [(charge_id, "succeeded", 3000, 1, None), (charge_id, "reversed", 3000, None, "denied")]
