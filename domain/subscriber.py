"""The subscriber: who pays, and how."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args
from uuid import UUID

from .base import LedgerAggregate
from .errors import EmptyChange, InvalidInput, SubscriberIsForgotten
from .text import check_email, check_name, check_reference

Detail = Literal["email", "name", "external_ref"]
"""A subscriber's details that ``PATCH /subscribers/{id}`` may change."""
DETAILS: tuple[str, ...] = get_args(Detail)


def check_external_ref(ref: str | None) -> str | None:
    if ref is not None:
        check_reference(ref, "external_ref")
    return ref


class Subscriber(LedgerAggregate):
    """A customer of the subscription business, with at most one payment method."""

    email: str | None
    """None once forgotten (personal fields read as null after their key is shredded)."""
    name: str | None
    external_ref: str | None
    payment_method: dict[str, str | None] | None
    payment_methods: tuple[tuple[datetime, dict[str, str | None] | None], ...]
    """Every payment method the subscriber had, from when it took effect (None: none)."""
    registered_at: datetime
    marketing_consent: bool
    payment_method_expires_at: datetime | None
    forgotten_at: datetime | None

    def __init__(self) -> None:
        """State comes from the events' ``apply`` alone (the annotations above document it)."""

    class Event(LedgerAggregate.Event):
        def envelope_subscriber_id(self) -> UUID | None:
            return self.originator_id

    class SubscriberRegistered(Event, LedgerAggregate.Created):
        """A customer was registered as a subscriber, with an email, a name and, optionally, a
        reference in another system."""

        email: str
        name: str
        external_ref: str | None

        def evolve(self, aggregate: Any) -> None:
            aggregate.email = self.email
            aggregate.name = self.name
            aggregate.external_ref = self.external_ref
            aggregate.payment_method = None
            aggregate.payment_methods = ()
            aggregate.registered_at = self.effective_at
            # Marketing messages are opt-out: a subscriber receives them until they say no.
            aggregate.marketing_consent = True
            aggregate.payment_method_expires_at = None
            aggregate.forgotten_at = None

    class SubscriberDetailsChanged(Event):
        """A subscriber's details changed: ``changes`` holds each changed detail with its new
        value, and a detail absent from it is as it was (``"external_ref": null`` means the
        reference was removed)."""

        # Why version 2: in version 1 a null external_ref meant "removed" or "unchanged",
        # and only `changed` told which. A change of meaning is a new class_version with an
        # upcaster; stored events are never rewritten (docs/events.md, "Versioning events").
        class_version = 2
        changes: dict[Detail, str | None]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 had ``changed`` (the names of the changed details) next to
            ``email``, ``name`` and ``external_ref``, always present and null when unchanged;
            stored version-1 events are read as version 2."""
            names = state.pop("changed")
            values = {detail: state.pop(detail) for detail in DETAILS}
            state["changes"] = {detail: values[detail] for detail in names}

        def evolve(self, aggregate: Any) -> None:
            for detail, value in (self.changes or {}).items():  # null once forgotten
                setattr(aggregate, detail, value)

    class PaymentMethodSet(Event):
        """The subscriber's payment method was set or replaced: the gateway and the token that
        their next charges use."""

        gateway: str
        token: str

        def evolve(self, aggregate: Any) -> None:
            aggregate.payment_method = {"gateway": self.gateway, "token": self.token}
            aggregate.payment_methods += ((self.effective_at, aggregate.payment_method),)
            aggregate.payment_method_expires_at = None

    class PaymentMethodExpiring(Event):
        """The payment provider announced that the subscriber's payment method (the
        ``gateway`` and ``token`` of their ``PaymentMethodSet``) stops working at
        ``expires_at`` (a card's end of validity). Charges go on being attempted with it
        until a new payment method is set."""

        gateway: str
        token: str
        expires_at: datetime

        def evolve(self, aggregate: Any) -> None:
            aggregate.payment_method_expires_at = self.expires_at

    class MarketingConsentChanged(Event):
        """The subscriber agreed (``consent`` true) or refused (false) to receive marketing
        messages: the renewal reminder and the win-back offer. Receipts and notices about
        their payments and subscriptions are sent either way."""

        consent: bool

        def evolve(self, aggregate: Any) -> None:
            aggregate.marketing_consent = self.consent

    class SubscriberForgotten(Event):
        """The subscriber was forgotten: their data key was destroyed, so their personal
        fields (e-mail, name, external reference, payment token, comments and reasons in
        words) read as null in every event, answer and message from now on; amounts, ids,
        dates and every figure are unchanged. No personal field is in this event."""

        def evolve(self, aggregate: Any) -> None:
            for detail in DETAILS:
                setattr(aggregate, detail, None)
            aggregate.payment_method = None
            aggregate.payment_methods += ((self.effective_at, None),)
            aggregate.forgotten_at = self.effective_at

    def payment_method_at(self, instant: datetime) -> dict[str, str | None] | None:
        """The payment method in effect at ``instant``; none once the subscriber is
        forgotten. A charge attempt is asked of the method in effect when it falls due, so
        an attempt asked again (its answer lost) goes to the same gateway and token under
        the same key, whatever was set since."""
        if self.forgotten_at is not None:
            return None
        method = None
        for effective, then in self.payment_methods:
            if effective > instant:
                break
            method = then
        return method

    @classmethod
    def register(
        cls,
        *,
        email: str,
        name: str,
        external_ref: str | None,
        effective_at: datetime,
        recorded_at: datetime,
    ) -> Subscriber:
        return cls._create(
            cls.SubscriberRegistered,
            timestamp=recorded_at,
            effective_at=effective_at,
            email=check_email(email),
            name=check_name(name, "name"),
            external_ref=check_external_ref(external_ref),
        )

    def change_details(
        self,
        changes: dict[str, str | None],
        *,
        effective_at: datetime,
        recorded_at: datetime,
    ) -> None:
        """Change e-mail, name or external_ref; fields absent from ``changes`` stay."""
        self.check_not_forgotten()
        unknown = set(changes) - set(DETAILS)
        if unknown:
            raise InvalidInput(f"unknown fields: {', '.join(sorted(unknown))}")
        values: dict[str, str | None] = {}
        if "email" in changes:
            values["email"] = check_email(changes["email"])  # type: ignore[arg-type]
        if "name" in changes:
            values["name"] = check_name(changes["name"], "name")  # type: ignore[arg-type]
        if "external_ref" in changes:
            values["external_ref"] = check_external_ref(changes["external_ref"])
        changed = {f: values[f] for f in sorted(values) if getattr(self, f) != values[f]}
        if not changed:
            raise EmptyChange("the details given are the subscriber's current details")
        self.check_effective_at(effective_at)
        self.trigger_event(
            self.SubscriberDetailsChanged,
            timestamp=recorded_at,
            effective_at=effective_at,
            changes=changed,
        )

    def change_marketing_consent(self, consent: bool, *, effective_at: datetime,
                                 recorded_at: datetime) -> bool:
        """Record the subscriber's answer; False (nothing recorded) when it is the one they
        gave last."""
        if not isinstance(consent, bool):
            raise InvalidInput("consent must be true or false")
        if consent == self.marketing_consent:
            return False
        self.check_effective_at(effective_at)
        self.trigger_event(self.MarketingConsentChanged, timestamp=recorded_at,
                           effective_at=effective_at, consent=consent)
        return True

    def payment_method_expiring(self, *, gateway: str, token: str, expires_at: datetime,
                                effective_at: datetime, recorded_at: datetime) -> bool:
        """Record the provider's notice that the current payment method expires; False
        when it is not the current one, or this expiry is already recorded."""
        current = self.payment_method
        if current is None or current != {"gateway": gateway, "token": token} \
                or self.payment_method_expires_at == expires_at:
            return False
        self.check_effective_at(effective_at)
        self.trigger_event(self.PaymentMethodExpiring, timestamp=recorded_at,
                           effective_at=effective_at, gateway=gateway, token=token,
                           expires_at=expires_at)
        return True

    def set_payment_method(
        self, *, gateway: str, token: str, effective_at: datetime, recorded_at: datetime
    ) -> None:
        """``gateway`` must already be checked against the configured gateways."""
        self.check_not_forgotten()
        check_reference(token, "token")
        self.check_effective_at(effective_at)
        self.trigger_event(
            self.PaymentMethodSet,
            timestamp=recorded_at,
            effective_at=effective_at,
            gateway=gateway,
            token=token,
        )

    def forget(self, *, effective_at: datetime, recorded_at: datetime) -> None:
        """Forget the subscriber (their key is destroyed as the event is saved)."""
        self.check_not_forgotten()
        self.check_effective_at(effective_at)
        self.trigger_event(self.SubscriberForgotten, timestamp=recorded_at,
                           effective_at=effective_at)

    def check_not_forgotten(self) -> None:
        if self.forgotten_at is not None:
            raise SubscriberIsForgotten(f"subscriber {self.id} was forgotten at"
                                      f" {self.forgotten_at.isoformat()}")
