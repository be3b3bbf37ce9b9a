"""Domain errors: one small hierarchy, each with a stable code.

The edge (api/, the CLI) maps the *kind* of an error to a status and its ``code`` to a
problem type URI ``/problems/<code>``; routes never build error responses themselves.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A rule of the ledger refused a command. The ledger is unchanged."""

    #: stable, kebab-case identifier; part of the public contract (problem type)
    code: ClassVar[str] = "domain-error"
    #: short human title, the same for every instance of the error
    title: ClassVar[str] = "The ledger refused the command"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    """The command's input is malformed or out of bounds (HTTP 422)."""

    code = "invalid-input"
    title = "Invalid input"


class NotFound(DomainError):
    """An id does not name anything in the ledger (HTTP 404 in a path, 422 in a body)."""

    code = "not-found"
    title = "Not found"


class MalformedRequest(DomainError):
    """A request's framing is malformed, not its command (HTTP 400): e.g. its idempotency key."""

    code = "malformed"
    title = "Malformed request"


class Conflict(DomainError):
    """A rule of the lifecycle or the ledger's state refuses the command (HTTP 409)."""

    code = "conflict"
    title = "Conflict with the ledger's state"


# -- invalid input -------------------------------------------------------------------------


class UnknownCurrency(InvalidInput):
    code = "unknown-currency"
    title = "Not an ISO 4217 currency"


class AmountOutOfBounds(InvalidInput):
    code = "amount-out-of-bounds"
    title = "Amount outside the allowed range"


class AmountNotSettleable(InvalidInput):
    """An amount finer than its currency settles in: in a three-decimal currency (KWD, BHD,
    JOD, LYD, OMR, TND) the last digit of the minor units must be 0."""

    code = "amount-not-settleable"
    title = "Amount finer than the currency settles in"


class QuantityOutOfBounds(InvalidInput):
    code = "quantity-out-of-bounds"
    title = "Quantity outside the allowed range"


class CurrencyMismatch(InvalidInput):
    code = "currency-mismatch"
    title = "Currencies do not match"


class EffectiveAtInFuture(InvalidInput):
    code = "effective-at-in-future"
    title = "effective_at is too far in the future"


class InvalidSchedule(InvalidInput):
    code = "invalid-schedule"
    title = "The requested time is not allowed"


class EmptyChange(InvalidInput):
    code = "empty-change"
    title = "The change changes nothing"


class InvalidWindow(InvalidInput):
    """A report's window is not one the ledger reports on: its last day before its first,
    or more than 5000 buckets (HTTP 422)."""

    code = "invalid-window"
    title = "Not a window the ledger reports on"


class InvalidAsOf(InvalidInput):
    """A report's ``as_of`` is later than the instant the report answers from: the ledger's
    clock, or ``as_known_at`` when that is given and earlier (HTTP 422). A report counts
    what has happened by its ``as_of``; a later instant would read as final what has not
    happened yet."""

    code = "invalid-as-of"
    title = "Not an instant a report can be as of"


class CurrencyRequired(InvalidInput):
    """The ledger holds several currencies: a report must name the one it is about (HTTP
    422)."""

    code = "currency-required"
    title = "Name the currency of the report"


class UnknownGateway(InvalidInput):
    code = "unknown-gateway"
    title = "Payment gateway not configured"


class UnknownReference(InvalidInput):
    """An id in a request body names nothing (a plan, a coupon, a charge)."""

    code = "unknown-reference"
    title = "Referenced id does not exist"


class InvalidWebhookUrl(InvalidInput):
    """A webhook endpoint's URL must be an absolute http:// or https:// URL with a host."""

    code = "invalid-webhook-url"
    title = "Not a webhook URL"


class UnknownEventTypeName(InvalidInput):
    """An event type that is not in the catalogue (`GET /schemas` lists them)."""

    code = "unknown-event-type"
    title = "Unknown event type"


class InvalidPosition(InvalidInput):
    """A position in the log is a whole number from 0 (0 = from the first event)."""

    code = "invalid-position"
    title = "Not a position in the log"


# -- not found -----------------------------------------------------------------------------


class PlanNotFound(NotFound):
    code = "plan-not-found"
    title = "Plan not found"


class CouponNotFound(NotFound):
    code = "coupon-not-found"
    title = "Coupon not found"


class SubscriberNotFound(NotFound):
    code = "subscriber-not-found"
    title = "Subscriber not found"


