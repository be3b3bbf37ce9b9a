"""What sealing personal data costs: commands per second with and without
``SUBLEDGER_CIPHER_KEY``, same run, same store (a fresh PostgreSQL schema, or SQLite file, for
each), printed as the ratio keyed / clear.

Measured, ``n`` each, in this order on each ledger:

- register a subscriber (a new data key is made, wrapped and written with the event; e-mail,
  name and reference sealed);
- set their payment method (their key read from the keys table and unwrapped; the token
  sealed);
- read the subscriber (its events loaded: every sealed field opened);
- change a subscription (nothing personal in it: the cost of the sealing mapper itself).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from subledger.bootstrap import build_ledger
from subledger.config import Settings

from .pg import scratch_database

KEY = bytes(range(32))
STEPS = ("register subscriber", "set payment method", "read subscriber", "change subscription")


def _timed(n: int, fn: Callable[[int], Any]) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def rates(settings: Settings, n: int) -> list[float]:
    """Commands per second of each of :data:`STEPS`."""
    ledger = build_ledger(settings)
    try:
        start = datetime.now(UTC) - timedelta(days=3)
        ledger.catalog.create_plan(plan_id="bench-m", name="Bench", tier="basic", currency="USD",
                                   amount=1000, interval="month", effective_at=start)
        ids: list[Any] = []
        subs: list[Any] = []
        out = [_timed(n, lambda i: ids.append(ledger.subscribers.register(
            email=f"person{i}@example.com", name=f"Person {i}", external_ref=f"crm-{i}",
            effective_at=start).id))]
        out.append(_timed(n, lambda i: ledger.subscribers.set_payment_method(
            ids[i], gateway="sandbox", token="tok_visa", effective_at=start)))
        out.append(_timed(n, lambda i: ledger.subscribers.get(ids[i])))
        subs += [ledger.subscriptions.start(s, plan_id="bench-m", effective_at=start).id for s in ids]
        out.append(_timed(n, lambda i: ledger.subscriptions.change(subs[i], quantity=2, when="now")))
        return out
    finally:
        ledger.close()


def _settings(url: str, key: bytes | None) -> Settings:
    return replace(Settings.from_env({"SUBLEDGER_DATABASE_URL": url}), cipher_key=key)


def _report(store: str, n: int, clear: list[float], keyed: list[float]) -> None:
    print(f"privacy benchmark, {store}, n={n} per measurement (keyed = SUBLEDGER_CIPHER_KEY set)")
    for step, plain, sealed in zip(STEPS, clear, keyed, strict=True):
        print(f"  {step:<24} clear {plain:8.0f}/s   keyed {sealed:8.0f}/s   {sealed / plain:5.2f}x")
    sys.stdout.flush()


def run(n: int = 500) -> None:
    with scratch_database() as url:
        clear = rates(_settings(url + "?schema=clear", None), n)
        keyed = rates(_settings(url + "?schema=keyed", KEY), n)
    _report("PostgreSQL", n, clear, keyed)
    with tempfile.TemporaryDirectory() as tmp:
        clear = rates(_settings("sqlite:///" + str(Path(tmp) / "clear.db"), None), n)
        keyed = rates(_settings("sqlite:///" + str(Path(tmp) / "keyed.db"), KEY), n)
    _report("SQLite", n, clear, keyed)
