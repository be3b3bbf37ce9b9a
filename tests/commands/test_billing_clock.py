"""The billing clock ("run billing until T") on both stores: dunning, exactly-once, the same
result whatever the steps, no future, and two runs at once."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from support.concurrency import run_together
from support.factories import utc
from support.ledger import (
    add_coupon,
    add_plan,
    events_of,
    ids_in_log,
    log_envelopes,
    log_types,
    paying_subscriber,
    timeline,
)

from subledger.bootstrap import build_ledger
from subledger.commands.billing import PAGE_SIZE, BillingSummary, run_billing
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.errors import BillingUntilInFuture, InvalidInput


@pytest.fixture
def catalog(ledger: Ledger) -> Ledger:
    add_plan(ledger, "basic", amount=1000)
    add_plan(ledger, "trial", amount=2000, trial_days=14)
    return ledger


# -- dunning -----------------------------------------------------------------------------------


def test_dunning_recovers_when_the_retry_three_days_later_succeeds(catalog: Ledger) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com", token="tok_fail_first")
    sub = ledger.subscriptions.start(ada.id, plan_id="trial", effective_at=utc(2026, 3, 1))

    first = run_billing(ledger, utc(2026, 3, 17))

    assert timeline(ledger, sub.id)[1:] == [
        ("TrialEnded", "2026-03-15T00:00:00Z"),
        ("InvoiceIssued", "2026-03-15T00:00:00Z"),
        ("ChargeFailed", "2026-03-15T00:00:00Z"),
        ("SubscriptionPastDue", "2026-03-15T00:00:00Z"),
    ]
    (failed,) = events_of(ledger, sub.id, "ChargeFailed")
    assert (failed["data"]["attempt"], failed["data"]["decline_code"]) == (1, "card_declined")
    assert failed["data"]["next_attempt_at"] == "2026-03-18T00:00:00Z"
    assert ledger.subscriptions.get(sub.id).status == "past_due"
    counts = first.as_dict()
    assert (counts["charges_failed"], counts["past_due"], counts["collected"]) == (1, 1, {})

    second = run_billing(ledger, utc(2026, 3, 18))

    assert timeline(ledger, sub.id)[5:] == [
        ("ChargeSucceeded", "2026-03-18T00:00:00Z"),
        ("SubscriptionRecovered", "2026-03-18T00:00:00Z"),
    ]
    (succeeded,) = events_of(ledger, sub.id, "ChargeSucceeded")
    assert (succeeded["data"]["attempt"], succeeded["data"]["amount"]) == (2, 2000)
    assert succeeded["data"]["invoice_id"] == failed["data"]["invoice_id"]
    assert succeeded["data"]["charge_id"] != failed["data"]["charge_id"]
    assert ledger.subscriptions.get(sub.id).status == "active"
    assert (second.as_dict()["recovered"], second.collected) == (1, {"USD": 2000})


def test_dunning_retries_at_three_five_and_seven_days_then_cancels_involuntarily(catalog: Ledger) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com", token="tok_chargeDeclined")
    sub = ledger.subscriptions.start(ada.id, plan_id="trial", effective_at=utc(2026, 3, 1))

    run_billing(ledger, utc(2026, 3, 21, 23))
    assert ledger.subscriptions.get(sub.id).status == "past_due"

    summary = run_billing(ledger, utc(2026, 4, 30))

    failures = events_of(ledger, sub.id, "ChargeFailed")
    assert [(f["effective_at"], f["data"]["attempt"], f["data"]["next_attempt_at"]) for f in failures] == [
        ("2026-03-15T00:00:00Z", 1, "2026-03-18T00:00:00Z"),
        ("2026-03-18T00:00:00Z", 2, "2026-03-20T00:00:00Z"),
        ("2026-03-20T00:00:00Z", 3, "2026-03-22T00:00:00Z"),
        ("2026-03-22T00:00:00Z", 4, None),
    ]
    assert {f["data"]["decline_code"] for f in failures} == {"card_declined"}
    assert len({f["data"]["invoice_id"] for f in failures}) == 1
    assert timeline(ledger, sub.id)[-1] == ("SubscriptionCanceled", "2026-03-22T00:00:00Z")
    (canceled,) = events_of(ledger, sub.id, "SubscriptionCanceled")
    assert canceled["data"]["reason"] == "involuntary"
    assert ledger.subscriptions.get(sub.id).status == "canceled"
    assert events_of(ledger, sub.id, "SubscriptionRenewed") == [], "no renewal after the churn"
    assert summary.as_dict()["cancellations"] == 1


def test_a_failed_signup_charge_is_retried_by_the_clock(catalog: Ledger) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com", token="tok_fail_first")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 3, 1))
    assert sub.status == "past_due"

    run_billing(ledger, utc(2026, 3, 4))

    assert [t for t, _ in timeline(ledger, sub.id)] == [
        "SubscriptionStarted", "InvoiceIssued", "ChargeFailed", "SubscriptionPastDue",
        "ChargeSucceeded", "SubscriptionRecovered",
    ]
    assert timeline(ledger, sub.id)[-1][1] == "2026-03-04T00:00:00Z"


@pytest.fixture
def unpaid_policy(database_url: str) -> Iterator[Ledger]:
    """A ledger configured with ``SUBLEDGER_DUNNING=2,4:unpaid``, with the two plans."""
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": database_url,
                                             "SUBLEDGER_DUNNING": "2,4:unpaid"}))
    add_plan(ledger, "basic", amount=1000)
    add_plan(ledger, "trial", amount=2000, trial_days=14)
    yield ledger
    ledger.close()


def test_the_clock_pursues_a_failed_charge_by_the_configured_dunning_policy(
        unpaid_policy: Ledger) -> None:
    ledger = unpaid_policy
    ada = paying_subscriber(ledger, "ada@example.com", token="tok_chargeDeclined")
    sub = ledger.subscriptions.start(ada.id, plan_id="trial", effective_at=utc(2026, 3, 1))

    summary = run_billing(ledger, utc(2026, 4, 1))

    failures = events_of(ledger, sub.id, "ChargeFailed")
    assert [(f["effective_at"], f["data"]["next_attempt_at"]) for f in failures] == [
        ("2026-03-15T00:00:00Z", "2026-03-17T00:00:00Z"),
        ("2026-03-17T00:00:00Z", "2026-03-19T00:00:00Z"),
        ("2026-03-19T00:00:00Z", None),
    ]
    assert timeline(ledger, sub.id)[-2:] == [("InvoiceMarkedUncollectible", "2026-03-19T00:00:00Z"),
                                             ("SubscriptionRecovered", "2026-03-19T00:00:00Z")]
    (written_off,) = events_of(ledger, sub.id, "InvoiceMarkedUncollectible")
    assert written_off["data"]["invoice_id"] == failures[0]["data"]["invoice_id"]
    assert written_off["data"]["amount_due"] == 2000
    assert events_of(ledger, sub.id, "SubscriptionCanceled") == []
    assert ledger.subscriptions.get(sub.id).status == "active"
    assert summary.as_dict()["cancellations"] == 0


def test_a_command_records_its_own_failed_charge_by_the_configured_dunning_policy(
        unpaid_policy: Ledger) -> None:
    ledger = unpaid_policy
    ada = paying_subscriber(ledger, "ada@example.com", token="tok_chargeDeclined")

    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 3, 1))

    (failed,) = events_of(ledger, sub.id, "ChargeFailed")
    assert failed["data"]["next_attempt_at"] == "2026-03-03T00:00:00Z"
    assert sub.status == "past_due"


# -- exactly once ------------------------------------------------------------------------------


def _small_world(ledger: Ledger) -> None:
    """Subscribers with each sandbox card, a trial, a coupon, a scheduled change and a
    scheduled cancellation, all made by commands dated before Feb 2026."""
    add_coupon(ledger, "TWENTY-2M", percent_off=20, duration="repeating", duration_in_months=2)
    add_plan(ledger, "pro", amount=4900)
    cards = ["tok_visa", "tok_fail_first", "tok_chargeDeclined", None, "tok_visa", "tok_visa"]
    subs = []
    for n, card in enumerate(cards):
        subscriber = paying_subscriber(ledger, f"s{n}@example.com", token=card)
        plan = "trial" if n % 2 else "basic"
        subs.append(ledger.subscriptions.start(
            subscriber.id, plan_id=plan, coupon="TWENTY-2M" if n == 0 else None,
            effective_at=utc(2026, 1, 1 + 5 * n, n)).id)
    ledger.subscriptions.change(subs[4], plan_id="pro", when="period_end", effective_at=utc(2026, 1, 25))
    ledger.subscriptions.cancel(subs[5], when="period_end", effective_at=utc(2026, 1, 27))


def test_running_the_clock_twice_to_the_same_instant_appends_nothing(catalog: Ledger) -> None:
    ledger = catalog
    _small_world(ledger)
    first = run_billing(ledger, utc(2026, 5, 1))
    assert first.subscriptions > 0 and first.events["InvoiceIssued"] > 0
    log = log_envelopes(ledger)

    again = run_billing(ledger, utc(2026, 5, 1))

    assert log_envelopes(ledger) == log
    assert again.as_dict() == BillingSummary(until=utc(2026, 5, 1)).as_dict()
    assert again.as_dict()["invoices"] == 0 and again.billed == {} and again.collected == {}


def test_running_the_clock_to_an_earlier_instant_after_a_later_one_appends_nothing(catalog: Ledger) -> None:
    ledger = catalog
    _small_world(ledger)
    run_billing(ledger, utc(2026, 5, 1))
    count = len(log_envelopes(ledger))

    assert run_billing(ledger, utc(2026, 3, 1)).subscriptions == 0
    assert len(log_envelopes(ledger)) == count


def _per_aggregate(ledger: Ledger) -> list[list[tuple[str, str, object]]]:
    """Each aggregate's events as (type, effective_at, data), aggregates in creation order,
    ids and gateway references replaced by their order of appearance in the aggregate."""
    groups: dict[str, list[dict]] = {}
    for envelope in log_envelopes(ledger):
        groups.setdefault(envelope["aggregate_id"], []).append(envelope)
    pattern = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|sb_(ch|re)_[0-9a-f]{24}")
    result = []
    for envelopes in groups.values():
        names: dict[str, str] = {}

        def scrub(value: object, names: dict[str, str] = names) -> object:
            if isinstance(value, str):
                return pattern.sub(lambda m: names.setdefault(m.group(0), f"<{len(names)}>"), value)
            if isinstance(value, dict):
                return {k: scrub(v) for k, v in value.items()}
            if isinstance(value, list):
                return [scrub(v) for v in value]
            return value

        result.append([(e["type"], e["effective_at"], scrub(e["data"])) for e in envelopes])
    return result


@pytest.fixture
def second_settings(request: pytest.FixtureRequest, database_url: str, tmp_path) -> Iterator[Settings]:  # type: ignore[no-untyped-def]
    """Another empty store of the same kind as `database_url`'s."""
    if database_url.startswith("sqlite"):
        yield Settings.from_env({"SUBLEDGER_DATABASE_URL": "sqlite:///" + str(tmp_path / "second.db")})
        return
    import psycopg
    from psycopg import sql

    base = request.getfixturevalue("pg_database_url")
    schema = f"t2_{secrets.token_hex(6)}"
    try:
        yield Settings.from_env({"SUBLEDGER_DATABASE_URL": f"{base}?schema={schema}"})
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_running_the_clock_to_t1_then_t2_records_what_running_it_to_t2_directly_records(
    catalog: Ledger, second_settings: Settings,
) -> None:
    stepwise = catalog
    direct = build_ledger(second_settings)
    try:
        add_plan(direct, "basic", amount=1000)
        add_plan(direct, "trial", amount=2000, trial_days=14)
        _small_world(stepwise)
        _small_world(direct)
        assert _per_aggregate(stepwise) == _per_aggregate(direct)

        for t1 in (utc(2026, 1, 20), utc(2026, 2, 14, 12), utc(2026, 3, 3)):
            run_billing(stepwise, t1)
        run_billing(stepwise, utc(2026, 6, 1))
        run_billing(direct, utc(2026, 6, 1))

        assert _per_aggregate(stepwise) == _per_aggregate(direct)
        assert len(log_types(direct)) > 40
    finally:
        direct.close()


