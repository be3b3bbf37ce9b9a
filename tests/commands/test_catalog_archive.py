"""Archived plans and coupons through the ledger (the Python API): what already has them keeps
them, nothing new gets them, a refusal appends nothing, and lists can leave them out."""

from __future__ import annotations

import pytest
from support.factories import utc
from support.ledger import CARD, add_coupon, add_plan, add_subscriber, invoices_of, log_types

from subledger.commands.billing import run_billing
from subledger.commands.catalog_writes import ArchiveCoupon, ArchivePlan
from subledger.commands.idempotency import OPEN_SCOPE, IdempotencyKey
from subledger.domain.errors import CouponIsArchived, PlanIsArchived

JAN_31 = utc(2026, 1, 31)
FEB_10 = utc(2026, 2, 10)


def test_a_subscription_on_an_archived_plan_renews_on_it_with_its_archived_coupon(ledger) -> None:
    add_plan(ledger, "basic", amount=1000)
    add_coupon(ledger, "twenty", percent_off=20, duration="forever")
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", coupon="twenty", effective_at=JAN_31)

    ledger.catalog.archive_plan("basic", effective_at=FEB_10)
    ledger.catalog.archive_coupon("twenty", effective_at=FEB_10)
    run_billing(ledger, utc(2026, 4, 1))

    renewed = ledger.subscriptions.get(sub.id)
    assert (renewed.plan_id, renewed.status, renewed.current_period_start) == (
        "basic", "active", utc(2026, 3, 31))
    assert [i["data"]["total"] for i in invoices_of(ledger, sub.id)] == [800, 800, 800]


def test_a_change_scheduled_before_the_archive_still_happens_at_the_renewal(ledger) -> None:
    add_plan(ledger, "basic", amount=1000)
    add_plan(ledger, "pro", amount=3000)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    ledger.subscriptions.change(sub.id, plan_id="pro", when="period_end", effective_at=utc(2026, 2, 5))

    ledger.catalog.archive_plan("pro", effective_at=FEB_10)
    run_billing(ledger, utc(2026, 3, 1))

    moved = ledger.subscriptions.get(sub.id)
    assert (moved.plan_id, moved.amount) == ("pro", 3000)
    assert invoices_of(ledger, sub.id)[-1]["data"]["total"] == 3000


def test_nothing_new_starts_on_or_moves_to_an_archived_plan_and_a_refusal_appends_nothing(ledger) -> None:
    add_plan(ledger, "basic", amount=1000)
    add_plan(ledger, "legacy", amount=500)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    ledger.catalog.archive_plan("legacy", effective_at=FEB_10)
    position = ledger.event_log.max_position()

    refused = [
        lambda: ledger.subscriptions.start(ada.id, plan_id="legacy", effective_at=FEB_10),
        lambda: ledger.subscriptions.change(sub.id, plan_id="legacy", effective_at=utc(2026, 2, 11)),
        lambda: ledger.subscriptions.change(sub.id, plan_id="legacy", when="period_end",
                                            effective_at=utc(2026, 2, 11)),
        lambda: ledger.catalog.add_plan_price("legacy", amount=600, effective_at=utc(2026, 2, 11)),
        lambda: ledger.catalog.archive_plan("legacy", effective_at=utc(2026, 2, 11)),
    ]
    for command in refused:
        with pytest.raises(PlanIsArchived):
            command()

    assert ledger.event_log.max_position() == position
    assert ledger.subscriptions.get(sub.id).plan_id == "basic"


def test_a_signup_backdated_to_before_the_archive_records_a_past_fact(ledger) -> None:
    add_plan(ledger, "legacy", amount=500)
    ada = add_subscriber(ledger, token=CARD)
    ledger.catalog.archive_plan("legacy", effective_at=FEB_10)

    sub = ledger.subscriptions.start(ada.id, plan_id="legacy", effective_at=utc(2026, 2, 9))

    assert sub.plan_id == "legacy"


def test_seats_change_on_an_archived_plan_whether_or_not_the_change_names_it(ledger) -> None:
    add_plan(ledger, "legacy", amount=500)
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="legacy", effective_at=JAN_31)
    ledger.catalog.archive_plan("legacy", effective_at=FEB_10)

    more = ledger.subscriptions.change(sub.id, quantity=2, effective_at=utc(2026, 2, 11))
    named = ledger.subscriptions.change(sub.id, plan_id="legacy", quantity=3,
                                        effective_at=utc(2026, 2, 12))

    assert (more.quantity, named.quantity, named.plan_id, named.plan_version) == (2, 3, "legacy", 1)


def test_an_archived_coupon_is_applied_neither_at_signup_nor_later(ledger) -> None:
    add_plan(ledger, "basic", amount=1000)
    add_coupon(ledger, "twenty")
    ada = add_subscriber(ledger, token=CARD)
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=JAN_31)
    ledger.catalog.archive_coupon("twenty", effective_at=FEB_10)
    position = ledger.event_log.max_position()

    with pytest.raises(CouponIsArchived):
        ledger.subscriptions.start(ada.id, plan_id="basic", coupon="twenty", effective_at=FEB_10)
    with pytest.raises(CouponIsArchived):
        ledger.subscriptions.apply_coupon(sub.id, coupon="twenty", effective_at=utc(2026, 2, 11))
    with pytest.raises(CouponIsArchived):
        ledger.catalog.archive_coupon("twenty")

    assert ledger.event_log.max_position() == position
    assert ledger.subscriptions.get(sub.id).coupon is None


def test_an_archive_run_with_a_key_answers_the_first_answer_again(ledger) -> None:
    add_plan(ledger, "basic")
    add_coupon(ledger, "twenty")
    key = IdempotencyKey(OPEN_SCOPE, "archive-basic")

    first = ledger.execute(ArchivePlan("basic"), key)
    again = ledger.execute(ArchivePlan("basic"), key)
    coupon = ledger.execute(ArchiveCoupon("twenty"))

    assert first.body["archived_at"] is not None and not first.created
    assert (again.body, again.replayed) == (first.body, True)
    assert coupon.body["coupon_id"] == "twenty" and coupon.body["archived_at"] is not None
    assert log_types(ledger)[-2:] == ["PlanArchived", "CouponArchived"]
    with pytest.raises(PlanIsArchived):
        ledger.execute(ArchivePlan("basic"))


def test_lists_leave_out_the_archived_or_the_live_records_page_by_page(ledger) -> None:
    for i in range(5):
        add_plan(ledger, f"plan-{i}")
        add_coupon(ledger, f"coupon-{i}")
    for i in (1, 3):
        ledger.catalog.archive_plan(f"plan-{i}")
        ledger.catalog.archive_coupon(f"coupon-{i}")

    first, cursor = ledger.catalog.plans(0, 2, archived=False)
    second, end = ledger.catalog.plans(cursor, 2, archived=False)
    archived, _ = ledger.catalog.plans(0, 100, archived=True)
    every, _ = ledger.catalog.plans(0, 100)
    live_coupons, _ = ledger.catalog.coupons(0, 100, archived=False)

    assert [p.plan_id for p in first + second] == ["plan-0", "plan-2", "plan-4"]
    assert end is None
    assert [p.plan_id for p in archived] == ["plan-1", "plan-3"]
    assert [p.plan_id for p in every] == [f"plan-{i}" for i in range(5)]
    assert [c.coupon_id for c in live_coupons] == ["coupon-0", "coupon-2", "coupon-4"]
