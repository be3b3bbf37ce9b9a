"""A subscriber's life told by the e-mails they receive, end to end: commands over real HTTP,
the billing clock, the read models and the mail worker on a clock the test moves, and a real
SMTP server (aiosmtpd) that keeps what it was sent. A trial ends, the first charge fails,
dunning retries it and the subscription recovers, the subscriber cancels, and thirty days
later the win-back offer arrives; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pypdf
import pytest
from support.factories import utc
from support.ledger import FakeClock
from support.live import LiveServer
from support.post import Post
from support.smtp import SmtpServer

from subledger.bootstrap import build_api, build_projector
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.messages import outbox


@pytest.fixture
def life(settings: Settings, ledger_on: Callable[..., Ledger],
         smtp_server: SmtpServer) -> Iterator[tuple[Post, httpx.Client]]:
    clock = FakeClock(utc(2026, 1, 1))
    ledger = ledger_on(clock=clock)
    projector = build_projector(settings, ledger)
    post = Post(ledger, clock, projector, smtp_server, [], settings)
    with LiveServer(build_api(settings, ledger=ledger, projector=projector)) as server, \
            httpx.Client(base_url=server.url, timeout=30) as http:
        yield post, http
    for worker in post.workers:
        worker.close()
    projector.close()
    projector.store.close()


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_a_trial_a_failed_charge_its_recovery_a_cancellation_and_the_win_back_offer(
        life: tuple[Post, httpx.Client]) -> None:
    post, http = life
    worker = post.worker(renewal_days=7, winback_coupon="COMEBACK", winback_days=30)

    def day(instant: Any) -> list[str]:
        """Move the clock, run the billing clock up to it, deliver; the new subjects."""
        before = len(post.smtp.delivered)
        post.clock.set(instant)
        _ok(http.post("/billing/run", json={"until": instant.isoformat()}))
        post.deliver(worker)
        return [m.subject for m in post.smtp.delivered[before:]]

    _ok(http.post("/plans", json={"plan_id": "basic-m", "name": "Basic monthly", "tier": "basic",
                                  "currency": "USD", "amount": 1900, "interval": "month",
                                  "trial_days": 14}), 201)
    _ok(http.post("/coupons", json={"coupon_id": "COMEBACK", "percent_off": 20,
                                    "duration": "once"}), 201)
    ada = _ok(http.post("/subscribers", json={"email": "ada@example.com",
                                              "name": "Ada Lovelace"}), 201)["subscriber_id"]
    _ok(http.put(f"/subscribers/{ada}/payment-method",
                 json={"gateway": "sandbox", "token": "tok_fail_first"}))
    sub = _ok(http.post(f"/subscribers/{ada}/subscriptions", json={"plan_id": "basic-m"}), 201)
    assert (sub["status"], sub["trial_end"]) == ("trialing", "2026-01-15T00:00:00Z")

    assert day(utc(2026, 1, 11)) == []
    assert day(utc(2026, 1, 12)) == ["Your trial of Basic monthly ends on 2026-01-15"]
    assert day(utc(2026, 1, 15)) == ["Your payment of USD 19.00 did not go through"]
    assert day(utc(2026, 1, 17)) == []
    assert day(utc(2026, 1, 18)) == ["Receipt for your payment of USD 19.00"]
    assert _ok(http.get(f"/subscriptions/{sub['subscription_id']}"))["status"] == "active"

    post.clock.set(utc(2026, 1, 25))
    _ok(http.post(f"/subscriptions/{sub['subscription_id']}/cancel",
                  json={"when": "now", "reason": "too pricey"}))
    post.deliver(worker)
    assert [m.subject for m in post.smtp.delivered[3:]] == [
        "Your subscription to Basic monthly has ended"]
    assert day(utc(2026, 2, 8)) == []  # no renewal reminder: there is no renewal
    assert day(utc(2026, 2, 23, 23, 59)) == []
    assert day(utc(2026, 2, 24)) == ["Come back to Basic monthly: use coupon COMEBACK"]
    assert day(utc(2026, 4, 1)) == []

    trial, failed, receipt, canceled, win_back = post.smtp.delivered
    for message in post.smtp.delivered:
        assert message.recipients == ["ada@example.com"]
        assert str(message.message["To"]) == "Ada Lovelace <ada@example.com>"
        assert message.mail_from == "billing@shop.test"
        assert "Hello Ada Lovelace," in message.text
    assert "After that, your subscription costs USD 19.00 per month" in trial.text
    assert "Your first invoice, on 2026-01-15, will charge USD 19.00." in trial.text
    assert "attempt 1: card_declined" in failed.text
    assert "We will try again on 2026-01-18." in failed.text
    assert "Paid on: 2026-01-18" in receipt.text
    assert "Service period: 2026-01-15 – 2026-02-15" in receipt.text
    [(filename, pdf)] = receipt.attachments()
    invoice = _ok(http.get(f"/subscribers/{ada}/invoices"))["items"][0]
    assert filename == f"{invoice['number']}.pdf"
    assert f"Invoice: {invoice['number']}" in receipt.text
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for line in (invoice["number"], "Ada Lovelace", "ada@example.com", "Paid", "USD 19.00",
                 "2026-01-15 – 2026-02-15"):
        assert line in text, line
    assert "ended on 2026-01-25, as you asked" in canceled.text
    assert "Your subscription to Basic monthly ended on 2026-01-25." in win_back.text
    assert "use the coupon COMEBACK" in win_back.text

    kinds = [(m.kind, m.status) for m in outbox.outbox(worker.store)]
    assert kinds == [("trial_ending", "sent"), ("payment_failed", "sent"), ("receipt", "sent"),
                     ("subscription_canceled", "sent"), ("win_back", "sent")]
    assert outbox.counts(worker.store) == {"pending": 0, "sending": 0, "sent": 5, "failed": 0,
                                           "skipped": 0, "waiting": 0}
