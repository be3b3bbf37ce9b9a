"""The public bodies of the ledger's records, each defined once.

A body is a table of fields: each field's name, its JSON Schema, its Python type and how the
record gives its value. From that one table come the body itself (what ``GET
/subscriptions/{id}`` answers and the ``subscriptions`` topic carries), its JSON Schema, and
the HTTP response model the OpenAPI document shows, so the three cannot drift apart. Bodies
are pure functions of a record, so a stored idempotent answer and a fresh one are rendered
the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

from pydantic import BaseModel, WithJsonSchema, create_model

from subledger.domain.coupons import Coupon
from subledger.domain.lifecycle import STATUSES
from subledger.domain.periods import Interval
from subledger.domain.plans import Plan
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription import Subscription
from subledger.domain.time import isoformat

from . import schema_types as t
from .envelope import jsonable


@dataclass(frozen=True)
class Field:
    name: str
    schema: dict[str, Any]
    python: Any
    """The value's type in the HTTP response model."""
    value: Callable[[Any], Any]
    """The field's JSON value, from the record."""


@dataclass(frozen=True)
class Body:
    name: str
    fields: tuple[Field, ...]

    def of(self, record: Any) -> dict[str, Any]:
        return {field.name: field.value(record) for field in self.fields}

    def properties(self) -> dict[str, dict[str, Any]]:
        return {field.name: field.schema for field in self.fields}

    def model(self) -> type[BaseModel]:
        """The HTTP response model (documentation of what the route answers), showing each
        field's own JSON Schema: a client generated from the OpenAPI document then reads ids
        as UUIDs and times as instants, as the path parameters and the topics have them. One
        class per body, so a body nested in another is the same schema in the document."""
        if self.name not in _MODELS:
            definitions: dict[str, Any] = {f.name: (_published(f), ...) for f in self.fields}
            _MODELS[self.name] = create_model(self.name, **definitions)
        return _MODELS[self.name]


_MODELS: dict[str, type[BaseModel]] = {}


def _published(field: Field) -> Any:
    """The field's type in the response model. A field whose value is a model of its own
    (a plan's price versions, a payment method) shows that model: its schema in the table
    says less (an array, an object)."""
    if _has_model(field.python):
        return field.python
    return Annotated[field.python, WithJsonSchema(field.schema)]


def _has_model(python: Any) -> bool:
    if isinstance(python, type) and issubclass(python, BaseModel):
        return True
    return any(_has_model(arg) for arg in get_args(python))


def _time(value: Any) -> str | None:
    return None if value is None else isoformat(value)


def _attr(name: str, convert: Callable[[Any], Any] = lambda v: v) -> Callable[[Any], Any]:
    return lambda record: convert(getattr(record, name))


