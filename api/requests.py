"""Request bodies. Each field's type carries the domain's rule and publishes it (see
``inputs``); rules that tie fields together are published as JSON Schema on the model, and
enforced by the domain when the command runs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from subledger.contract.envelope import MAX_POSITION
from subledger.domain.coupons import MAX_REPEATING_MONTHS
from subledger.domain.plans import MAX_TRIAL_DAYS, check_trial_days
from subledger.domain.portal_session import MAX_TTL_SECONDS, MIN_TTL_SECONDS, check_ttl
from subledger.projections.webhook_endpoints import (
    MAX_DESCRIPTION_LENGTH,
    MAX_URL_LENGTH,
    WEBHOOK_URL,
)

from .inputs import (
    Amount,
    Comment,
    Currency,
    Email,
    EventType,
    ExternalRef,
    Identifier,
    Instant,
    Name,
    Percent,
    PositiveAmount,
    Quantity,
    Reason,
    Reference,
    SignedAmount,
    Uuid,
    bounded,
)

EFFECTIVE_AT = (
    "When this happened in the business (RFC 3339 with an offset). Defaults to now; at most 5 "
    "minutes after the server's clock; never earlier than the record's last event (409)."
)
TrialDays = bounded(0, MAX_TRIAL_DAYS, check_trial_days)
Position = bounded(0, MAX_POSITION)
Months = bounded(1, MAX_REPEATING_MONTHS)
SETTLED = ("; in a three-decimal currency (BHD, JOD, KWD, LYD, OMR, TND) a multiple of 10, as"
           " card payments settle it (422 amount-not-settleable)")
GATEWAY = "a configured payment gateway (the OpenAPI document lists this server's)"


def _rules(*schemas: dict[str, Any], examples: list[dict[str, Any]] | None = None) -> ConfigDict:
    """A request model's config: unknown fields refused, and its cross-field rules."""
    extra: dict[str, Any] = {"allOf": list(schemas)} if schemas else {}
    if examples:
        extra["examples"] = examples
    return ConfigDict(extra="forbid", json_schema_extra=extra)


def _given(*fields: str) -> dict[str, Any]:
    """A rule: these fields are present and not null."""
    return {"required": list(fields),
            "properties": {f: {"not": {"type": "null"}} for f in fields}}


def _absent(*fields: str) -> dict[str, Any]:
    """A rule: these fields are absent or null."""
    return {"properties": {f: {"type": "null"} for f in fields}}


def _both(*rules: dict[str, Any]) -> dict[str, Any]:
    """Rules that hold together (their required fields and properties merged)."""
    return {"required": [f for r in rules for f in r.get("required", [])],
            "properties": {k: v for r in rules for k, v in r["properties"].items()}}


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanIn(Request):
    plan_id: Identifier = Field(description="Client-chosen id, unique (409 if taken)")
    name: Name
    tier: Identifier
    currency: Currency
    amount: Amount = Field(description="Price per billing period, minor units" + SETTLED)
    interval: Literal["month", "quarter", "year"]
    trial_days: TrialDays = Field(0, description="0 = no trial")
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{
        "plan_id": "basic-m", "name": "Basic monthly", "tier": "basic", "currency": "USD",
        "amount": 1900, "interval": "month", "trial_days": 14}])


class PriceIn(Request):
    amount: Amount = Field(description="The new price per billing period, minor units" + SETTLED)
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"amount": 2100}])


class CouponIn(Request):
    coupon_id: Identifier
    name: Name | None = None
    percent_off: Percent | None = Field(None, description="Percent off: more than 0, at most 100")
    amount_off: PositiveAmount | None = Field(None, description="Amount off, minor units of currency" + SETTLED)
    currency: Currency | None = Field(None, description="With amount_off only")
    duration: Literal["once", "repeating", "forever"]
    duration_in_months: Months | None = Field(None, description="With repeating only")
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(
        {"oneOf": [_both(_given("percent_off"), _absent("amount_off", "currency")),
                   _both(_given("amount_off", "currency"), _absent("percent_off"))]},
        {"if": {"properties": {"duration": {"const": "repeating"}}},
         "then": _given("duration_in_months"), "else": _absent("duration_in_months")},
        examples=[{"coupon_id": "WELCOME20", "percent_off": "20", "duration": "repeating",
                   "duration_in_months": 3}])


class SubscriberIn(Request):
    email: Email
    name: Name
    external_ref: ExternalRef | None = Field(None, description="Your own id of the subscriber")
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"email": "ada@example.com", "name": "Ada Lovelace",
                                     "external_ref": "crm-1815"}])


class SubscriberPatch(Request):
    email: Email = Field(None)  # type: ignore[assignment]
    name: Name = Field(None)  # type: ignore[assignment]
    external_ref: ExternalRef | None = Field(None, description="null removes it")
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(
        {"anyOf": [{"required": ["email"]}, {"required": ["name"]}, {"required": ["external_ref"]}]},
        examples=[{"name": "Ada King"}])


class PaymentMethodIn(Request):
    gateway: str = Field(description=GATEWAY)
    token: Reference = Field(description="The gateway's token of the payment method")
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"gateway": "sandbox", "token": "tok_visa"}])