class SubscriptionNotFound(NotFound):
    code = "subscription-not-found"
    title = "Subscription not found"


class ChargeNotFound(NotFound):
    code = "charge-not-found"
    title = "Charge not found"


class PeriodNotFound(NotFound):
    code = "period-not-found"
    title = "No such reporting period"


class InvoiceNotFound(NotFound):
    code = "invoice-not-found"
    title = "Invoice not found"


class CreditNoteNotFound(NotFound):
    code = "credit-note-not-found"
    title = "Credit note not found"


class PortalSessionNotFound(NotFound):
    code = "portal-session-not-found"
    title = "No such portal session"


class WebhookNotFound(NotFound):
    code = "webhook-not-found"
    title = "Webhook endpoint not found"


class NotInTheTree(NotFound):
    """A position the Merkle tree has no leaf for (no such event, or not in the tree yet),
    or a tree size no head was made at."""

    code = "not-in-the-tree"
    title = "Not in the Merkle tree"


# -- conflicts -----------------------------------------------------------------------------


class InvoiceNotOpen(Conflict):
    """Only an unpaid invoice can be voided or written off, or its charge retried."""

    code = "invoice-not-open"
    title = "The invoice is not open"


class InvoiceNotCreditable(Conflict):
    """A credit note credits a paid or open invoice, at most what is left of each line."""

    code = "invoice-not-creditable"
    title = "The invoice cannot be credited so"


class SubscriptionRequired(Conflict):
    """A subscriber's balance is kept per subscription: the command names one of theirs when
    they have none running, or several."""

    code = "subscription-required"
    title = "Name one of the subscriber's subscriptions"


class NoUpcomingInvoice(Conflict):
    """The billing clock will issue no more invoices to this subscription: it is canceled,
    paused (nothing is invoiced until it is resumed), or to be canceled before its next
    renewal or the end of its trial."""

    code = "no-upcoming-invoice"
    title = "The subscription has no upcoming invoice"


class PlanAlreadyExists(Conflict):
    code = "plan-already-exists"
    title = "A plan with this id already exists"


class CouponAlreadyExists(Conflict):
    code = "coupon-already-exists"
    title = "A coupon with this id already exists"


class PlanIsArchived(Conflict):
    """An archived plan takes no new subscription, no change to it and no new price from
    the instant it was archived, and cannot be archived again; subscriptions already on it
    keep it (renewals, changes already scheduled, their quantity) (HTTP 409)."""

    code = "plan-archived"
    title = "The plan is archived"


class CouponIsArchived(Conflict):
    """An archived coupon cannot be applied (at signup or to a subscription) from the
    instant it was archived, and cannot be archived again; subscriptions that have it keep
    it for as long as its duration runs (HTTP 409)."""

    code = "coupon-archived"
    title = "The coupon is archived"


class EffectiveAtOutOfOrder(Conflict):
    code = "effective-at-out-of-order"
    title = "effective_at is earlier than the last event"


class NotYetAvailable(Conflict):
    """The command's effective_at precedes the existence of something it needs."""

    code = "not-yet-available"
    title = "Referenced entity did not exist at effective_at"


class SubscriberIsForgotten(Conflict):
    """The subscriber was forgotten: their personal data is erased and their details and
    payment method can no longer be set, nor a portal session opened for them, nor can they
    be forgotten again."""

    code = "subscriber-forgotten"
    title = "The subscriber was forgotten"


class SubscriptionAlreadyCanceled(Conflict):
    code = "subscription-already-canceled"
    title = "The subscription is already canceled"


class SubscriptionNotPausable(Conflict):
    code = "subscription-not-pausable"
    title = "The subscription cannot be paused in its current status"


class SubscriptionNotPaused(Conflict):
    code = "subscription-not-paused"
    title = "The subscription is not paused"


class SubscriptionPaused(Conflict):
    code = "subscription-paused"
    title = "The subscription is paused"


class NoCancellationScheduled(Conflict):
    code = "no-cancellation-scheduled"
    title = "No cancellation is scheduled"


class CancellationPending(Conflict):
    """A change or a resume would bill a period that runs past the subscription's scheduled end.

    No longer raised: such a period is billed only up to the cancellation. The code stays
    documented for clients that handled it."""

    code = "cancellation-pending"
    title = "A cancellation is scheduled"


