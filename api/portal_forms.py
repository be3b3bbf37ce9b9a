"""The portal's forms as the commands' input: fields read from an urlencoded body, checked
by the same rules as the API's JSON (the commands check the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from subledger.domain.errors import InvalidInput
from subledger.domain.subscription import Subscription
from subledger.domain.time import parse_instant

from .pages import FORM_TYPE
from .security import ApiProblem

MAX_FIELD = 255
DETAILS = ("name", "email")
"""The details a subscriber may change in the portal (``external_ref`` is the business's own
reference to them, not theirs to edit)."""
SHOWN = "{}_shown"
"""The hidden field carrying a detail as the page showed it."""
PREVIEW_LIFETIME = timedelta(minutes=15)
"""How long a previewed change can be confirmed at its instant: a change confirmed later
would prorate the days since the preview as if they were still to come."""


@dataclass(frozen=True)
class PortalForm:
    """A posted form's fields, or why it could not be read (raised by :meth:`checked`, after
    the session is checked: who may post comes before what was posted). The CSRF token is
    one of the fields, so a body that is not a readable form is refused with its reason
    (415, 400) before the token is looked for; nothing runs either way."""

    fields: dict[str, str]
    problem: tuple[str, str] | None = None

    def get(self, name: str) -> str | None:
        return self.fields.get(name)

    def checked(self) -> dict[str, str]:
        if self.problem is not None:
            raise ApiProblem(*self.problem)
        return self.fields


async def form_fields(request: Request) -> PortalForm:
    """An urlencoded form's fields (each given once). Stricter than the pages' ``read_form``
    (which keeps a repeated field's first value): a portal form runs a write that may move
    money, so a repeated or overlong field refuses the form rather than guessing."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        return PortalForm({}, ("unsupported-media-type",
                               "portal forms are application/x-www-form-urlencoded"))
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True,
                          max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return PortalForm({}, ("malformed-request", "the form is not valid urlencoded UTF-8"))
    fields = dict(pairs)
    if len(fields) != len(pairs) or any(len(v) > MAX_FIELD for v in fields.values()):
        return PortalForm({}, ("malformed-request", "a form field is repeated or too long"))
    return PortalForm(fields)


def required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise InvalidInput(f"{name.replace('_', ' ')} is required")
    return value


def change_fields(subscription: Subscription, plan_id: str | None,
                  quantity: str | None) -> dict[str, Any]:
    """The fields of a change now: the plan and quantity asked for, those the subscription
    has where left out or unchanged (a change of neither is refused by the ledger)."""
    plan = plan_id.strip() if plan_id and plan_id.strip() != subscription.plan_id else None
    seats: int | None = None
    if quantity is not None and quantity.strip():
        if not (quantity.strip().isascii() and quantity.strip().isdigit()):
            raise InvalidInput("quantity must be a whole number")
        seats = int(quantity) if int(quantity) != subscription.quantity else None
    return {"plan_id": plan, "quantity": seats, "when": "now"}


def details_changes(form: dict[str, str]) -> dict[str, str | None]:
    """The details the subscriber edited: each field that differs from the value the page
    showed it with. Compared with what was shown, not with the subscriber now, so a double
    submit is the same command (one change under its key) and a detail changed elsewhere
    since the page was shown is not written back. Whether an edited value is valid, or
    differs from the current one, is the ledger's to say."""
    edited: dict[str, str | None] = {}
    for name in DETAILS:
        value = form.get(name)
        if value is not None and value.strip() != form.get(SHOWN.format(name), "").strip():
            edited[name] = value.strip()
    return edited


def confirmed_fields(form: dict[str, str]) -> dict[str, Any]:
    """The fields of a change as its preview page carried them (already relative to the
    subscription it was previewed on, so a repeated submit is the same command)."""
    plan = form.get("plan_id", "").strip() or None
    quantity = form.get("quantity", "").strip()
    if quantity and not (quantity.isascii() and quantity.isdigit()):
        raise InvalidInput("quantity must be a whole number")
    return {"plan_id": plan, "quantity": int(quantity) if quantity else None, "when": "now"}


def previewed_at(value: str, opened_at: datetime, now: datetime) -> datetime:
    """The instant a change was previewed at, which its confirmation takes effect at so that
    it invoices what was shown: within the session (from its opening to now) and at most
    :data:`PREVIEW_LIFETIME` ago."""
    try:
        instant = parse_instant(value)
    except ValueError:
        raise InvalidInput("effective_at must be the preview's instant") from None
    if not opened_at <= instant <= now:
        raise InvalidInput("the preview is older than this portal session; preview again")
    if now - instant > PREVIEW_LIFETIME:
        minutes = int(PREVIEW_LIFETIME.total_seconds() // 60)
        raise InvalidInput(f"the preview is more than {minutes} minutes old; preview the change"
                           " again to see what it costs now")
    return instant
