"""The mail worker against a real SMTP server (aiosmtpd), on SQLite and PostgreSQL: each
message once per cause, retried when the server cannot take it now, never sent again after
a crash, the messages that wait for a date sent when the ledger's clock reaches it,
marketing messages only to subscribers who did not opt out, no header made from a name the
log kept with a line break, and a message that cannot be written failed while the others go."""

from __future__ import annotations

import io
import logging
from typing import Any

import pypdf
from support.factories import utc
from support.post import START, Post

from subledger.commands.gateways.notices import CHARGE_DENIED, GatewayNotice
from subledger.domain.subscriber import Subscriber
from subledger.messages import outbox
from subledger.messages.compose import TEMPLATES
from subledger.messages.worker import MailWorker


def _signup(post: Post, *, token: str = "tok_visa", trial_days: int = 0,
            email: str = "ada@example.com") -> tuple[Any, Any]:
    ledger = post.ledger
    try:
        ledger.catalog.get_plan("basic")
    except Exception:  # noqa: BLE001 - the first signup of a test creates the plan
        ledger.catalog.create_plan(plan_id="basic", name="Basic monthly", tier="basic",
                                   currency="USD", amount=1900, interval="month", trial_days=0)
    who = ledger.subscribers.register(email=email, name="Ada Lovelace")
    ledger.subscribers.set_payment_method(who.id, gateway="sandbox", token=token)
    sub = ledger.subscriptions.start(who.id, plan_id="basic", trial_days=trial_days)
    return who, sub


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def test_a_paid_invoice_sends_one_receipt_with_the_invoice_pdf(post: Post) -> None:
    worker = post.worker()
    _signup(post)
    post.deliver(worker)
    post.deliver(worker)  # again: nothing more
    [receipt] = post.smtp.delivered
    assert receipt.recipients == ["ada@example.com"]
    assert receipt.subject == "Receipt for your payment of USD 19.00"
    assert str(receipt.message["From"]) == "Shop <billing@shop.test>"
    assert str(receipt.message["To"]) == "Ada Lovelace <ada@example.com>"
    assert "we received your payment of USD 19.00 for Basic monthly" in receipt.text
    assert "Service period: 2026-01-01 – 2026-02-01" in receipt.text
    [(filename, pdf)] = receipt.attachments()
    number = filename.removesuffix(".pdf")
    assert number in receipt.text
    text = _pdf_text(pdf)
    assert "Invoice" in text and number in text and "Shop Ltd" in text
    assert "Ada Lovelace" in text and "USD 19.00" in text


def test_a_receipt_waits_for_the_invoices_read_model_then_goes_once(post: Post) -> None:
    worker = post.worker()
    _signup(post)
    while worker.run_once():  # the projector has not run: the invoice is not readable yet
        pass
    assert post.smtp.delivered == []
    assert [m.status for m in outbox.outbox(worker.store)] == ["pending"]
    post.deliver(worker)
    assert [d.subject for d in post.smtp.delivered] == ["Receipt for your payment of USD 19.00"]


def test_a_new_worker_on_the_same_outbox_sends_nothing_twice(post: Post) -> None:
    first = post.worker()
    _signup(post)
    post.deliver(first)
    assert len(post.smtp.delivered) == 1
    second = post.worker()  # a restart: the checkpoint and the outbox are in the database
    post.deliver(second)
    assert len(post.smtp.delivered) == 1


def test_a_message_left_sending_by_a_dead_process_is_not_sent_again(post: Post) -> None:
    worker = post.worker()
    _signup(post)
    post.projector.run_once()
    worker.follow_log()
    [pending] = outbox.outbox(worker.store)
    assert outbox.claim(worker.store, pending.message_id, "ada@example.com", "Receipt")
    # ... and the process died before it knew whether the server took it
    post.deliver(post.worker())
    assert post.smtp.delivered == []
    assert [m.status for m in outbox.outbox(worker.store)] == ["sending"]


