"""Helpers of the billing tests: payers for the pure aggregate, subscribers with a sandbox
card, and readers of what the billing clock recorded.

Nothing here computes an expected amount: the tests write their amounts by hand.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from factories import CATALOG_AT, add_subscriber, log_envelopes

from subledger.bootstrap import ledger_env
from subledger.commands.gateways import ChargeRequest, ChargeResult, RefundRequest, RefundResult
from subledger.commands.gateways.sandbox import SandboxGateway
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.domain.billing_schedule import ChargeIntent, ChargeOutcome
from subledger.domain.subscription import Subscription

# ---------------------------------------------------------------------------
# Payers for Subscription.advance_to(pay=...): the sandbox cards' rules, without a gateway.
# ---------------------------------------------------------------------------


def pays(intent: ChargeIntent) -> ChargeOutcome:
    """A card that always pays (tok_visa)."""
    return ChargeOutcome(True, "sandbox", f"ref-{intent.charge_id}")


def declines(intent: ChargeIntent) -> ChargeOutcome:
    """A card that never pays (tok_chargeDeclined)."""
    return ChargeOutcome(False, "sandbox", f"ref-{intent.charge_id}", "card_declined")


def fails_first(intent: ChargeIntent) -> ChargeOutcome:
    """A card that fails the first attempt at each invoice (tok_fail_first)."""
    if intent.attempt == 1:
        return declines(intent)
    return pays(intent)


PAYERS = {"pays": pays, "declines": declines, "fails_first": fails_first}


def event_record(event: Subscription.Event) -> tuple[str, datetime, dict[str, Any]]:
    """(type, effective_at, data) of a domain event: everything but its recorded_at."""
    data = {k: v for k, v in vars(event).items() if k not in ("timestamp", "effective_at")}
    return type(event).__name__, event.effective_at, data


# ---------------------------------------------------------------------------
# The write side (these take the `Ledger` under test).
# ---------------------------------------------------------------------------


def paying_subscriber(ledger: Any, email: str, token: str | None = "tok_visa",
                      at: datetime = CATALOG_AT) -> Any:
    """A subscriber registered at ``at`` with the sandbox card ``token`` (None: no card)."""
    subscriber = add_subscriber(ledger, email, at=at)
    if token is not None:
        subscriber = ledger.subscribers.set_payment_method(subscriber.id, gateway="sandbox", token=token,
                                               effective_at=at)
    return subscriber


def events_of(ledger: Any, aggregate_id: UUID, *types: str) -> list[dict[str, Any]]:
    """The envelopes of one aggregate (optionally only some types), in log order."""
    envelopes = log_envelopes(ledger, aggregate_id)
    if types:
        envelopes = [e for e in envelopes if e["type"] in types]
    return envelopes


def invoices_of(ledger: Any, aggregate_id: UUID) -> list[dict[str, Any]]:
    """The InvoiceIssued envelopes of a subscription, in order."""
    return events_of(ledger, aggregate_id, "InvoiceIssued")


def line_amounts(invoice: dict[str, Any]) -> list[tuple[str, int]]:
    """(kind, amount) of each line of an InvoiceIssued envelope."""
    return [(line["kind"], line["amount"]) for line in invoice["data"]["lines"]]


def timeline(ledger: Any, aggregate_id: UUID) -> list[tuple[str, str]]:
    """(type, effective_at) of each event of one aggregate."""
    return [(e["type"], e["effective_at"]) for e in log_envelopes(ledger, aggregate_id)]


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_GATEWAY_REF = re.compile(r"sb_(ch|re)_[0-9a-f]{24}")


def comparable_log(ledger: Any) -> list[tuple[str, str, str, Any]]:
    """The whole log as (aggregate, type, effective_at, data), ignoring recorded_at, with
    every id and gateway reference replaced by its order of first appearance: two stores
    that recorded the same history with other random ids compare equal."""
    names: dict[str, str] = {}

    def name(match: re.Match[str]) -> str:
        return names.setdefault(match.group(0), f"<id{len(names)}>")

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return _GATEWAY_REF.sub(name, _UUID.sub(name, value))
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    return [
        (scrub(e["aggregate_id"]), e["type"], e["effective_at"], scrub(e["data"]))
        for e in log_envelopes(ledger)
    ]


def ids_in_log(ledger: Any, event_type: str, field: str) -> list[str]:
    """The value of ``data[field]`` of every event of ``event_type`` in the log."""
    return [e["data"][field] for e in log_envelopes(ledger) if e["type"] == event_type]


# ---------------------------------------------------------------------------
# A gateway that remembers the money it moved.
# ---------------------------------------------------------------------------


class RecordingGateway(SandboxGateway):
    """The sandbox gateway, remembering each charge and refund it made by idempotency key,
    as a provider does: a second request with the same key moves no more money."""

    def __init__(self) -> None:
        self.charged: dict[str, int] = {}
        self.refunded: dict[str, int] = {}

    def charge(self, request: ChargeRequest) -> ChargeResult:
        result = super().charge(request)
        if result.succeeded:
            self.charged.setdefault(request.idempotency_key, request.amount)
        return result

    def refund(self, request: RefundRequest) -> RefundResult:
        result = super().refund(request)
        if result.succeeded:
            self.refunded.setdefault(request.idempotency_key, request.amount)
        return result


def recording_ledger(settings: Settings, gateway: RecordingGateway) -> Ledger:
    """A ledger on the store of ``settings`` whose ``sandbox`` gateway is ``gateway``."""
    return Ledger(ledger_env(settings), gateways={"sandbox": gateway})
