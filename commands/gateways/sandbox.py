"""The built-in ``sandbox`` gateway: deterministic test cards, no network, no state.

Tokens (the ``token`` of ``PUT /subscribers/{id}/payment-method``):

- ``tok_visa``: every charge succeeds;
- ``tok_chargeDeclined``: every charge fails with decline code ``card_declined``;
- ``tok_fail_first``: the first attempt at an invoice (``attempt == 1``) fails with
  ``card_declined``, every later attempt succeeds;
- any other token: the charge fails with decline code ``invalid_token`` (a result, not an
  error: the subscriber's payment method is unusable, as a real gateway would say).

A charge of a non-positive amount fails with ``invalid_amount`` whatever the token.

The gateway keeps no state: every outcome is a function of the request alone, and the
``gateway_ref`` is derived from the idempotency key (``sb_ch_`` + the first 24 hex digits
of its SHA-256), so a retried call returns the same result with the same reference.
Refunds always succeed (``sb_re_...`` from their idempotency key) unless the amount is not
positive (failure code ``invalid_amount``).
"""

from __future__ import annotations

import hashlib

from . import ChargeRequest, ChargeResult, RefundRequest, RefundResult

TOKEN_SUCCEEDS = "tok_visa"
TOKEN_DECLINED = "tok_chargeDeclined"
TOKEN_FAIL_FIRST = "tok_fail_first"

DECLINE_CARD_DECLINED = "card_declined"
DECLINE_INVALID_TOKEN = "invalid_token"
INVALID_AMOUNT = "invalid_amount"

CHARGE_REF_PREFIX = "sb_ch_"
REFUND_REF_PREFIX = "sb_re_"


def _ref(prefix: str, idempotency_key: str) -> str:
    return prefix + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:24]


class SandboxGateway:
    """Test cards for local use, demos and tests; see the module's docstring."""

    name = "sandbox"

    def charge(self, request: ChargeRequest) -> ChargeResult:
        ref = _ref(CHARGE_REF_PREFIX, request.idempotency_key)
        decline = self._decline_code(request)
        if decline is None:
            return ChargeResult(succeeded=True, gateway_ref=ref)
        return ChargeResult(succeeded=False, gateway_ref=ref, decline_code=decline)

    def refund(self, request: RefundRequest) -> RefundResult:
        ref = _ref(REFUND_REF_PREFIX, request.idempotency_key)
        if request.amount <= 0:
            return RefundResult(succeeded=False, gateway_ref=None, failure_code=INVALID_AMOUNT)
        return RefundResult(succeeded=True, gateway_ref=ref)

    @staticmethod
    def _decline_code(request: ChargeRequest) -> str | None:
        if request.amount <= 0:
            return INVALID_AMOUNT
        if request.token == TOKEN_SUCCEEDS:
            return None
        if request.token == TOKEN_DECLINED:
            return DECLINE_CARD_DECLINED
        if request.token == TOKEN_FAIL_FIRST:
            return DECLINE_CARD_DECLINED if request.attempt <= 1 else None
        return DECLINE_INVALID_TOKEN
