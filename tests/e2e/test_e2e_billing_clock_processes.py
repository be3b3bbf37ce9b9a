"""Any number of processes share the billing clock: two `subledger billing follow` and two
`subledger serve` (workers on, a run every second) on one PostgreSQL database record every
step of a book once, and end exactly where one `billing run --until` ends on a copy of it.

The book is written once and copied byte for byte (``CREATE DATABASE ... TEMPLATE``), so the
two logs can be compared id for id. Everything in it falls due a whole number of days from
one instant ``T0``, set a little after the processes start: what was due before is caught up
by whichever process runs first, and at ``T0`` a wave of trial ends, renewals, retries and
last retries falls due while all four are running their clocks each second. Nothing else
falls due within a day of ``T0``, so a run up to any instant of the test after ``T0`` does
the same.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import psycopg
import pytest
from psycopg import sql
from support.live import free_port
from support.processes import SubledgerProcess, processes, subledger_env, wait_for

from subledger.bootstrap import build_ledger
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.contract.bodies import subscription_body
from subledger.domain.periods import Interval, period_boundary

TOKENS = ("tok_visa", "tok_fail_first", "tok_chargeDeclined")
PER_CARD = 8
"""Subscriptions of each sandbox card in each group of the book."""
GATE = timedelta(seconds=25)
"""From the start of the book to T0: time to write and copy it and to start four processes."""
POLICY = "3,5,7:unpaid"
"""The dunning policy of every process here: the subscriptions go on after their last retry,
so there is more to bill."""


@pytest.fixture
def databases(pg_admin_url: str) -> Iterator[Callable[[str | None], str]]:
    """Makes databases on the test server (``make(template)``: a copy of another one's URL),
    each dropped at the end; their URLs."""
    made: list[str] = []

    def url(name: str) -> str:
        parts = urlsplit(pg_admin_url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + name, "", ""))

    def make(template: str | None = None) -> str:
        name = f"subledger_clock_{secrets.token_hex(4)}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            source = urlsplit(template).path.lstrip("/")
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(source))
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            # A template may still show the book's sessions for a moment after they closed.
            wait_for(lambda: _tried(admin, statement), timeout=30, what=lambda: f"CREATE DATABASE {name}")
        made.append(name)
        return url(name)

    yield make
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        for name in made:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _tried(admin: psycopg.Connection, statement: sql.Composable) -> bool:
    try:
        admin.execute(statement)
    except psycopg.errors.ObjectInUse:
        return False
    return True


def _settings(url: str) -> Settings:
    return Settings.from_env({"SUBLEDGER_DATABASE_URL": url, "SUBLEDGER_DUNNING": POLICY})


def _month_before(t0: datetime) -> datetime:
    """The start of a monthly period that ends at ``t0``."""
    starts = [t0 - timedelta(days=d) for d in range(27, 32)]
    return next(s for s in starts if period_boundary(s, Interval.MONTH, 1) == t0)


def _write_book(url: str, t0: datetime) -> None:
    """Groups of subscriptions on each sandbox card, every instant a whole number of days
    from ``t0``: months of history behind them, a trial ending at ``t0``, a renewal at
    ``t0``, a first retry at ``t0`` and a last retry at ``t0``."""
    ledger = build_ledger(_settings(url))
    try:
        since = t0 - timedelta(days=200)
        for plan_id, trial_days in (("monthly", 0), ("trial", 14)):
            ledger.catalog.create_plan(plan_id=plan_id, name=plan_id, tier="basic", currency="USD",
                                       amount=1000, interval="month", trial_days=trial_days,
                                       effective_at=since)
        groups = [("monthly", t0 - timedelta(days=150)), ("trial", t0 - timedelta(days=14)),
                  ("monthly", _month_before(t0)), ("monthly", t0 - timedelta(days=3)),
                  ("monthly", t0 - timedelta(days=7))]
        for n in range(PER_CARD * len(TOKENS)):
            for plan_id, start in groups:
                subscriber = ledger.subscribers.register(email=f"s{n}@example.com", name="S",
                                                         effective_at=since)
                ledger.subscribers.set_payment_method(subscriber.id, gateway="sandbox",
                                                      token=TOKENS[n % len(TOKENS)], effective_at=since)
                ledger.subscriptions.start(subscriber.id, plan_id=plan_id, effective_at=start)
    finally:
        ledger.close()


def _count_events(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM subledger_events").fetchone()
    return int(row[0]) if row else 0


def _read(url: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The whole log, and the state of every subscription in it."""
    ledger: Ledger = build_ledger(_settings(url))
    try:
        events = ledger.event_log.read(0, 1_000_000).items
        ids = {e["aggregate_id"] for e in events if e["type"] == "SubscriptionStarted"}
        states = {i: subscription_body(ledger.subscriptions.get(UUID(i))) for i in ids}
        return events, states
    finally:
        ledger.close()


def _as_recorded(events: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """Each event by its id, leaving out where and when it was appended."""
    return {e["event_id"]: (e["aggregate_id"], e["aggregate_version"], e["type"], e["effective_at"],
                            e["data"]) for e in events}


def _billing_run_until_now(url: str, tmp_path: Path) -> None:
    """`subledger billing run --until <now>`, one process."""
    with processes() as start:
        run = start(["billing", "run", "--until", datetime.now(UTC).isoformat()],
                    subledger_env(SUBLEDGER_DATABASE_URL=url, SUBLEDGER_DUNNING=POLICY),
                    tmp_path / "once.log")
        assert run.popen.wait(timeout=300) == 0, run.text()


def _ran_after(process: SubledgerProcess, instant: datetime) -> bool:
    return any(datetime.fromisoformat(run["until"]) > instant for run in process.billing_runs())


def _tails(workers: list[SubledgerProcess]) -> str:
    return "\n".join(f"--- {w.log.name}\n{w.text()[-3000:]}" for w in workers)


def test_two_billing_followers_and_two_servers_record_each_step_once(
        databases: Callable[[str | None], str], tmp_path: Path) -> None:
    t0 = datetime.now(UTC).replace(microsecond=0) + GATE
    once = databases(None)
    _write_book(once, t0)
    shared = databases(once)
    env = subledger_env(SUBLEDGER_DATABASE_URL=shared, SUBLEDGER_BILLING_INTERVAL="1",
                        SUBLEDGER_DUNNING=POLICY)

    with processes() as start:
        workers = [start(["billing", "follow"], env, tmp_path / f"follow-{n}.log") for n in (1, 2)]
        workers += [start(["serve", "--port", str(free_port())], env, tmp_path / f"serve-{n}.log")
                    for n in (1, 2)]
        wait_for(lambda: all(w.billing_runs() for w in workers), timeout=120,
                 what=lambda: f"a billing run in every process:\n{_tails(workers)}")
        wait_for(lambda: datetime.now(UTC) > t0, timeout=GATE.total_seconds() + 5, what=lambda: "T0")
        _billing_run_until_now(once, tmp_path)
        expected = _count_events(once)
        wait_for(lambda: _count_events(shared) >= expected, timeout=180,
                 what=lambda: f"{expected} events, {_count_events(shared)} so far:\n{_tails(workers)}")
        complete = datetime.now(UTC)
        wait_for(lambda: all(_ran_after(w, complete) for w in workers), timeout=120,
                 what=lambda: f"a run in every process after the book was complete:\n{_tails(workers)}")

        assert [w.stop() for w in workers] == [0, 0, 0, 0], _tails(workers)
    assert not any("Traceback" in w.text() for w in workers), _tails(workers)

    shared_log, shared_states = _read(shared)
    once_log, once_states = _read(once)
    paid = Counter(e["data"]["invoice_id"] for e in shared_log if e["type"] == "ChargeSucceeded")
    assert max(paid.values()) == 1, "an invoice paid twice"
    charges = [e["data"]["charge_id"] for e in shared_log if e["type"] in ("ChargeSucceeded", "ChargeFailed")]
    assert len(charges) == len(set(charges)), "a charge recorded twice"
    invoices = [e for e in shared_log if e["type"] == "InvoiceIssued"]
    periods = Counter((e["aggregate_id"], tuple((line["kind"], line["period_start"], line["period_end"])
                                                for line in e["data"]["lines"])) for e in invoices)
    assert max(periods.values()) == 1, "a period invoiced twice"
    assert len({e["data"]["invoice_id"] for e in invoices}) == len(invoices)
    assert _as_recorded(shared_log) == _as_recorded(once_log)
    assert shared_states == once_states
    at_t0 = Counter(e["type"] for e in shared_log if datetime.fromisoformat(e["effective_at"]) == t0)
    assert {"TrialEnded", "SubscriptionRenewed", "ChargeSucceeded", "ChargeFailed",
            "InvoiceMarkedUncollectible"} <= set(at_t0), at_t0
    before_t0 = Counter(e["type"] for e in shared_log if datetime.fromisoformat(e["effective_at"]) < t0)
    assert before_t0["SubscriptionRenewed"] >= 3 * PER_CARD * len(TOKENS), "months of history billed"