# -- never into the future ---------------------------------------------------------------------


def test_the_clock_refuses_an_instant_in_the_future_and_appends_nothing(catalog: Ledger) -> None:
    ledger = catalog
    _small_world(ledger)
    before = log_envelopes(ledger)

    with pytest.raises(BillingUntilInFuture):
        run_billing(ledger, datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(InvalidInput):
        run_billing(ledger, datetime(2026, 3, 1))  # no UTC offset

    assert log_envelopes(ledger) == before


def test_the_clock_runs_up_to_now(catalog: Ledger) -> None:
    ledger = catalog
    _small_world(ledger)

    summary = run_billing(ledger, datetime.now(UTC))

    assert summary.subscriptions == 6


# -- two runs at once --------------------------------------------------------------------------

SUBSCRIPTIONS = 50
FAIL_FIRST = 10
"""The first 10 subscribers' card fails the first attempt at each invoice."""


@pytest.mark.parametrize("pages", ["default", "small"])
def test_two_billing_runs_at_once_record_each_invoice_and_charge_exactly_once(
    catalog: Ledger, settings: Settings, pages: str,
) -> None:
    """Default pages: one run saves the 50 in one transaction, the other loses and redoes
    them one by one; small pages (3 and 5 a transaction) interleave the two runs."""
    ledger = catalog
    for n in range(SUBSCRIPTIONS):
        card = "tok_fail_first" if n < FAIL_FIRST else "tok_visa"
        subscriber = paying_subscriber(ledger, f"s{n}@example.com", token=card)
        ledger.subscriptions.start(subscriber.id, plan_id="basic",
                                  effective_at=utc(2026, 1, 5, 0, n))
    other = build_ledger(settings)
    try:
        ledgers = [ledger, other]
        sizes = [PAGE_SIZE, PAGE_SIZE] if pages == "default" else [3, 5]
        summaries = run_together(2, lambda i: run_billing(ledgers[i], utc(2026, 4, 5, 1),
                                                          page_size=sizes[i]))
    finally:
        other.close()

    invoice_ids = ids_in_log(ledger, "InvoiceIssued", "invoice_id")
    charge_ids = (ids_in_log(ledger, "ChargeSucceeded", "charge_id")
                  + ids_in_log(ledger, "ChargeFailed", "charge_id"))
    assert [i for i, n in Counter(invoice_ids).items() if n > 1] == []
    assert [c for c, n in Counter(charge_ids).items() if n > 1] == []
    # 50 signups + 3 renewals each (Feb 5, Mar 5, Apr 5).
    assert len(invoice_ids) == 50 + 3 * 50
    # In the runs: renewals 150 x 10.00 billed; collected: 40 cards x 3 renewals, and for
    # the 10 failing-first cards the signup retry (Jan 8), Feb 8 and Mar 8 (Apr 8 is later).
    total = Counter()  # type: ignore[var-annotated]
    for summary in summaries:
        total.update({k: v for k, v in summary.as_dict().items() if isinstance(v, int)})
    assert total["invoices"] == 150
    assert total["renewals"] == 150
    assert total["charges_succeeded"] == 40 * 3 + 10 * 3
    assert total["charges_failed"] == 10 * 3
    assert total["recovered"] == 10 * 3
    assert sum(s.billed["USD"] for s in summaries) == 150 * 1000
    assert sum(s.collected["USD"] for s in summaries) == 150 * 1000
    assert log_types(ledger).count("SubscriptionRenewed") == 150
    assert run_billing(ledger, utc(2026, 4, 5, 1)).subscriptions == 0
