"""The tables an export writes, column by column: the one definition the writers, the Arrow
schemas and the documentation (``docs/analysts.md``, checked by a test) follow.

Money: amounts the ledger records are integers in the currency's minor unit (``int64``: what
the log holds, exactly, and what SQL adds up exactly). MRR figures are derived and exact
fractions inside the ledger (a yearly price is a twelfth a month); they leave it as
``decimal128(38, 10)`` in minor units, rounded half-even at the tenth decimal place: a sum of
a million of them is off by at most 0.00005 of a minor unit, so rounded to two places (as the
reports show them) it is the ledger's figure, unless the exact sum lies that close to a
half. No column is a float.

Every table has a ``month`` (``YYYY-MM``, UTC) of its main instant: Parquet files are
partitioned by it (``month=2026-01/``: readers take it from the path, as DuckDB's and
pyarrow's hive partitioning do); CSV and JSON Lines carry it as a column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .arrow import pyarrow

DECIMAL = (38, 10)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    """int64, int32, bool, string, timestamp (UTC, microseconds), decimal, json (text)."""
    description: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    month_of: str
    """The column whose UTC month partitions the table."""
    columns: tuple[Column, ...]
    description: str

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self, *, with_month: bool) -> Any:
        pa = pyarrow()
        fields = [pa.field(c.name, arrow_type(c.kind)) for c in self.columns]
        if with_month:
            fields.append(pa.field("month", pa.string()))
        return pa.schema(fields)


def arrow_type(kind: str) -> Any:
    pa = pyarrow()
    return {"int64": pa.int64(), "int32": pa.int32(), "bool": pa.bool_(), "string": pa.string(),
            "json": pa.string(), "timestamp": pa.timestamp("us", tz="UTC"),
            "decimal": pa.decimal128(*DECIMAL)}[kind]


def _c(name: str, kind: str, description: str) -> Column:
    return Column(name, kind, description)


_WHERE = (_c("subscription_id", "string", "the subscription"),
          _c("subscriber_id", "string", "its subscriber"),
          _c("position", "int64", "the event's position in the log"),
          _c("effective_at", "timestamp", "when it happened in the business"),
          _c("recorded_at", "timestamp", "when the ledger recorded it"))

EVENTS = TableSpec("events", "effective_at", (
    _c("position", "int64", "place in the log's global order"),
    _c("event_id", "string", "stable id of the event"),
    _c("type", "string", "event type (docs/events.md)"),
    _c("schema_version", "int32", "version of the type's fields"),
    _c("subscriber_id", "string", "the subscriber it is about (null for catalog events)"),
    _c("aggregate_id", "string", "the plan, coupon, subscriber, subscription or period"),
    _c("aggregate_version", "int64", "its place in its aggregate's stream"),
    _c("recorded_at", "timestamp", "when the ledger recorded it"),
    _c("effective_at", "timestamp", "when it happened in the business"),
    _c("amount", "int64", "minor units: an invoice's total, else the event's amount (a price, charge or refund), if it has one"),
    _c("currency", "string", "ISO 4217 code of amount, if the event has one"),
    _c("data", "json", "the envelope's data, as JSON text (personal fields null unless asked)"),
), "every selected event, as its envelope")

SUBSCRIBERS = TableSpec("subscribers", "registered_at", (
    _c("subscriber_id", "string", "the subscriber"),
    _c("registered_at", "timestamp", "effective time of SubscriberRegistered"),
    _c("position", "int64", "position of SubscriberRegistered"),
    _c("has_payment_method", "bool", "a payment method was set"),
    _c("gateway", "string", "the payment method's gateway"),
    _c("email", "string", "personal: null unless asked"),
    _c("name", "string", "personal: null unless asked"),
    _c("external_ref", "string", "personal: null unless asked"),
), "one row per subscriber, as of the last selected event")

SUBSCRIPTIONS = TableSpec("subscriptions", "started_at", (
    _c("subscription_id", "string", "the subscription"),
    _c("subscriber_id", "string", "its subscriber"),
    _c("plan_id", "string", "plan it is on"),
    _c("plan_version", "int64", "price version of the plan"),
    _c("tier", "string", "the plan's tier"),
    _c("currency", "string", "ISO 4217 code"),
    _c("amount", "int64", "price per billing period per seat, minor units"),
    _c("interval", "string", "month, quarter or year"),
    _c("quantity", "int64", "seats"),
    _c("status", "string", "trialing, active, past_due, paused or canceled"),
    _c("started_at", "timestamp", "effective time of SubscriptionStarted"),
    _c("trial_end", "timestamp", "end of the trial, if it had one"),
    _c("canceled_at", "timestamp", "effective time of SubscriptionCanceled"),
    _c("cancel_reason", "string", "voluntary or involuntary"),
    _c("last_effective_at", "timestamp", "effective time of its last selected event"),
    _c("position", "int64", "position of its last selected event"),
), "one row per subscription, as of the last selected event")

INVOICES = TableSpec("invoices", "effective_at", (
    _c("invoice_id", "string", "the invoice"), *_WHERE,
    _c("reason", "string", "subscription_create, trial_end, renewal, resume, proration or manual"),
    _c("currency", "string", "ISO 4217 code"),
    _c("total", "int64", "sum of the lines, minor units"),
    _c("credit_applied", "int64", "taken from the credit balance"),
    _c("credit_added", "int64", "added to the credit balance (a net credit)"),
    _c("amount_due", "int64", "left to charge"),
    _c("lines", "json", "the lines (kind, amount, period_start, period_end, description)"),
), "one row per InvoiceIssued")

CHARGES = TableSpec("charges", "effective_at", (
    _c("charge_id", "string", "the charge"),
    _c("invoice_id", "string", "the invoice it pays"), *_WHERE,
    _c("outcome", "string", "succeeded or failed"),
    _c("amount", "int64", "minor units"),
    _c("currency", "string", "ISO 4217 code"),
    _c("gateway", "string", "payment gateway (null without a payment method)"),
    _c("attempt", "int64", "1 for the first attempt, then dunning retries"),
    _c("decline_code", "string", "why a failed charge failed"),
), "one row per charge attempt (ChargeSucceeded, ChargeFailed)")

REFUNDS = TableSpec("refunds", "effective_at", (
    _c("refund_id", "string", "the refund"),
    _c("charge_id", "string", "the charge it pays back"), *_WHERE,
    _c("outcome", "string", "issued or failed"),
    _c("amount", "int64", "minor units"),
    _c("currency", "string", "ISO 4217 code"),
    _c("reason", "string", "personal (free text): null unless asked"),
    _c("failure_code", "string", "why a failed refund failed"),
), "one row per refund outcome (RefundIssued, RefundFailed)")

MRR_MOVEMENTS = TableSpec("mrr_movements", "at", (
    _c("subscriber_id", "string", "the subscriber"),
    _c("currency", "string", "ISO 4217 code (movements are per currency)"),
    _c("at", "timestamp", "when their MRR changed"),
    _c("kind", "string", "new, expansion, reactivation, contraction or churn"),
    _c("amount", "decimal", "the change, > 0, minor units"),
    _c("mrr_before", "decimal", "their MRR before, minor units"),
    _c("mrr_after", "decimal", "their MRR after, minor units"),
    _c("event_ids", "json", "the events that caused it"),
), "every MRR movement of every subscriber (docs/business-rules.md)")

TABLES = {spec.name: spec for spec in (EVENTS, SUBSCRIBERS, SUBSCRIPTIONS, INVOICES, CHARGES, REFUNDS,
                                        MRR_MOVEMENTS)}