class CouponAlreadyRedeemed(Conflict):
    """A subscription redeems a coupon once: applied again, a ``once`` coupon would take its
    discount off every invoice and a ``repeating`` one would never end."""

    code = "coupon-already-redeemed"
    title = "The coupon was already redeemed on this subscription"


class PaymentAlreadyRecorded(Conflict):
    """The gateway's payment is already a charge of the subscription: counted once."""

    code = "payment-already-recorded"
    title = "The payment is already recorded"


class RefundExceedsCharge(Conflict):
    code = "refund-exceeds-charge"
    title = "The refund is more than is left of the charge"


class RefundDeclined(Conflict):
    code = "refund-declined"
    title = "The payment gateway refused the refund"


class GatewayUnavailableError(DomainError):
    """The payment gateway could not be reached; nothing was recorded. Retry later."""

    code = "gateway-unavailable"
    title = "The payment gateway is unavailable"


class GatewayEventsNotReceived(NotFound):
    """The gateway named in ``POST /gateways/{name}/events`` takes no events here: it is not
    configured, or has no webhook secret to check them with."""

    code = "gateway-events-not-received"
    title = "This gateway's events are not received here"


class GatewaySignatureInvalid(MalformedRequest):
    """A gateway's event whose signature does not check out with the configured webhook
    secret (or is missing, or too old): nothing is recorded (HTTP 400)."""

    code = "gateway-signature-invalid"
    title = "The gateway event's signature is invalid"


class GatewayEventMalformed(MalformedRequest):
    """A gateway's event, correctly signed, that is not what its type promises (a field
    missing or of the wrong kind): nothing is recorded (HTTP 400)."""

    code = "gateway-event-malformed"
    title = "The gateway event is malformed"


class ReadModelBehind(DomainError):
    """A read asked (``Subledger-Min-Position``) for read models that have applied a position
    of the log, and they had not reached it within the server's wait
    (``SUBLEDGER_READ_WAIT``): nothing was read, nothing changed. Retry later (HTTP 503)."""

    code = "read-model-behind"
    title = "The read models have not reached the position asked for"


class PositionUnknown(MalformedRequest):
    """A read asked (``Subledger-Min-Position``) for a position beyond the log's head: no
    answer of this ledger gave it, so waiting could not reach it (a position from another
    ledger, or from before a restore). Nothing was read, nothing changed (HTTP 400: the
    request's framing, as a malformed idempotency key, not its query)."""

    code = "position-unknown"
    title = "The position asked for is beyond the log's head"


class BillingUntilInFuture(InvalidInput):
    code = "billing-until-in-future"
    title = "A billing run cannot run into the future"


class PeriodAlreadyClosed(Conflict):
    code = "period-already-closed"
    title = "The period is already closed"


class PeriodNotEnded(Conflict):
    code = "period-not-ended"
    title = "The period has not ended yet"


class PortalSessionClosed(Conflict):
    """The portal session was revoked or has expired: it can be neither used nor revoked
    (its pages answer 401; open a new session)."""

    code = "portal-session-closed"
    title = "The portal session is revoked or expired"


class ConcurrentModification(Conflict):
    code = "concurrent-modification"
    title = "Another change was recorded first"


class InvalidTreeSizes(InvalidInput):
    """A consistency proof asked from a larger tree to a smaller one."""

    code = "invalid-tree-sizes"
    title = "The first tree size is larger than the second"


class NoAuditKey(NotFound):
    """The ledger signs no tree heads (``SUBLEDGER_AUDIT_KEY`` is unset)."""

    code = "no-audit-key"
    title = "No audit key"


class BeyondTheTree(Conflict):
    """A tree size larger than the Merkle tree has grown to yet, or a leaf after it."""

    code = "beyond-the-tree"
    title = "Beyond the Merkle tree's size"


class IdempotencyKeyReused(Conflict):
    code = "idempotency-key-reused"
    title = "Idempotency key already used with another request"


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency-key-in-flight"
    title = "A request with this idempotency key is still being processed"


class IdempotencyKeyMalformed(MalformedRequest):
    """An Idempotency-Key must be 1 to 255 characters (HTTP 400)."""

    code = "idempotency-key-malformed"
    title = "Malformed idempotency key"


def all_error_classes() -> list[type[DomainError]]:
    """Every concrete error, for the documentation served at ``/problems/{code}``."""
    seen: list[type[DomainError]] = []
    stack: list[type[DomainError]] = [DomainError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: c.code)