class MarketingConsentIn(Request):
    consent: StrictBool = Field(
        description="true: the subscriber accepts marketing messages (the renewal reminder,"
                    " the win-back offer); false: they are not sent. Receipts and notices of"
                    " payments and of the subscription are sent either way")
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"consent": False}])


class SubscriptionIn(Request):
    plan_id: Identifier
    quantity: Quantity = Field(1, description="Seats")
    trial_days: TrialDays | None = Field(None, description="Overrides the plan's trial")
    coupon: Identifier | None = None
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"plan_id": "basic-m", "quantity": 2}])


class ChangeIn(Request):
    plan_id: Identifier | None = None
    quantity: Quantity | None = None
    when: Literal["now", "period_end"] = "now"
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules({"anyOf": [_given("plan_id"), _given("quantity")]},
                          examples=[{"plan_id": "pro-m", "when": "now"}])


class CancelIn(Request):
    when: Literal["now", "period_end", "at"] = "now"
    at: Instant | None = Field(None, description="With when 'at' only; not before effective_at")
    reason: Comment | None = Field(None, description="Free text, kept as the event's comment")
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(
        {"if": {"required": ["when"], "properties": {"when": {"const": "at"}}},
         "then": _given("at"), "else": _absent("at")},
        examples=[{"when": "period_end", "reason": "too pricey"}])


class EffectiveIn(Request):
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)


class PortalSessionIn(Request):
    ttl_seconds: bounded(MIN_TTL_SECONDS, MAX_TTL_SECONDS, check_ttl) | None = Field(  # type: ignore[valid-type]
        None, description="How long the link works, in seconds; default SUBLEDGER_PORTAL_TTL")


class CouponApplyIn(Request):
    coupon: Identifier
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"coupon": "WELCOME20"}])


class ManualChargeIn(Request):
    amount: PositiveAmount = Field(description="Minor units, in the subscription's currency" + SETTLED)
    currency: Currency
    gateway: str = Field(description=GATEWAY)
    gateway_ref: Reference = Field(description="The gateway's id of the payment")
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"amount": 4900, "currency": "USD", "gateway": "sandbox",
                                     "gateway_ref": "pi_3Nx42"}])


class InvoicePaymentIn(Request):
    gateway: str = Field(description=GATEWAY)
    gateway_ref: Reference = Field(description="The gateway's id of the payment")
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"gateway": "sandbox", "gateway_ref": "pi_3Nx43"}])


class RefundIn(Request):
    amount: PositiveAmount = Field(description="Minor units, at most what is left of the charge" + SETTLED)
    reason: Comment | None = None
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"amount": 1000, "reason": "requested_by_customer"}])


class CorrectionIn(Request):
    reason: Comment | None = Field(None, description="Why, for the record (free text)")
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"reason": "billed in error"}])


class CreditLineIn(Request):
    index: bounded(0, 999) = Field(description="The invoice line's place in its `lines`, from 0")  # type: ignore[valid-type]
    amount: PositiveAmount = Field(description="Minor units, at most what is left of the line" + SETTLED)


class CreditNoteIn(Request):
    settlement: Literal["refund", "credit_balance", "amount_due"] = Field(
        description="A paid invoice: `refund` (to its charge) or `credit_balance`; an unpaid one:"
                    " `amount_due` (off what is left to pay)")
    lines: list[CreditLineIn] | None = Field(
        None, min_length=1, max_length=100,
        description="Lines credited; absent or null credits everything left of the invoice")
    reason: Comment | None = None
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"settlement": "refund", "reason": "outage 3-5 March",
                                     "lines": [{"index": 0, "amount": 1000}]}])


class BalanceIn(Request):
    amount: SignedAmount = Field(description="A credit (positive) or a debit (negative), minor"
                                             " units of the subscription's currency" + SETTLED)
    reason: Reason = Field(description="Why, for the record (free text, not blank)")
    subscription_id: Uuid | None = Field(
        None, description="The subscription whose balance moves; needed when the subscriber has"
                          " several still running")
    effective_at: Instant | None = Field(None, description=EFFECTIVE_AT)

    model_config = _rules(examples=[{"amount": 500, "reason": "goodwill credit"}])


class BillingRunIn(Request):
    until: Instant = Field(description="Perform everything due up to this instant (inclusive,"
                                       " not after the server's clock)")


class WebhookIn(Request):
    url: str = Field(description="Receives each event as a signed POST", max_length=MAX_URL_LENGTH,
                     json_schema_extra={"pattern": WEBHOOK_URL})
    event_types: list[EventType] = Field([], description="Event types to deliver; [] = every type")
    description: Comment | None = Field(None, description=f"At most {MAX_DESCRIPTION_LENGTH} characters")
    from_position: Position | None = Field(
        None, description="Deliver every event from this position on; default: only events after now")
    personal_data: StrictBool = Field(
        False, description="Deliver subscribers' personal fields (e-mail, name, external reference,"
        " payment token, comments); default: they are null in every delivery")

    model_config = _rules(examples=[{"url": "https://crm.example.com/hooks/subledger",
                                     "event_types": ["SubscriptionCanceled"]}])


class WebhookReplayIn(Request):
    from_position: Position = Field(description="Deliver again every event from this position on")

    model_config = _rules(examples=[{"from_position": 1}])
