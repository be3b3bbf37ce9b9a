"""The derived tables of an export, folded from the same events as the ``events`` table.

Invoices, charges and refunds are one row per event and leave as they come (:meth:`drain`);
subscribers and subscriptions are one row per entity as of the last selected event, MRR
movements need each subscriber's whole history (``domain.movements``), and what an invoice
owes moves with the events about it (``replay.receivables``), so these four are made at the
end (:meth:`finish`). A table describes only what the selected events say: an
export that starts after position 1, or leaves some types out, has no row for a
subscription whose ``SubscriptionStarted`` it did not read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from subledger.contract.envelope import jsonable
from subledger.domain.lifecycle import status_after
from subledger.domain.mrr import SUBSCRIPTION_EVENT_TYPES
from subledger.domain.personal import SUBSCRIBER_DETAILS

from .book import Book, book_movements
from .event_rows import month
from .reader import LoggedEvent
from .receivables import Receivables
from .rows import cell

Row = dict[str, Any]


def _where(logged: LoggedEvent) -> Row:
    event = logged.event
    return {"subscription_id": str(event.originator_id), "subscriber_id": str(event.subscriber_id),
            "position": logged.position, "effective_at": event.effective_at,
            "recorded_at": event.timestamp, "month": month(event.effective_at)}


class Derived:
    """Feed it every event (:meth:`apply`), take the streamed rows as they come
    (:meth:`drain`), and the rest at the end (:meth:`finish`)."""

    def __init__(self, *, personal_data: bool) -> None:
        self.personal_data = personal_data
        self.subscribers: dict[str, Row] = {}
        self.subscriptions: dict[str, Row] = {}
        self.streamed: dict[str, list[Row]] = {"invoices": [], "charges": [], "refunds": []}
        self.book = Book(cash=False).initial()
        self.receivables = Receivables()

    def apply(self, logged: LoggedEvent) -> None:
        kind = type(logged.event).__name__
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(logged)
        if kind in SUBSCRIPTION_EVENT_TYPES:
            self._subscription(logged, kind)
        self.book.apply(self.book, logged)
        self.receivables.apply(self.receivables, logged)

    def drain(self) -> Iterator[tuple[str, list[Row]]]:
        for table, rows in self.streamed.items():
            if rows:
                yield table, rows
                self.streamed[table] = []

    def finish(self) -> Iterator[tuple[str, list[Row]]]:
        yield from self.drain()
        yield "subscribers", list(self.subscribers.values())
        yield "subscriptions", list(self.subscriptions.values())
        yield "mrr_movements", [
            {"subscriber_id": subscriber, "currency": m.currency, "at": m.at, "kind": m.kind,
             "amount": cell(m.amount), "mrr_before": cell(m.mrr_before), "mrr_after": cell(m.mrr_after),
             "event_ids": json.dumps(list(m.event_ids)), "month": month(m.at)}
            for subscriber, m in book_movements(self.book.timelines())]
        yield "receivables", [{**row, "month": month(row["at"])} for row in self.receivables.changes()]

    # -- subscribers ----------------------------------------------------------------------

    def _personal(self, value: Any) -> Any:
        return value if self.personal_data else None

    def _on_SubscriberRegistered(self, logged: LoggedEvent) -> None:  # noqa: N802
        event = logged.event
        self.subscribers[str(event.originator_id)] = {
            "subscriber_id": str(event.originator_id), "registered_at": event.effective_at,
            "position": logged.position, "has_payment_method": False, "gateway": None,
            **{name: self._personal(getattr(event, name)) for name in SUBSCRIBER_DETAILS},
            "month": month(event.effective_at)}

    def _on_SubscriberDetailsChanged(self, logged: LoggedEvent) -> None:  # noqa: N802
        row = self.subscribers.get(str(logged.event.originator_id))
        if row is not None:
            for name, value in (logged.event.changes or {}).items():  # null once forgotten
                row[name] = self._personal(value)

    def _on_SubscriberForgotten(self, logged: LoggedEvent) -> None:  # noqa: N802
        row = self.subscribers.get(str(logged.event.originator_id))
        if row is not None:  # what a log kept in clear (no cipher key) is not exported either
            row.update(dict.fromkeys(SUBSCRIBER_DETAILS))

    def _on_PaymentMethodSet(self, logged: LoggedEvent) -> None:  # noqa: N802
        row = self.subscribers.get(str(logged.event.originator_id))
        if row is not None:
            row["has_payment_method"], row["gateway"] = True, logged.event.gateway

    # -- subscriptions --------------------------------------------------------------------

    def _subscription(self, logged: LoggedEvent, kind: str) -> None:
        event = logged.event
        key = str(event.originator_id)
        if kind == "SubscriptionStarted":
            self.subscriptions[key] = {
                "subscription_id": key, "subscriber_id": str(event.subscriber_id), "status": "",
                "started_at": event.effective_at, "trial_end": event.trial_end, "canceled_at": None,
                "cancel_reason": None, "month": month(event.effective_at)}
        row = self.subscriptions.get(key)
        if row is None:
            return
        if kind in ("SubscriptionStarted", "SubscriptionChanged"):
            row.update({name: getattr(event, name) for name in _TERMS})
        elif kind == "SubscriptionCanceled":
            row["canceled_at"], row["cancel_reason"] = event.effective_at, event.reason
        row["status"] = status_after(kind, vars(event), row["status"])
        row["last_effective_at"], row["position"] = event.effective_at, logged.position

    # -- invoices, charges, refunds -------------------------------------------------------

    def _on_InvoiceIssued(self, logged: LoggedEvent) -> None:  # noqa: N802
        e = logged.event
        self.streamed["invoices"].append({
            "invoice_id": e.invoice_id, **_where(logged), "reason": e.reason, "currency": e.currency,
            "total": e.total, "credit_applied": e.credit_applied, "credit_added": e.credit_added,
            "amount_due": e.amount_due, "lines": json.dumps(jsonable(e.lines))})

    def _charge(self, logged: LoggedEvent, outcome: str) -> None:
        e = logged.event
        self.streamed["charges"].append({
            "charge_id": e.charge_id, "invoice_id": e.invoice_id, **_where(logged), "outcome": outcome,
            "amount": e.amount, "currency": e.currency, "gateway": e.gateway,
            "attempt": getattr(e, "attempt", None),
            "decline_code": getattr(e, "decline_code", None) or getattr(e, "reason", None)})

    def _on_ChargeSucceeded(self, logged: LoggedEvent) -> None:  # noqa: N802
        self._charge(logged, "succeeded")

    def _on_ChargeFailed(self, logged: LoggedEvent) -> None:  # noqa: N802
        self._charge(logged, "failed")

    def _on_ChargeReversed(self, logged: LoggedEvent) -> None:  # noqa: N802
        # A charge succeeded, then denied at the gateway: a row of its own, the money gone.
        self._charge(logged, "reversed")

    def _refund(self, logged: LoggedEvent, outcome: str) -> None:
        e = logged.event
        self.streamed["refunds"].append({
            "refund_id": e.refund_id, "charge_id": e.charge_id, **_where(logged), "outcome": outcome,
            "amount": e.amount, "currency": e.currency, "reason": self._personal(getattr(e, "reason", None)),
            "failure_code": getattr(e, "failure_code", None)})

    def _on_RefundIssued(self, logged: LoggedEvent) -> None:  # noqa: N802
        self._refund(logged, "issued")

    def _on_RefundFailed(self, logged: LoggedEvent) -> None:  # noqa: N802
        self._refund(logged, "failed")

    def _on_RefundReversed(self, logged: LoggedEvent) -> None:  # noqa: N802
        # A refund issued, then failed at the gateway: a row of its own, the money back.
        self._refund(logged, "reversed")


_TERMS = ("plan_id", "plan_version", "tier", "currency", "amount", "interval", "quantity")
