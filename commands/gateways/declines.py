"""The ledger's decline codes, and the mapping of a provider's codes onto them.

``ChargeFailed.decline_code`` speaks one vocabulary whatever the gateway (the sandbox's and
Stripe's codes are already in it), so reports and dunning rules can group declines across
providers. Each adapter has a table from the provider's own codes; a code the table does not
know is :data:`CARD_DECLINED`, and the adapter logs the provider's code beside it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

CARD_DECLINED = "card_declined"
"""The issuer or the provider refused, for no reason more precise than this."""
INSUFFICIENT_FUNDS = "insufficient_funds"
EXPIRED_CARD = "expired_card"
INCORRECT_CVC = "incorrect_cvc"
AUTHENTICATION_REQUIRED = "authentication_required"
"""The payer must act (3-D Secure, a PayPal approval) and is not there."""
FRAUDULENT = "fraudulent"
"""Refused as suspected fraud (by the provider's risk checks or the issuer)."""
PROCESSING_ERROR = "processing_error"
"""The provider or the bank failed to process this payment; a later attempt may pass."""
INVALID_TOKEN = "invalid_token"
"""The saved payment method is unknown, revoked or unusable: asking again will not help."""
INVALID_AMOUNT = "invalid_amount"
"""The amount cannot be charged at this provider in this currency."""
CURRENCY_NOT_SUPPORTED = "currency_not_supported"

LEDGER_CODES = frozenset({
    CARD_DECLINED, INSUFFICIENT_FUNDS, EXPIRED_CARD, INCORRECT_CVC, AUTHENTICATION_REQUIRED,
    FRAUDULENT, PROCESSING_ERROR, INVALID_TOKEN, INVALID_AMOUNT, CURRENCY_NOT_SUPPORTED,
})


def ledger_code(table: Mapping[str, str], provider_code: str | None, *, gateway: str,
                logger: logging.Logger) -> str:
    """The ledger's code for a provider's decline code (:data:`CARD_DECLINED` if unknown)."""
    code = table.get(provider_code or "", CARD_DECLINED)
    logger.info("%s decline %r -> %s", gateway, provider_code, code)
    return code
