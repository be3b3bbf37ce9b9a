"""Request and response bodies. Amounts are integer minor units (strict ints: a JSON
float is refused, never rounded); times are ISO-8601 with an offset."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictInt
from pydantic import StrictStr as _StrictStr

from subledger.contract.bodies import CHARGE, COUPON, PLAN, SUBSCRIBER, SUBSCRIPTION


def _encodable(value: str) -> str:
    """Text must be valid Unicode (a lone surrogate such as "\\ud800" cannot be stored)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


StrictStr = Annotated[_StrictStr, AfterValidator(_encodable)]

Amount = StrictInt
EffectiveAt = AwareDatetime | None

_EFFECTIVE_AT_DOC = (
    "When this happened in the business (ISO-8601 with offset). Defaults to now; at most 5 "
    "minutes in the future; never earlier than the record's last event."
)


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlanIn(Request):
    plan_id: StrictStr = Field(description="Client-chosen slug, unique", examples=["basic-m"])
    name: StrictStr = Field(examples=["Basic monthly"])
    tier: StrictStr = Field(examples=["basic"])
    currency: StrictStr = Field(description="ISO 4217 code", examples=["USD"])
    amount: Amount = Field(description="Price per billing period, minor units", examples=[1900])
    interval: Literal["month", "quarter", "year"]
    trial_days: StrictInt = Field(0, description="0 = no trial", examples=[14])
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "plan_id": "basic-m", "name": "Basic monthly", "tier": "basic", "currency": "USD",
        "amount": 1900, "interval": "month", "trial_days": 14}]})


class PriceIn(Request):
    amount: Amount = Field(examples=[2100])
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)


class CouponIn(Request):
    coupon_id: StrictStr = Field(examples=["WELCOME20"])
    name: StrictStr | None = None
    percent_off: Decimal | None = Field(None, description="0 < p <= 100", examples=["20"])
    amount_off: Amount | None = Field(None, description="minor units, with currency")
    currency: StrictStr | None = None
    duration: Literal["once", "repeating", "forever"]
    duration_in_months: StrictInt | None = Field(None, description="for repeating only")
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "coupon_id": "WELCOME20", "percent_off": "20", "duration": "repeating",
        "duration_in_months": 3}]})


class SubscriberIn(Request):
    email: StrictStr = Field(examples=["ada@example.com"])
    name: StrictStr = Field(examples=["Ada Lovelace"])
    external_ref: StrictStr | None = Field(None, examples=["crm-1815"])
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)


class SubscriberPatch(Request):
    email: StrictStr | None = None
    name: StrictStr | None = None
    external_ref: StrictStr | None = None
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)


class PaymentMethodIn(Request):
    gateway: StrictStr = Field(examples=["sandbox"])
    token: StrictStr = Field(examples=["tok_visa"])
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)


class SubscriptionIn(Request):
    plan_id: StrictStr = Field(examples=["basic-m"])
    quantity: StrictInt = Field(1, description="Seats, 1 to 1,000,000")
    trial_days: StrictInt | None = Field(None, description="Overrides the plan's trial")
    coupon: StrictStr | None = Field(None, examples=["WELCOME20"])
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)


class ChangeIn(Request):
    plan_id: StrictStr | None = Field(None, examples=["pro-m"])
    quantity: StrictInt | None = None
    when: Literal["now", "period_end"] = "now"
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)


class CancelIn(Request):
    when: Literal["now", "period_end", "at"] = "now"
    at: AwareDatetime | None = Field(None, description="for when='at'")
    reason: StrictStr | None = Field(None, description="free text, kept as the event's comment")
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)


class EffectiveIn(Request):
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)


class CouponApplyIn(Request):
    coupon: StrictStr = Field(examples=["WELCOME20"])
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)


class ManualChargeIn(Request):
    amount: Amount = Field(description="minor units, > 0", examples=[4900])
    currency: StrictStr = Field(examples=["USD"])
    gateway: StrictStr = Field(examples=["sandbox"])
    gateway_ref: StrictStr = Field(description="the gateway's id of the payment", examples=["pi_3Nx..."])
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)


class RefundIn(Request):
    amount: Amount = Field(description="minor units, at most what is left of the charge", examples=[1000])
    reason: StrictStr | None = Field(None, examples=["requested_by_customer"])
    effective_at: EffectiveAt = Field(None, description=_EFFECTIVE_AT_DOC)


class BillingRunIn(Request):
    until: AwareDatetime = Field(description="perform everything due up to this instant (inclusive, not in the future)")


# -- responses (documentation of what routes render) ---------------------------------------


PlanOut = PLAN.model()
CouponOut = COUPON.model()
SubscriberOut = SUBSCRIBER.model()
SubscriptionOut = SUBSCRIPTION.model()
ChargeOut = CHARGE.model()


class RefundOut(BaseModel):
    refund_id: str
    status: Literal["succeeded", "failed", "pending"]
    amount: int
    failure_code: str | None
    gateway_ref: str | None
    charge: ChargeOut


class BillingRunOut(BaseModel):
    until: str
    subscriptions: int
    invoices: int
    renewals: int
    trial_conversions: int
    charges_succeeded: int
    charges_failed: int
    cancellations: int
    past_due: int
    recovered: int
    billed: dict[str, int]
    collected: dict[str, int]
    deferred: int
    conflicts: int


class EnvelopeOut(BaseModel):
    position: int
    event_id: str
    type: str
    schema_version: int
    subscriber_id: str | None
    aggregate_id: str
    aggregate_version: int
    recorded_at: str
    effective_at: str
    data: dict[str, Any]


class Listing(BaseModel):
    next_cursor: str | None


class PlanList(Listing):
    items: list[PlanOut]


class CouponList(Listing):
    items: list[CouponOut]


class SubscriberList(Listing):
    items: list[SubscriberOut]


class EventList(Listing):
    items: list[EnvelopeOut]


class WebhookIn(Request):
    url: StrictStr = Field(description="http(s) URL that receives each event as a signed POST",
                           examples=["https://crm.example.com/hooks/subledger"])
    event_types: list[StrictStr] = Field([], description="event types to deliver; [] = every type",
                                         examples=[["SubscriptionCanceled"]])
    description: StrictStr | None = Field(None, examples=["CRM: re-market canceled subscribers"])
    from_position: StrictInt | None = Field(
        None, description="deliver every event from this position on; default: only events after now")


class WebhookReplayIn(Request):
    from_position: StrictInt = Field(description="deliver again every event from this position on",
                                     examples=[1])


class WebhookOut(BaseModel):
    endpoint_id: str
    url: str
    event_types: list[str]
    description: str | None
    created_at: str
    enabled: bool
    position: int = Field(description="last position delivered (or skipped: not of its types)")
    lag: int = Field(description="positions behind the head of the log")
    attempts: int = Field(description="consecutive failed attempts at the next event")
    next_attempt_at: str
    last_error: str | None


class WebhookCreated(WebhookOut):
    secret: str = Field(description="the signing secret, shown only in this answer")


class WebhookList(Listing):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    sequence: int = Field(description="the attempt's place in this endpoint's log; a cursor for `after`")
    delivery_id: str
    position: int
    event_id: str
    type: str
    attempt: int = Field(description="1 = first attempt at this event")
    attempted_at: str
    status_code: int | None
    error: str | None
    duration_ms: int
    outcome: Literal["delivered", "failed"]


class DeliveryList(Listing):
    items: list[DeliveryOut]


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