def _listed(records: dict[str, dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [{key: record_id, **jsonable(record)} for record_id, record in sorted(records.items())]


_MAYBE_TIME = t.nullable(t.TIME)
_MAYBE_TEXT = t.nullable(t.STRING)

SUBSCRIPTION = Body("SubscriptionOut", (
    Field("subscription_id", t.UUID, str, _attr("id", str)),
    Field("subscriber_id", t.UUID, str, _attr("subscriber_id", str)),
    Field("status", t.one_of(list(STATUSES)), Literal[STATUSES], _attr("status")),  # type: ignore[valid-type]
    Field("plan_id", t.STRING, str, _attr("plan_id")),
    Field("plan_version", t.at_least(1), int, _attr("plan_version")),
    Field("tier", t.STRING, str, _attr("tier")),
    Field("amount", t.INTEGER, int, _attr("amount")),
    Field("currency", t.CURRENCY, str, _attr("currency")),
    Field("interval", t.one_of([i.value for i in Interval]), str, _attr("interval", lambda i: i.value)),
    Field("quantity", t.at_least(1), int, _attr("quantity")),
    Field("current_period_start", t.TIME, str, _attr("current_period_start", isoformat)),
    Field("current_period_end", t.TIME, str, _attr("current_period_end", isoformat)),
    Field("trial_end", _MAYBE_TIME, str | None, _attr("trial_end", _time)),
    Field("billing_anchor", _MAYBE_TIME, str | None, _attr("billing_anchor", _time)),
    Field("started_at", t.TIME, str, _attr("started_at", isoformat)),
    Field("cancel_at", _MAYBE_TIME, str | None, _attr("cancel_at", _time)),
    Field("canceled_at", _MAYBE_TIME, str | None, _attr("canceled_at", _time)),
    Field("cancel_reason", _MAYBE_TEXT, str | None, _attr("cancel_reason")),
    Field("paused_at", _MAYBE_TIME, str | None, _attr("paused_at", _time)),
    Field("scheduled_change", t.nullable(t.OBJECT), dict[str, Any] | None,
          _attr("scheduled_change", jsonable)),
    Field("coupon", t.nullable(t.OBJECT), dict[str, Any] | None, _attr("coupon", jsonable)),
    Field("credit_balance", t.INTEGER, int, _attr("credit_balance")),
    Field("pending_refunds", {"type": "array", "items": {"type": "object", "required": ["refund_id"]}},
          list[dict[str, Any]], lambda s: _listed(s.pending_refunds, "refund_id")),
    Field("open_invoices", {"type": "array", "items": {"type": "object", "required": ["invoice_id"]}},
          list[dict[str, Any]], lambda s: _listed(s.open_invoices, "invoice_id")),
))
"""A subscription as ``GET /subscriptions/{id}`` answers it and the ``subscriptions``
topic carries it."""


def subscription_body(sub: Subscription) -> dict[str, Any]:
    return SUBSCRIPTION.of(sub)


class PriceVersionOut(BaseModel):
    version: int
    amount: int
    effective_at: str


class PaymentMethodOut(BaseModel):
    gateway: str
    token: str


def _versions(plan: Plan) -> list[dict[str, Any]]:
    return [{"version": v["version"], "amount": v["amount"], "effective_at": isoformat(v["effective_at"])}
            for v in plan.versions]


PLAN = Body("PlanOut", (
    Field("plan_id", t.STRING, str, _attr("plan_id")),
    Field("name", t.STRING, str, _attr("name")),
    Field("tier", t.STRING, str, _attr("tier")),
    Field("currency", t.CURRENCY, str, _attr("currency")),
    Field("amount", t.INTEGER, int, _attr("amount")),
    Field("interval", t.one_of([i.value for i in Interval]), str, _attr("interval", lambda i: i.value)),
    Field("trial_days", t.INTEGER, int, _attr("trial_days")),
    Field("version", t.at_least(1), int, _attr("latest_version")),
    Field("versions", {"type": "array"}, list[PriceVersionOut], _versions),
    Field("archived_at", _MAYBE_TIME, str | None, _attr("archived_at", _time)),
))
"""A plan; ``archived_at`` is null while it is on sale."""

COUPON = Body("CouponOut", (
    Field("coupon_id", t.STRING, str, _attr("coupon_id")),
    Field("name", _MAYBE_TEXT, str | None, _attr("name")),
    Field("percent_off", t.nullable(t.STRING), str | None,
          _attr("percent_off", lambda p: None if p is None else str(p))),
    Field("amount_off", t.nullable(t.INTEGER), int | None, _attr("amount_off")),
    Field("currency", t.nullable(t.CURRENCY), str | None, _attr("currency")),
    Field("duration", t.one_of(["once", "repeating", "forever"]), str, _attr("duration")),
    Field("duration_in_months", t.nullable(t.INTEGER), int | None, _attr("duration_in_months")),
    Field("archived_at", _MAYBE_TIME, str | None, _attr("archived_at", _time)),
))
"""A coupon; ``archived_at`` is null while it can be applied."""

SUBSCRIBER = Body("SubscriberOut", (
    Field("subscriber_id", t.UUID, str, lambda r: str(r[0].id)),
    Field("email", _MAYBE_TEXT, str | None, lambda r: r[0].email),
    Field("name", _MAYBE_TEXT, str | None, lambda r: r[0].name),
    Field("external_ref", _MAYBE_TEXT, str | None, lambda r: r[0].external_ref),
    Field("payment_method", t.nullable(t.OBJECT), PaymentMethodOut | None, lambda r: r[0].payment_method),
    Field("registered_at", t.TIME, str, lambda r: isoformat(r[0].registered_at)),
    Field("subscription_ids", {"type": "array", "items": t.UUID}, list[str],
          lambda r: [str(i) for i in r[1]]),
    Field("marketing_consent", t.BOOLEAN, bool, lambda r: r[0].marketing_consent),
    Field("forgotten_at", _MAYBE_TIME, str | None,
          lambda r: None if r[0].forgotten_at is None else isoformat(r[0].forgotten_at)),
))
"""A subscriber with the ids of their subscriptions (the record is the pair); once
forgotten, ``email``, ``name``, ``external_ref`` and ``payment_method`` are null."""

DETAILS = Body("SubscriberDetails", (
    Field("subscriber_id", t.UUID, str, lambda r: str(r.id)),
    Field("email", t.STRING, str, lambda r: r.email),
    Field("name", t.STRING, str, lambda r: r.name),
    Field("external_ref", _MAYBE_TEXT, str | None, lambda r: r.external_ref),
    Field("payment_method", t.nullable({
        "type": "object", "required": ["gateway", "token"], "additionalProperties": False,
        "properties": {"gateway": t.STRING, "token": t.STRING}}),
        PaymentMethodOut | None, lambda r: r.payment_method),
    Field("registered_at", t.TIME, str, lambda r: isoformat(r.registered_at)),
))
"""A subscriber's personal details as the ``subscribers`` topic carries them."""


def details_body(subscriber: Subscriber) -> dict[str, Any] | None:
    """The subscriber's details; None once forgotten (the topic's tombstone)."""
    if subscriber.forgotten_at is not None or subscriber.email is None:  # email None: key shredded
        return None
    return DETAILS.of(subscriber)


FORGOTTEN = Body("SubscriberForgottenOut", (
    Field("subscriber_id", t.UUID, str, lambda r: str(r[0].id)),
    Field("forgotten_at", t.TIME, str, lambda r: isoformat(r[0].forgotten_at)),
    Field("encrypted", {"type": "boolean"}, bool, lambda r: r[1]),
    Field("detail", t.STRING, str, lambda r: FORGOTTEN_DETAIL[r[1]]),
))
"""The answer of ``POST /subscribers/{id}/forget``: ``encrypted`` says whether the log holds
personal data encrypted (``SUBLEDGER_CIPHER_KEY`` set), and so whether forgetting erased it."""

FORGOTTEN_DETAIL = {
    True: ("The subscriber's data key was destroyed: the personal fields the log holds"
           " encrypted now read as null everywhere (API, exports, webhooks, Kafka), their"
           " lookup rows were deleted, their details were nulled in stored answers, and the"
           " subscribers topic gets a tombstone. Amounts, ids, dates and every report are"
           " unchanged. Events written before SUBLEDGER_CIPHER_KEY was set hold their personal"
           " fields in clear, and forgetting cannot erase those."),
    False: ("SUBLEDGER_CIPHER_KEY is not set: the log holds this subscriber's personal fields in"
            " clear and forgetting cannot erase them from it. SubscriberForgotten was recorded,"
            " their lookup rows were deleted, their details were nulled in stored answers and"
            " the subscribers topic gets a tombstone."),
}

CHARGE = Body("ChargeOut", (
    Field("charge_id", t.STRING, str, lambda r: r[1]),
    Field("subscription_id", t.UUID, str, lambda r: str(r[0].id)),
    Field("invoice_id", _MAYBE_TEXT, str | None, lambda r: r[0].charges[r[1]]["invoice_id"]),
    Field("amount", t.INTEGER, int, lambda r: r[0].charges[r[1]]["amount"]),
    Field("currency", t.CURRENCY, str, lambda r: r[0].charges[r[1]]["currency"]),
    Field("gateway", _MAYBE_TEXT, str | None, lambda r: r[0].charges[r[1]]["gateway"]),
    Field("gateway_ref", _MAYBE_TEXT, str | None, lambda r: r[0].charges[r[1]]["gateway_ref"]),
    Field("refunded", t.INTEGER, int, lambda r: r[0].charges[r[1]]["refunded"]),
    Field("refundable", t.INTEGER, int, lambda r: r[0].refundable(r[1])),
    Field("reversed", t.INTEGER, int, lambda r: r[0].charges[r[1]].get("reversed", 0)),
))
"""A succeeded charge of a subscription (the record is the subscription and the charge id)."""


def plan_body(plan: Plan) -> dict[str, Any]:
    return PLAN.of(plan)


def coupon_body(coupon: Coupon) -> dict[str, Any]:
    return COUPON.of(coupon)


def subscriber_body(subscriber: Subscriber, subscription_ids: Sequence[UUID]) -> dict[str, Any]:
    return SUBSCRIBER.of((subscriber, subscription_ids))


def forgotten_body(subscriber: Subscriber, *, encrypted: bool) -> dict[str, Any]:
    return FORGOTTEN.of((subscriber, encrypted))


def charge_body(sub: Subscription, charge_id: str) -> dict[str, Any]:
    return CHARGE.of((sub, charge_id))
