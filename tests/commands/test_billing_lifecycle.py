"""A subscription's billing through the ledger and the billing clock, on both stores: trials,
calendar renewals, prorated changes, credit balances, scheduled changes, pauses,
cancellations and coupons. Every amount is written by hand."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import pytest
from fakes.gateways import RecordingGateway, recording_ledger
from support.factories import utc
from support.ledger import (
    add_coupon,
    add_plan,
    events_of,
    invoices_of,
    line_amounts,
    loads_stale,
    paying_subscriber,
    timeline,
)

from subledger.commands.billing import run_billing
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.errors import ConcurrentModification


@pytest.fixture
def catalog(ledger):  # type: ignore[no-untyped-def]
    """basic 10.00/month, premium 30.00/month, trial 20.00/month with a 14-day trial."""
    add_plan(ledger, "basic", amount=1000)
    add_plan(ledger, "premium", amount=3000)
    add_plan(ledger, "trial", amount=2000, trial_days=14)
    return ledger


def charges_of(ledger, sub_id):  # type: ignore[no-untyped-def]
    return [(e["effective_at"], e["data"]["amount"])
            for e in events_of(ledger, sub_id, "ChargeSucceeded")]


# -- trials and renewals -----------------------------------------------------------------------


def test_a_trial_issues_nothing_until_its_end_then_the_clock_activates_and_invoices_it(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="trial", effective_at=utc(2026, 3, 1))
    assert sub.status == "trialing"

    quiet = run_billing(ledger, utc(2026, 3, 14, 23, 59, 59))
    assert quiet.subscriptions == 0 and not quiet.events
    assert invoices_of(ledger, sub.id) == []

    summary = run_billing(ledger, utc(2026, 3, 15))

    assert timeline(ledger, sub.id) == [
        ("SubscriptionStarted", "2026-03-01T00:00:00Z"),
        ("TrialEnded", "2026-03-15T00:00:00Z"),
        ("InvoiceIssued", "2026-03-15T00:00:00Z"),
        ("ChargeSucceeded", "2026-03-15T00:00:00Z"),
    ]
    (invoice,) = invoices_of(ledger, sub.id)
    assert invoice["data"]["reason"] == "trial_end"
    assert invoice["data"]["total"] == 2000 and invoice["data"]["amount_due"] == 2000
    (line,) = invoice["data"]["lines"]
    assert (line["kind"], line["amount"], line["period_start"], line["period_end"]) == (
        "recurring", 2000, "2026-03-15T00:00:00Z", "2026-04-15T00:00:00Z")
    assert summary.as_dict()["trial_conversions"] == 1
    assert summary.billed == {"USD": 2000} and summary.collected == {"USD": 2000}
    loaded = ledger.subscriptions.get(sub.id)
    assert loaded.status == "active"
    assert (loaded.current_period_start, loaded.current_period_end) == (utc(2026, 3, 15), utc(2026, 4, 15))


def test_renewals_from_a_jan_31_anchor_fall_on_feb_28_mar_31_and_apr_30_each_invoiced_and_charged(
    catalog,
) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 1, 31))

    summary = run_billing(ledger, utc(2026, 4, 30))

    renewals = events_of(ledger, sub.id, "SubscriptionRenewed")
    assert [(e["effective_at"], e["data"]["current_period_end"]) for e in renewals] == [
        ("2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"),
        ("2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"),
        ("2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z"),
    ]
    periods = [(i["data"]["lines"][0]["period_start"], i["data"]["lines"][0]["period_end"])
               for i in invoices_of(ledger, sub.id)]
    assert periods == [
        ("2026-01-31T00:00:00Z", "2026-02-28T00:00:00Z"),
        ("2026-02-28T00:00:00Z", "2026-03-31T00:00:00Z"),
        ("2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z"),
        ("2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z"),
    ]
    assert charges_of(ledger, sub.id) == [
        ("2026-01-31T00:00:00Z", 1000), ("2026-02-28T00:00:00Z", 1000),
        ("2026-03-31T00:00:00Z", 1000), ("2026-04-30T00:00:00Z", 1000),
    ]
    charged = events_of(ledger, sub.id, "ChargeSucceeded")
    assert [c["data"]["invoice_id"] for c in charged] == [
        i["data"]["invoice_id"] for i in invoices_of(ledger, sub.id)]
    counts = summary.as_dict()
    assert (counts["renewals"], counts["invoices"], counts["charges_succeeded"]) == (3, 3, 3)
    assert summary.billed == {"USD": 3000} and summary.collected == {"USD": 3000}


# -- changes now: proration --------------------------------------------------------------------


def test_an_upgrade_with_ten_of_thirty_days_left_is_prorated_to_the_cent_and_charged_at_once(
    catalog,
) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))

    ledger.subscriptions.change(sub.id, plan_id="premium", effective_at=utc(2026, 4, 21))

    # April has 30 days; on the 21st, 10 are left.
    credit = -round(Fraction(1000 * 10, 30))  # -333.33 -> -333
    charge = round(Fraction(3000 * 10, 30))  # 1000
    assert (credit, charge) == (-333, 1000)
    proration = invoices_of(ledger, sub.id)[-1]
    assert proration["data"]["reason"] == "proration"
    assert line_amounts(proration) == [("proration_credit", credit), ("proration_charge", charge)]
    assert proration["data"]["total"] == 667 and proration["data"]["amount_due"] == 667
    assert {(line["period_start"], line["period_end"]) for line in proration["data"]["lines"]} == {
        ("2026-04-21T00:00:00Z", "2026-05-01T00:00:00Z")}
    assert charges_of(ledger, sub.id)[-1] == ("2026-04-21T00:00:00Z", 667)

    run_billing(ledger, utc(2026, 5, 1))
    renewal = invoices_of(ledger, sub.id)[-1]
    assert renewal["effective_at"] == "2026-05-01T00:00:00Z"
    assert line_amounts(renewal) == [("recurring", 3000)]
    assert charges_of(ledger, sub.id)[-1] == ("2026-05-01T00:00:00Z", 3000)


def test_a_downgrade_credit_is_kept_as_credit_balance_and_paid_into_the_next_renewal(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="premium", effective_at=utc(2026, 4, 1))

    ledger.subscriptions.change(sub.id, plan_id="basic", effective_at=utc(2026, 4, 21))

    credit, charge = -round(Fraction(3000 * 10, 30)), round(Fraction(1000 * 10, 30))
    assert (credit, charge) == (-1000, 333)
    proration = invoices_of(ledger, sub.id)[-1]
    assert line_amounts(proration) == [("proration_credit", -1000), ("proration_charge", 333)]
    data = proration["data"]
    assert (data["total"], data["credit_added"], data["credit_applied"], data["amount_due"]) == (
        -667, 667, 0, 0)
    assert charges_of(ledger, sub.id) == [("2026-04-01T00:00:00Z", 3000)], "a credit is not charged"
    assert ledger.subscriptions.get(sub.id).credit_balance == 667

    run_billing(ledger, utc(2026, 6, 1))

    may, june = invoices_of(ledger, sub.id)[-2:]
    assert (may["data"]["total"], may["data"]["credit_applied"], may["data"]["amount_due"]) == (1000, 667, 333)
    assert (june["data"]["total"], june["data"]["credit_applied"], june["data"]["amount_due"]) == (1000, 0, 1000)
    assert charges_of(ledger, sub.id)[1:] == [("2026-05-01T00:00:00Z", 333), ("2026-06-01T00:00:00Z", 1000)]
    assert ledger.subscriptions.get(sub.id).credit_balance == 0


def test_a_credit_larger_than_an_invoice_pays_several_renewals_and_no_zero_charge_is_made(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="premium", quantity=3, effective_at=utc(2026, 4, 1))

    ledger.subscriptions.change(sub.id, plan_id="basic", quantity=1, effective_at=utc(2026, 4, 21))
    # credit 9000 x 10/30 = 3000, charge 1000 x 10/30 = 333.33 -> 333: 2667 of credit.
    assert invoices_of(ledger, sub.id)[-1]["data"]["credit_added"] == 2667

    run_billing(ledger, utc(2026, 7, 1))

    renewals = [(i["data"]["credit_applied"], i["data"]["amount_due"]) for i in invoices_of(ledger, sub.id)[-3:]]
    assert renewals == [(1000, 0), (1000, 0), (667, 333)]
    assert charges_of(ledger, sub.id) == [("2026-04-01T00:00:00Z", 9000), ("2026-07-01T00:00:00Z", 333)]


# -- changes at period end ---------------------------------------------------------------------


def test_a_change_scheduled_for_period_end_is_not_prorated_and_the_renewal_is_invoiced_at_the_new_price(
    catalog,
) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))

    ledger.subscriptions.change(sub.id, plan_id="premium", quantity=2, when="period_end",
                               effective_at=utc(2026, 4, 10))
    assert len(invoices_of(ledger, sub.id)) == 1, "no proration for a scheduled change"

    run_billing(ledger, utc(2026, 5, 1))

    assert timeline(ledger, sub.id)[-4:] == [
        ("SubscriptionChanged", "2026-05-01T00:00:00Z"),
        ("SubscriptionRenewed", "2026-05-01T00:00:00Z"),
        ("InvoiceIssued", "2026-05-01T00:00:00Z"),
        ("ChargeSucceeded", "2026-05-01T00:00:00Z"),
    ]
    renewal = invoices_of(ledger, sub.id)[-1]
    assert line_amounts(renewal) == [("recurring", 6000)]
    assert charges_of(ledger, sub.id)[-1] == ("2026-05-01T00:00:00Z", 6000)
    loaded = ledger.subscriptions.get(sub.id)
    assert (loaded.plan_id, loaded.quantity, loaded.billing_anchor) == ("premium", 2, utc(2026, 4, 1))


# -- pause and resume --------------------------------------------------------------------------


def test_a_paused_subscription_is_not_invoiced_and_resuming_invoices_a_period_anchored_at_the_resume(
    catalog,
) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 1, 10))
    ledger.subscriptions.pause(sub.id, effective_at=utc(2026, 1, 20))

    quiet = run_billing(ledger, utc(2026, 3, 31))
    assert not quiet.events
    # The first and the pause's credit of its unused part: 21 of 31 days, 677.
    assert [i["data"]["total"] for i in invoices_of(ledger, sub.id)] == [1000, -677]

    ledger.subscriptions.resume(sub.id, effective_at=utc(2026, 4, 5, 12))

    resume = invoices_of(ledger, sub.id)[-1]
    assert resume["data"]["reason"] == "resume"
    assert resume["effective_at"] == "2026-04-05T12:00:00Z"
    (line,) = resume["data"]["lines"]
    assert (line["amount"], line["period_start"], line["period_end"]) == (
        1000, "2026-04-05T12:00:00Z", "2026-05-05T12:00:00Z")
    assert resume["data"]["credit_applied"] == 677
    assert charges_of(ledger, sub.id)[-1] == ("2026-04-05T12:00:00Z", 323)

    run_billing(ledger, utc(2026, 5, 5, 12))
    renewal = invoices_of(ledger, sub.id)[-1]
    assert renewal["effective_at"] == "2026-05-05T12:00:00Z"
    assert renewal["data"]["lines"][0]["period_end"] == "2026-06-05T12:00:00Z"


# -- cancellation ------------------------------------------------------------------------------


def test_a_cancellation_at_period_end_ends_the_subscription_at_the_renewal_without_invoicing_it(
    catalog,
) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))
    ledger.subscriptions.cancel(sub.id, when="period_end", effective_at=utc(2026, 4, 10))

    run_billing(ledger, utc(2026, 6, 1))

    assert timeline(ledger, sub.id)[-2:] == [
        ("CancellationScheduled", "2026-04-10T00:00:00Z"),
        ("SubscriptionCanceled", "2026-05-01T00:00:00Z"),
    ]
    (canceled,) = events_of(ledger, sub.id, "SubscriptionCanceled")
    assert canceled["data"]["reason"] == "voluntary"
    assert len(invoices_of(ledger, sub.id)) == 1
    assert ledger.subscriptions.get(sub.id).status == "canceled"


def test_a_revoked_cancellation_lets_the_subscription_renew_and_be_invoiced(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))
    ledger.subscriptions.cancel(sub.id, when="period_end", effective_at=utc(2026, 4, 10))
    ledger.subscriptions.revoke_cancellation(sub.id, effective_at=utc(2026, 4, 20))

    run_billing(ledger, utc(2026, 5, 1))

    assert events_of(ledger, sub.id, "SubscriptionCanceled") == []
    assert [t for t, _ in timeline(ledger, sub.id)][-4:] == [
        "CancellationRevoked", "SubscriptionRenewed", "InvoiceIssued", "ChargeSucceeded"]
    assert charges_of(ledger, sub.id)[-1] == ("2026-05-01T00:00:00Z", 1000)
    assert ledger.subscriptions.get(sub.id).status == "active"


def test_canceling_a_trial_at_period_end_ends_it_at_the_trial_end_with_no_invoice(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="trial", effective_at=utc(2026, 3, 1))
    ledger.subscriptions.cancel(sub.id, when="period_end", effective_at=utc(2026, 3, 5))

    run_billing(ledger, utc(2026, 4, 30))

    assert timeline(ledger, sub.id)[-1] == ("SubscriptionCanceled", "2026-03-15T00:00:00Z")
    assert invoices_of(ledger, sub.id) == []


def test_a_cancellation_at_a_given_time_ends_the_subscription_then_after_the_renewals_due_before_it(
    catalog,
) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))
    ledger.subscriptions.cancel(sub.id, when="at", at=utc(2026, 5, 10), effective_at=utc(2026, 4, 2))

    run_billing(ledger, utc(2026, 7, 1))

    assert timeline(ledger, sub.id)[-4:] == [
        ("SubscriptionRenewed", "2026-05-01T00:00:00Z"),
        ("InvoiceIssued", "2026-05-01T00:00:00Z"),
        ("ChargeSucceeded", "2026-05-01T00:00:00Z"),
        ("SubscriptionCanceled", "2026-05-10T00:00:00Z"),
    ]
    assert len(invoices_of(ledger, sub.id)) == 2


# -- plan changes across intervals and trials --------------------------------------------------


def test_a_change_to_a_plan_with_a_trial_never_starts_a_trial(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))

    changed = ledger.subscriptions.change(sub.id, plan_id="trial", effective_at=utc(2026, 4, 16))

    assert changed.status == "active"
    # Half of April left: -1000 / 2 + 2000 / 2.
    assert line_amounts(invoices_of(ledger, sub.id)[-1]) == [
        ("proration_credit", -500), ("proration_charge", 1000)]
    run_billing(ledger, utc(2026, 5, 1))
    assert charges_of(ledger, sub.id)[-1] == ("2026-05-01T00:00:00Z", 2000)


def test_a_scheduled_change_to_a_yearly_plan_starts_a_yearly_calendar_at_the_renewal(catalog) -> None:
    ledger = catalog
    add_plan(ledger, "annual", amount=10000, interval="year")
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 1, 31))
    ledger.subscriptions.change(sub.id, plan_id="annual", when="period_end", effective_at=utc(2026, 2, 1))

    run_billing(ledger, utc(2026, 11, 1))

    (renewal,) = invoices_of(ledger, sub.id)[1:]
    assert renewal["effective_at"] == "2026-02-28T00:00:00Z"
    (line,) = renewal["data"]["lines"]
    assert (line["amount"], line["period_start"], line["period_end"]) == (
        10000, "2026-02-28T00:00:00Z", "2027-02-28T00:00:00Z")


def test_a_change_scheduled_during_a_trial_prices_the_first_invoice_at_the_trial_end(catalog) -> None:
    ledger = catalog
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="trial", effective_at=utc(2026, 3, 1))
    ledger.subscriptions.change(sub.id, plan_id="premium", quantity=2, when="period_end",
                               effective_at=utc(2026, 3, 3))

    run_billing(ledger, utc(2026, 3, 15))

    assert [t for t, _ in timeline(ledger, sub.id)][-4:] == [
        "SubscriptionChanged", "TrialEnded", "InvoiceIssued", "ChargeSucceeded"]
    assert line_amounts(invoices_of(ledger, sub.id)[-1]) == [("recurring", 6000)]


# -- coupons -----------------------------------------------------------------------------------


def test_once_repeating_and_forever_coupons_discount_the_right_successive_invoices(catalog) -> None:
    ledger = catalog
    add_coupon(ledger, "FIVE-ONCE", percent_off=None, amount_off=500, currency="USD", duration="once")
    add_coupon(ledger, "TWENTY-3M", percent_off=20, duration="repeating", duration_in_months=3)
    add_coupon(ledger, "TEN-FOREVER", percent_off=10, duration="forever")
    subs = {}
    for n, coupon in enumerate(["FIVE-ONCE", "TWENTY-3M", "TEN-FOREVER"]):
        subscriber = paying_subscriber(ledger, f"s{n}@example.com")
        subs[coupon] = ledger.subscriptions.start(subscriber.id, plan_id="basic", coupon=coupon,
                                                 effective_at=utc(2026, 1, 15)).id

    run_billing(ledger, utc(2026, 5, 15))

    def totals(coupon: str) -> list[int]:
        return [i["data"]["total"] for i in invoices_of(ledger, subs[coupon])]

    # Invoices on Jan 15, Feb 15, Mar 15, Apr 15 and May 15 of a 10.00 plan.
    assert totals("FIVE-ONCE") == [500, 1000, 1000, 1000, 1000]
    assert totals("TWENTY-3M") == [800, 800, 800, 1000, 1000]  # three months from Jan 15
    assert totals("TEN-FOREVER") == [900, 900, 900, 900, 900]
    first = invoices_of(ledger, subs["FIVE-ONCE"])[0]
    assert line_amounts(first) == [("recurring", 1000), ("discount", -500)]
    assert [amount for _, amount in charges_of(ledger, subs["TWENTY-3M"])] == [800, 800, 800, 1000, 1000]


def test_a_once_coupon_applied_mid_period_discounts_the_next_renewal_only(catalog) -> None:
    ledger = catalog
    add_coupon(ledger, "HALF-ONCE", percent_off=50, duration="once")
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 1, 15))
    ledger.subscriptions.apply_coupon(sub.id, coupon="HALF-ONCE", effective_at=utc(2026, 1, 20))

    run_billing(ledger, utc(2026, 3, 15))

    assert [i["data"]["total"] for i in invoices_of(ledger, sub.id)] == [1000, 500, 1000]


def test_a_forever_coupon_stays_across_a_plan_change(catalog) -> None:
    ledger = catalog
    add_coupon(ledger, "TEN-FOREVER", percent_off=10, duration="forever")
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", coupon="TEN-FOREVER",
                                    effective_at=utc(2026, 4, 1))
    ledger.subscriptions.change(sub.id, plan_id="premium", when="period_end", effective_at=utc(2026, 4, 2))

    run_billing(ledger, utc(2026, 5, 1))

    assert line_amounts(invoices_of(ledger, sub.id)[-1]) == [("recurring", 3000), ("discount", -300)]


# -- no payment method -------------------------------------------------------------------------


def test_a_subscriber_without_a_payment_method_fails_the_charge_with_no_payment_method(catalog) -> None:
    ledger = catalog
    nobody = paying_subscriber(ledger, "nocard@example.com", token=None)
    sub = ledger.subscriptions.start(nobody.id, plan_id="trial", effective_at=utc(2026, 3, 1))

    run_billing(ledger, utc(2026, 3, 15))

    (failed,) = events_of(ledger, sub.id, "ChargeFailed")
    assert failed["effective_at"] == "2026-03-15T00:00:00Z"
    assert failed["data"]["decline_code"] == "no_payment_method"
    assert (failed["data"]["amount"], failed["data"]["attempt"]) == (2000, 1)
    assert failed["data"]["next_attempt_at"] == "2026-03-18T00:00:00Z"
    assert [t for t, _ in timeline(ledger, sub.id)][-1] == "SubscriptionPastDue"
    assert ledger.subscriptions.get(sub.id).status == "past_due"


# -- the card is charged once ------------------------------------------------------------------


@pytest.fixture
def recorded(settings: Settings) -> Iterator[tuple[Ledger, RecordingGateway]]:
    """A ledger on the store under test whose sandbox gateway records the money it moves."""
    gateway = RecordingGateway()
    ledger = recording_ledger(settings, gateway)
    try:
        add_plan(ledger, "basic", amount=1000)
        add_plan(ledger, "premium", amount=3000)
        yield ledger, gateway
    finally:
        ledger.close()


def test_the_gateway_is_charged_exactly_what_the_ledger_records_as_collected(recorded) -> None:  # type: ignore[no-untyped-def]
    ledger, gateway = recorded
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", effective_at=utc(2026, 4, 1))
    ledger.subscriptions.change(sub.id, plan_id="premium", effective_at=utc(2026, 4, 21))
    run_billing(ledger, utc(2026, 5, 1))
    run_billing(ledger, utc(2026, 6, 1))

    # 10.00 at signup, 6.67 of proration, 30.00 on May 1 and June 1.
    assert sorted(gateway.charged.values()) == [667, 1000, 3000, 3000]
    assert sorted(amount for _, amount in charges_of(ledger, sub.id)) == [667, 1000, 3000, 3000]


def test_a_change_that_loses_a_race_and_is_retried_charges_the_card_once(recorded) -> None:  # type: ignore[no-untyped-def]
    ledger, gateway = recorded
    ada = paying_subscriber(ledger, "ada@example.com")
    sub = ledger.subscriptions.start(ada.id, plan_id="basic", quantity=2, effective_at=utc(2026, 4, 1))
    (charge_id,) = sub.charges
    stale = ledger.subscriptions.get(sub.id)
    # Another request (a refund) is saved after this change loaded the subscription.
    ledger.payments.refund_charge(charge_id, amount=100, effective_at=utc(2026, 4, 2))
    with loads_stale(ledger, stale), pytest.raises(ConcurrentModification):
        ledger.subscriptions.change(sub.id, plan_id="premium", effective_at=utc(2026, 4, 16))

    ledger.subscriptions.change(sub.id, plan_id="premium", effective_at=utc(2026, 4, 16))  # retry

    # Half of April left: -2000 / 2 + 6000 / 2 = 2000, once.
    assert [amount for _, amount in charges_of(ledger, sub.id)] == [2000, 2000]
    assert sorted(gateway.charged.values()) == [2000, 2000]
