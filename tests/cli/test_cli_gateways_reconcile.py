"""`subledger gateways reconcile` from the command line (on a SQLite file), against
FakeAuthorizeNet: what it records, that a second run records nothing, and its exit 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import authorizenet as anet
from support.factories import utc
from support.ledger import add_plan, add_subscriber, log_types

from subledger.bootstrap import build_ledger
from subledger.cli import main
from subledger.config import Settings

RECONCILE = ["gateways", "reconcile", "--gateway", "authorizenet", "--since", "2026-04-01",
             "--until", "2026-04-10T00:00:00Z"]


@pytest.fixture
def returned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[anet.FakeAuthorizeNet]:
    """A SQLite store where Ada's first charge (Apr 1) was settled Apr 2 and then returned."""
    with anet.FakeAuthorizeNet() as fake:
        fake.settle = False
        env = {"SUBLEDGER_DATABASE_URL": "sqlite:///" + str(tmp_path / "cli.db"),
               "SUBLEDGER_AUTHORIZENET_LOGIN_ID": anet.LOGIN_ID,
               "SUBLEDGER_AUTHORIZENET_TRANSACTION_KEY": anet.TRANSACTION_KEY,
               "SUBLEDGER_AUTHORIZENET_API_BASE": fake.url}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        for name in ("SUBLEDGER_API_KEYS", "SUBLEDGER_KAFKA_BOOTSTRAP", "SUBLEDGER_CIPHER_KEY",
                     "SUBLEDGER_AUDIT_KEY", "SUBLEDGER_STRIPE_API_KEY"):
            monkeypatch.delenv(name, raising=False)
        ledger = build_ledger(Settings.from_env(env))
        try:
            add_plan(ledger, "pro", amount=4900)
            ada = add_subscriber(ledger, "ada@example.com")
            ledger.subscribers.set_payment_method(ada.id, gateway="authorizenet",
                                                  token=f"{anet.CUSTOMER}:1000", effective_at=utc(2026, 4, 1))
            ledger.subscriptions.start(ada.id, plan_id="pro", effective_at=utc(2026, 4, 1))
        finally:
            ledger.close()
        fake.batches.settle(utc(2026, 4, 2, 3))
        [trans_id] = fake.transactions
        fake.batches.mark(trans_id, "returnedItem")
        yield fake


def types() -> list[str]:
    import os

    ledger = build_ledger(Settings.from_env(dict(os.environ)))
    try:
        return log_types(ledger)
    finally:
        ledger.close()


def test_reconcile_records_the_return_once_and_prints_a_summary(
    returned: anet.FakeAuthorizeNet, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(RECONCILE) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["found"], first["recorded"], first["since"]) == (1, 1, "2026-04-01T00:00:00Z")
    assert types().count("ChargeReversed") == 1

    assert main(RECONCILE) == 0
    again = json.loads(capsys.readouterr().out)
    assert (again["recorded"], again["already_recorded"]) == (0, 1)
    assert types().count("ChargeReversed") == 1


@pytest.mark.parametrize(("argv", "says"), [
    (["--since", "April"], "an instant is written like 2026-01-31T00:00:00Z"),
    (["--since", "2026-04-01T00:00:00"], "an instant is written like 2026-01-31T00:00:00Z"),
    (["--since", "2026-02-30"], "2026-02-30 is not a day of the calendar"),
    (["--since", "2026-04-01", "--gateway", "sandbox"], "'sandbox' cannot be asked"),
    (["--since", "2026-04-20"], "is after until"),
])
def test_bad_input_is_one_line_and_exit_2(
    returned: anet.FakeAuthorizeNet, capsys: pytest.CaptureFixture[str], argv: list[str], says: str,
) -> None:
    assert main(RECONCILE + argv) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    assert "ChargeReversed" not in types()


def test_an_unreachable_authorizenet_is_exit_2_and_records_nothing(
    returned: anet.FakeAuthorizeNet, capsys: pytest.CaptureFixture[str],
) -> None:
    returned.fail_next(status=503)
    assert main(RECONCILE) == 2
    err = capsys.readouterr().err
    assert "authorizenet could not be asked for its settlements" in err and "HTTP 503" in err
    assert "ChargeReversed" not in types()