def test_a_server_that_cannot_take_it_now_gets_it_again_after_the_backoff(post: Post) -> None:
    worker = post.worker(retry_base=60)
    post.smtp.answer_next("451 4.3.0 mailbox busy, try later")
    _signup(post)
    post.deliver(worker)
    [message] = outbox.outbox(worker.store)
    assert (message.status, message.attempts) == ("pending", 1)
    assert "451" in (message.last_error or "")
    assert message.next_attempt_at == START.timestamp() + 60
    post.clock.advance(seconds=59)
    post.deliver(worker)
    assert post.smtp.delivered == []
    post.clock.advance(seconds=1)
    post.deliver(worker)
    assert len(post.smtp.delivered) == 1
    [message] = outbox.outbox(worker.store)
    assert (message.status, message.attempts) == ("sent", 2)


def test_a_message_the_server_refuses_for_good_is_failed_and_not_retried(post: Post) -> None:
    worker = post.worker()
    post.smtp.answer_next("550 5.1.1 no such mailbox")
    _signup(post)
    post.deliver(worker)
    post.clock.advance(days=2)
    post.deliver(worker)
    assert post.smtp.delivered == []
    [message] = outbox.outbox(worker.store)
    assert message.status == "failed" and "550" in (message.last_error or "")


def test_the_trial_ending_notice_is_sent_three_days_before_the_trial_ends(post: Post) -> None:
    worker = post.worker()
    _signup(post, trial_days=14)
    post.at(utc(2026, 1, 11, 23, 59))
    post.deliver(worker)
    assert post.smtp.delivered == []
    post.at(utc(2026, 1, 12))
    post.deliver(worker)
    [notice] = post.smtp.delivered
    assert notice.subject == "Your trial of Basic monthly ends on 2026-01-15"
    assert "After that, your subscription costs USD 19.00 per month" in notice.text
    assert ">From" not in notice.text
    assert "Your first invoice, on 2026-01-15, will charge USD 19.00." in notice.text


def test_the_trial_ending_notice_states_what_the_first_invoice_will_charge(post: Post) -> None:
    """A coupon applied during the trial takes 20 % off USD 19.00: the notice tells the
    USD 15.20 the trial's end will charge, not the plan's price alone."""
    worker = post.worker()
    _, sub = _signup(post, trial_days=14)
    post.ledger.catalog.create_coupon(coupon_id="TWENTY", percent_off=20, duration="forever")
    post.ledger.subscriptions.apply_coupon(sub.id, coupon="TWENTY")
    post.at(utc(2026, 1, 12))
    post.deliver(worker)
    [notice] = post.smtp.delivered
    assert "costs USD 19.00 per month before any discount" in notice.text
    assert "Your first invoice, on 2026-01-15, will charge USD 15.20." in notice.text


def test_no_message_template_starts_a_line_with_from() -> None:
    """smtplib writes a body line that starts with "From " as ">From " (mbox quoting), so
    the subscriber would read the ">"."""
    for template in TEMPLATES.glob("*.txt"):
        assert not any(line.startswith("From ") for line in template.read_text().splitlines()), template


def test_a_trial_canceled_before_the_notice_gets_no_notice(post: Post) -> None:
    worker = post.worker()
    _, sub = _signup(post, trial_days=14)
    post.deliver(worker)
    post.clock.set(utc(2026, 1, 5))
    post.ledger.subscriptions.cancel(sub.id, when="period_end")  # at the trial's end
    post.at(utc(2026, 1, 13))
    post.deliver(worker)
    assert post.smtp.delivered == []


def test_the_renewal_reminder_goes_the_configured_days_before_and_not_to_who_opted_out(
        post: Post) -> None:
    worker = post.worker(renewal_days=7)
    ada, _ = _signup(post)
    bob, _ = _signup(post, email="bob@example.com")
    post.ledger.subscribers.set_marketing_consent(bob.id, consent=False)
    post.deliver(worker)
    assert len(post.smtp.delivered) == 2  # receipts: sent whatever the consent
    post.at(utc(2026, 1, 25))
    post.deliver(worker)
    reminders = post.smtp.delivered[2:]
    assert [(r.recipients, r.subject) for r in reminders] == [
        (["ada@example.com"], "Your subscription to Basic monthly renews on 2026-02-01")]
    statuses = {(m.kind, m.subscriber_id): m.status for m in outbox.outbox(worker.store)}
    assert statuses[("renewal_reminder", str(bob.id))] == "skipped"
    assert statuses[("renewal_reminder", str(ada.id))] == "sent"


