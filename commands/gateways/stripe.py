"""The ``stripe`` gateway: off-session card payments through Stripe's PaymentIntents.

A charge creates and confirms a PaymentIntent in one call (``confirm=true``,
``off_session=true``) with Stripe's ``Idempotency-Key`` set to the ledger's key, so a retried
call replays Stripe's first answer instead of charging again. A refund creates a Refund on
the PaymentIntent, under the refund's idempotency key.

Stripe may forget a key after 24 hours. The PaymentIntent carries the key in its metadata
(``subledger_key``), and a charge whose earlier sending may be older than that looks for it
first (``stripe_lookup.py``: a search, or where the account has no Search a listing of the
PaymentIntents since the attempt fell due): one found is the answer, and nothing is charged
again. A refund looks its earlier Refund up among the payment's every time
(``subledger_refund_id``).

How Stripe's answers map onto the port:

- PaymentIntent ``succeeded`` -> ``ChargeResult(succeeded=True, gateway_ref=pi id)``.
- A card error (HTTP 402) -> a decline: ``decline_code`` is Stripe's ``decline_code`` or else
  its ``code`` (``authentication_required``, ``expired_card``, ...); ``gateway_ref`` is the
  failed PaymentIntent's id when Stripe sends it.
- PaymentIntent ``requires_action`` (3-D Secure wanted; nobody is there to do it) -> decline
  ``authentication_required``; ``requires_payment_method`` -> decline with the
  PaymentIntent's last error code, else ``requires_payment_method``; ``canceled`` -> decline
  ``canceled``.
- An invalid request about the payment method itself (``param == "payment_method"``, such as
  ``resource_missing`` for a token Stripe does not know) -> a decline with that code: it is
  the subscriber's token that is bad, and retrying would never help.
- ``processing`` -> the PaymentIntent is fetched again; if it is still processing,
  :class:`GatewayUnavailable` (the billing clock asks again later, with the same key).
- 5xx, 429, 409 (a concurrent request with the same key), timeouts and connection errors ->
  :class:`GatewayUnavailable`, logged at WARNING.
- Authentication, permission, idempotency-key misuse and other invalid requests are
  configuration bugs: :class:`GatewayUnavailable` as well (nothing is recorded), logged at
  ERROR with Stripe's message so the operator sees it. A search refused for want of Search
  is no such bug: the look-up lists instead.

Refunds: ``succeeded`` and ``pending`` are successes (``gateway_ref`` = the refund id);
``failed``, ``canceled`` and ``requires_action`` are failures with Stripe's
``failure_reason`` (else the status) as ``failure_code``. Stripe refusing the refund itself
(more than is left of the charge, already refunded, disputed, unknown payment) is a failure
with Stripe's error code; anything else is handled as for charges.

Amounts go to Stripe in its own exponent for the currency (``amounts.to_stripe_amount``: a
forint is ``100``); one it cannot take is a decline ``invalid_amount``, Stripe not called.

Tokens: a PaymentMethod id (``pm_...``), or ``cus_...:pm_...`` to charge a PaymentMethod
attached to a Stripe Customer (which Stripe requires to reuse a card off-session).
"""

from __future__ import annotations

from typing import Any

import stripe

from . import (
    ChargeRequest,
    ChargeResult,
    GatewayUnavailable,
    RefundRequest,
    RefundResult,
)
from .amounts import UnrepresentableAmount, to_stripe_amount
from .stripe_common import METADATA_VALUE_MAX as _METADATA_VALUE_MAX
from .stripe_common import describe as _describe
from .stripe_common import get as _get
from .stripe_common import logger, split_token, unavailable
from .stripe_lookup import ATTEMPT_KEY, EarlierPaymentIntents
from .stripe_refunds import refund as _refund

DEFAULT_API_BASE = "https://api.stripe.com"

# Stripe's limit on descriptions.
_DESCRIPTION_MAX = 1000


