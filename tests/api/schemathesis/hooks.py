"""Schemathesis hooks of the API's conformance runs (``SCHEMATHESIS_HOOKS``).

The OpenAPI document states every rule a request's own shape can break. A few refusals
depend on something no JSON Schema can see, and are written in the operations' descriptions
instead: the ledger's state (a plan or coupon that does not exist yet, a change to what a
subscription already is, a coupon in another currency than the subscription, details that
are already the subscriber's), its clock (an ``effective_at`` more than 5 minutes after the
server's clock, a billing run until a time not yet come, a cancellation ``at`` before the
command's default ``effective_at``, now, a report's ``as_of`` not yet come), or two
parameters together (an amount whose last digit is not 0 in a three-decimal currency, the
body's or its plan's, charge's or subscription's; a report's ``to`` before its ``from``, a window of more than 5000
buckets, a report's ``as_of`` after its ``as_known_at``, a report that must name one of the
several currencies the ledger holds, a consistency proof's ``first`` after its ``second``), or
the read models' progress (a ``Subledger-Min-Position`` they have not applied) or the log's
length (one beyond its head). A schema-valid
request refused for one of these is not a schema that lies, so that one failure is dropped;
every other check stays as it is.
"""

from __future__ import annotations

from typing import Any

import schemathesis

STATE_OR_CLOCK = frozenset({
    "/problems/unknown-reference",
    "/problems/empty-change",
    "/problems/currency-mismatch",
    "/problems/effective-at-in-future",
    "/problems/billing-until-in-future",
    "/problems/invalid-schedule",
    "/problems/invalid-window",
    "/problems/invalid-as-of",
    "/problems/currency-required",
    "/problems/invalid-tree-sizes",
    "/problems/amount-not-settleable",
})


BEHIND = "/problems/read-model-behind"
"""A read that asked (``Subledger-Min-Position``) for a position its read models had not
applied in time: the conformance server runs no projector, so any position past 0 that the
log holds is one they never reach. The 503 is documented; only its being a 5xx is dropped."""
UNKNOWN = "/problems/position-unknown"
"""A ``Subledger-Min-Position`` beyond the log's head: a schema-valid header the log's length
refuses, which no schema can know."""


def _problem_type(response: Any) -> Any:
    try:
        return response.json().get("type")
    except ValueError:
        return None


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but a schema-valid request refused for its state or clock."""
    if response is None:
        return True
    if response.status_code == 503 and _problem_type(response) == BEHIND:
        return False
    if response.status_code == 400 and _problem_type(response) == UNKNOWN:
        return False
    if getattr(failure, "code", None) != "ST202" or response.status_code != 422:
        return True
    return _problem_type(response) not in STATE_OR_CLOCK