def test_a_failed_charge_says_when_it_will_be_retried(post: Post) -> None:
    worker = post.worker()
    _signup(post, token="tok_chargeDeclined")
    post.deliver(worker)
    [failed] = post.smtp.delivered
    assert failed.subject == "Your payment of USD 19.00 did not go through"
    assert "We will try again on 2026-01-04." in failed.text
    assert "card_declined" in failed.text


def test_without_a_winback_coupon_a_cancellation_sends_no_offer(post: Post) -> None:
    worker: MailWorker = post.worker(winback_coupon=None)
    _, sub = _signup(post)
    post.ledger.subscriptions.cancel(sub.id, when="now")
    post.at(utc(2026, 3, 1))
    post.deliver(worker)
    assert [d.subject for d in post.smtp.delivered] == [
        "Receipt for your payment of USD 19.00", "Your subscription to Basic monthly has ended"]


def test_a_worker_started_on_a_ledger_with_history_begins_at_its_head(post: Post) -> None:
    _signup(post)
    worker = post.worker()
    post.deliver(worker)
    assert post.smtp.delivered == []


def _renamed_as_the_log_may_hold(post: Post, who: Any, name: str) -> None:
    """Record ``name`` as a ledger that let line breaks into names did: the log keeps that
    event for good, whatever the rule is now."""
    subscriber = post.ledger.subscribers.get(who.id)
    subscriber.trigger_event(Subscriber.SubscriberDetailsChanged, timestamp=post.clock(),
                             effective_at=post.clock(), changes={"name": name})
    post.ledger.subscribers.store.commit(subscriber, result=None, idempotency=None)


def test_a_stored_name_with_a_line_break_makes_no_header_and_the_receipt_still_goes(
        post: Post) -> None:
    worker = post.worker()
    eve, _ = _signup(post, email="eve@example.com")
    _renamed_as_the_log_may_hold(post, eve, "Eve\r\nBcc: x@evil.example")
    post.deliver(worker)
    [receipt] = post.smtp.delivered
    assert receipt.recipients == ["eve@example.com"]
    assert receipt.message.get_all("Bcc") is None
    [to] = receipt.message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Eve Bcc: x@evil.example", "eve@example.com")
    assert "Hello Eve Bcc: x@evil.example," in receipt.text
    assert [m.status for m in outbox.outbox(worker.store)] == ["sent"]


def test_a_message_that_cannot_be_written_is_failed_with_why_and_the_next_ones_go(
        post: Post, caplog: Any) -> None:
    worker = post.worker()
    # The ledger's e-mail rule lets a comma through; an e-mail's To cannot carry it.
    ada, _ = _signup(post, email="ada,lovelace@example.com")
    _signup(post, email="bob@example.com")
    with caplog.at_level(logging.INFO, logger="subledger.messages.worker"):
        post.deliver(worker)
    assert [d.recipients for d in post.smtp.delivered] == [["bob@example.com"]]
    failed = {m.subscriber_id: m for m in outbox.outbox(worker.store, status="failed")}
    assert list(failed) == [str(ada.id)]
    why = failed[str(ada.id)].last_error or ""
    assert why.startswith("could not be written: ") and "ada,lovelace@example.com" in why
    assert failed[str(ada.id)].attempts == 0  # never handed to the server
    assert any(failed[str(ada.id)].message_id in r.getMessage() and why in r.getMessage()
               for r in caplog.records)
    post.clock.advance(days=1)
    post.deliver(worker)
    assert len(post.smtp.delivered) == 1
    assert outbox.counts(worker.store)["failed"] == 1


def test_a_payment_denied_after_it_was_taken_says_when_it_will_be_tried_again(post: Post) -> None:
    worker = post.worker()
    _who, sub = _signup(post)
    [(_charge_id, charge)] = sub.charges.items()
    post.ledger.gateway_notices.record("sandbox", GatewayNotice(
        kind=CHARGE_DENIED, occurred_at=post.ledger.clock(), ref=charge["gateway_ref"],
        charge_refs=(charge["gateway_ref"],), amount=1900, currency="USD", reason="denied"))
    post.deliver(worker)
    denied = [m for m in post.smtp.delivered if "did not go through" in m.subject]
    assert [m.subject for m in denied] == ["Your payment of USD 19.00 did not go through"]
    assert "(denied)." in denied[0].text
    assert "We will try again on 2026-01-04." in denied[0].text
