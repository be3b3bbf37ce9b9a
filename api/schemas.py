"""Response bodies, as the OpenAPI document shows them (the public bodies of records derive
from ``contract/bodies.py``); request bodies are in ``requests``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from subledger.contract.bodies import CHARGE, COUPON, FORGOTTEN, PLAN, SUBSCRIBER, SUBSCRIPTION
from subledger.contract.invoice_bodies import CREDIT_NOTE, INVOICE
from subledger.contract.portal_bodies import PORTAL_SESSION
from subledger.contract.preview_bodies import CHANGE_PREVIEW, INVOICE_PREVIEW

from .problems import ProblemType

# -- responses (documentation of what routes render) ---------------------------------------


PlanOut = PLAN.model()
CouponOut = COUPON.model()
SubscriberOut = SUBSCRIBER.model()
SubscriberForgottenOut = FORGOTTEN.model()
SubscriptionOut = SUBSCRIPTION.model()
ChargeOut = CHARGE.model()
ChangePreviewOut = CHANGE_PREVIEW.model()
InvoicePreviewOut = INVOICE_PREVIEW.model()
InvoiceOut = INVOICE.model()
CreditNoteOut = CREDIT_NOTE.model()
PortalSessionOut = PORTAL_SESSION.model()


class PortalSessionLinkOut(PortalSessionOut):  # type: ignore[misc, valid-type]
    url: str = Field(description="The signed link to send to the subscriber (see docs/portal.md)")


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


class SubscriptionList(Listing):
    items: list[SubscriptionOut]
class InvoiceList(Listing):
    items: list[InvoiceOut]


class EventList(Listing):
    items: list[EnvelopeOut]


class WebhookOut(BaseModel):
    endpoint_id: str
    url: str
    event_types: list[str]
    description: str | None
    created_at: str
    enabled: bool
    personal_data: bool = Field(description="whether its deliveries carry subscribers' personal fields")
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


class FieldError(BaseModel):
    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document: `type` is `/problems/<code>`, documented there."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = Field(None, description="With validation-error: each field refused")


class ProblemTypeList(BaseModel):
    items: list[ProblemType]


class GatewayEventOut(BaseModel):
    """What the ledger made of a payment provider's event."""

    gateway: str
    event_id: str = Field(description="The provider's id of the event")
    event_type: str = Field(description="The provider's type of the event")
    outcome: Literal["recorded", "already_recorded", "ignored"] = Field(
        description="`recorded`: new events were appended; `already_recorded`: the ledger knew"
                    " it already; `ignored`: nothing to record (a type the ledger has no use"
                    " for, or about a charge or card the ledger does not know)")
    detail: str
    subscription_id: str | None = Field(description="The subscription a dispute or refund is on")
    subscriber_id: str | None