class StripeGateway:
    """The port over Stripe's API with the official SDK (``stripe.StripeClient``).

    ``max_network_retries`` is 0 by default: the billing clock is the retry loop, and a
    charge it could not complete is asked again on its next run with the same key.
    """

    name = "stripe"

    def __init__(
        self,
        api_key: str,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = 30,
        *,
        max_network_retries: int = 0,
    ) -> None:
        if not api_key or not api_key.strip():
            raise ValueError("the stripe gateway needs an API key (SUBLEDGER_STRIPE_API_KEY)")
        self._client = stripe.StripeClient(
            api_key.strip(),
            base_addresses={"api": api_base.rstrip("/")},
            max_network_retries=max_network_retries,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self._earlier = EarlierPaymentIntents(self._client)

    # -- charges ----------------------------------------------------------------------

    def charge(self, request: ChargeRequest) -> ChargeResult:
        customer, payment_method = split_token(request.token)
        metadata = {
            key: str(value)[:_METADATA_VALUE_MAX] for key, value in request.metadata.items()
        }
        metadata["subledger_customer_ref"] = request.customer_ref
        metadata["subledger_attempt"] = str(request.attempt)
        # What a retry looks the payment up by once Stripe may have forgotten the key.
        metadata[ATTEMPT_KEY] = request.idempotency_key[:_METADATA_VALUE_MAX]
        try:
            amount = to_stripe_amount(request.amount, request.currency)
        except UnrepresentableAmount as refused:
            logger.info("stripe charge %s: %s", request.idempotency_key, refused)
            return ChargeResult(succeeded=False, gateway_ref=None, decline_code="invalid_amount")
        params: dict[str, Any] = {
            "amount": amount,
            "currency": request.currency.lower(),
            "payment_method": payment_method,
            "confirm": True,
            "off_session": True,
            # Cards (and any method) that need no redirect: with confirm=true and no
            # return_url, Stripe refuses the request if redirects are allowed.
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "description": request.description[:_DESCRIPTION_MAX],
            "metadata": metadata,
        }
        if customer is not None:
            params["customer"] = customer
        earlier = self._earlier.find(request)
        if earlier is not None:
            return self._charge_result(request, earlier, refetch=True)
        try:
            intent = self._client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.CardError as err:
            return self._declined(request, err)
        except stripe.InvalidRequestError as err:
            if _get(err.error, "param") == "payment_method":
                code = err.code or "invalid_payment_method"
                logger.info(
                    "stripe charge %s: payment method refused: %s",
                    request.idempotency_key,
                    _describe(err),
                )
                return ChargeResult(succeeded=False, gateway_ref=None, decline_code=code)
            raise self._unavailable("charge", request.idempotency_key, err) from err
        except stripe.StripeError as err:
            raise self._unavailable("charge", request.idempotency_key, err) from err
        return self._charge_result(request, intent, refetch=True)

    def _charge_result(self, request: ChargeRequest, intent: Any, *, refetch: bool) -> ChargeResult:
        status = _get(intent, "status")
        intent_id = _get(intent, "id")
        if status == "succeeded":
            return ChargeResult(succeeded=True, gateway_ref=intent_id)
        if status == "requires_action":
            return self._decline_result(request, intent_id, "authentication_required")
        if status == "requires_payment_method":
            last_error = _get(intent, "last_payment_error")
            code = (
                _get(last_error, "decline_code")
                or _get(last_error, "code")
                or "requires_payment_method"
            )
            return self._decline_result(request, intent_id, code)
        if status == "canceled":
            return self._decline_result(request, intent_id, "canceled")
        if status == "processing" and refetch and intent_id:
            # An idempotent replay answers the first response, not the current state.
            try:
                current = self._client.v1.payment_intents.retrieve(intent_id)
            except stripe.StripeError as err:
                raise self._unavailable("charge", request.idempotency_key, err) from err
            return self._charge_result(request, current, refetch=False)
        if status == "processing":
            logger.warning(
                "stripe charge %s: PaymentIntent %s still processing; will ask again",
                request.idempotency_key,
                intent_id,
            )
            raise GatewayUnavailable(f"stripe: PaymentIntent {intent_id} is still processing")
        # requires_confirmation / requires_capture: not what this adapter asked for.
        logger.error(
            "stripe charge %s: PaymentIntent %s in unexpected status %r",
            request.idempotency_key,
            intent_id,
            status,
        )
        raise GatewayUnavailable(
            f"stripe: PaymentIntent {intent_id} in unexpected status {status!r}"
        )

    def _declined(self, request: ChargeRequest, err: stripe.CardError) -> ChargeResult:
        error = err.error
        intent_id = _get(_get(error, "payment_intent"), "id")
        code = _get(error, "decline_code") or err.code or _get(error, "code") or "card_declined"
        logger.info("stripe charge %s declined: %s", request.idempotency_key, _describe(err))
        return ChargeResult(succeeded=False, gateway_ref=intent_id, decline_code=code)

    @staticmethod
    def _decline_result(request: ChargeRequest, intent_id: str | None, code: str) -> ChargeResult:
        logger.info(
            "stripe charge %s declined: PaymentIntent %s, %s",
            request.idempotency_key,
            intent_id,
            code,
        )
        return ChargeResult(succeeded=False, gateway_ref=intent_id, decline_code=code)

    # -- refunds ----------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        return _refund(self._client, request)

    def charged_subscription(self, payment_ref: str) -> str | None:
        """The subscription a PaymentIntent of this ledger's was for (its ``subscription_id``
        metadata); None for a Charge id, an unknown payment or one another system made."""
        if not payment_ref.startswith("pi_"):
            return None
        try:
            intent = self._client.v1.payment_intents.retrieve(payment_ref)
        except stripe.InvalidRequestError:
            return None
        except stripe.StripeError as err:
            raise self._unavailable("look-up", payment_ref, err) from err
        owner = _get(_get(intent, "metadata"), "subscription_id")
        return str(owner) if owner else None

    # -- errors -----------------------------------------------------------------------

    @staticmethod
    def _unavailable(operation: str, key: str, err: stripe.StripeError) -> GatewayUnavailable:
        return unavailable(operation, key, err)
