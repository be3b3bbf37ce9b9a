"""The subscriber: who pays, and how."""

from __future__ import annotations

from typing import Any

import pytest
from support.factories import RECORDED_AT, event_names, replay, state, utc

from subledger.domain.errors import (
    EffectiveAtOutOfOrder,
    EmptyChange,
    InvalidInput,
    SubscriberIsForgotten,
)
from subledger.domain.personal import PERSONAL_FIELDS
from subledger.domain.subscriber import Subscriber


def register(**overrides: Any) -> Subscriber:
    fields: dict[str, Any] = {
        "email": "ada@example.com", "name": "Ada", "external_ref": None,
        "effective_at": utc(2026, 1, 1), "recorded_at": RECORDED_AT,
    }
    fields.update(overrides)
    return Subscriber.register(**fields)


def test_a_registered_subscriber_has_no_payment_method() -> None:
    subscriber = register(external_ref="crm-42")

    assert (subscriber.email, subscriber.name, subscriber.external_ref) == ("ada@example.com", "Ada", "crm-42")
    assert subscriber.payment_method is None
    assert subscriber.registered_at == utc(2026, 1, 1)


@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "ada@example", "a da@example.com"])
def test_an_email_that_is_not_an_address_is_refused(email: str) -> None:
    with pytest.raises(InvalidInput):
        register(email=email)


@pytest.mark.parametrize("name", ["", "  ", "x" * 201])
def test_a_blank_or_overlong_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        register(name=name)


def test_changing_details_records_only_the_fields_that_changed() -> None:
    subscriber = register()

    subscriber.change_details({"email": "ada@lovelace.dev", "name": "Ada"},
                              effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)

    event = subscriber.collect_events()[-1]
    assert event.changes == {"email": "ada@lovelace.dev"}
    assert event.schema_version == 2
    assert (subscriber.email, subscriber.name) == ("ada@lovelace.dev", "Ada")


def test_removing_the_external_ref_is_recorded_as_a_change_to_null() -> None:
    subscriber = register(external_ref="crm-1")

    subscriber.change_details({"external_ref": None, "name": "Ada L"},
                              effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)

    assert subscriber.collect_events()[-1].changes == {"external_ref": None, "name": "Ada L"}
    assert (subscriber.external_ref, subscriber.name) == (None, "Ada L")


def test_a_version_1_details_change_is_read_as_version_2() -> None:
    removed = {"changed": ["external_ref"], "email": None, "name": None, "external_ref": None,
               "effective_at": utc(2026, 2, 1)}
    renamed = {"changed": ["name"], "email": None, "name": "Ada L", "external_ref": None}

    Subscriber.SubscriberDetailsChanged.upcast_v1_v2(removed)
    Subscriber.SubscriberDetailsChanged.upcast_v1_v2(renamed)

    assert removed == {"changes": {"external_ref": None}, "effective_at": utc(2026, 2, 1)}
    assert renamed == {"changes": {"name": "Ada L"}}


def test_changing_details_to_the_current_ones_is_an_empty_change() -> None:
    subscriber = register()

    with pytest.raises(EmptyChange):
        subscriber.change_details({"name": "Ada"}, effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)


def test_clearing_the_external_ref_is_a_change() -> None:
    subscriber = register(external_ref="crm-42")

    subscriber.change_details({"external_ref": None}, effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)

    assert subscriber.external_ref is None


def test_unknown_detail_fields_are_refused() -> None:
    with pytest.raises(InvalidInput):
        register().change_details({"phone": "123"}, effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)


def test_setting_a_payment_method_replaces_the_previous_one() -> None:
    subscriber = register()

    for token in ("tok_1", "tok_2"):
        subscriber.set_payment_method(gateway="fake", token=token, effective_at=utc(2026, 2, 1),
                                      recorded_at=RECORDED_AT)

    assert subscriber.payment_method == {"gateway": "fake", "token": "tok_2"}


@pytest.mark.parametrize("token", ["", "   ", "t" * 256])
def test_a_blank_or_overlong_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidInput):
        register().set_payment_method(gateway="fake", token=token, effective_at=utc(2026, 2, 1),
                                      recorded_at=RECORDED_AT)


def test_a_subscriber_command_earlier_than_the_last_event_is_out_of_order() -> None:
    subscriber = register(effective_at=utc(2026, 2, 1))

    with pytest.raises(EffectiveAtOutOfOrder):
        subscriber.set_payment_method(gateway="fake", token="tok_1", effective_at=utc(2026, 1, 31),
                                      recorded_at=RECORDED_AT)


def test_a_subscriber_rebuilt_from_its_events_is_the_same() -> None:
    subscriber = register()
    subscriber.change_details({"name": "Ada L."}, effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)
    subscriber.set_payment_method(gateway="fake", token="tok_1", effective_at=utc(2026, 2, 2),
                                  recorded_at=RECORDED_AT)
    events = subscriber.collect_events()

    assert event_names(events) == ["SubscriberRegistered", "SubscriberDetailsChanged", "PaymentMethodSet"]
    assert state(replay(events)) == state(subscriber)


def test_a_forgotten_subscriber_has_no_details_and_no_payment_method() -> None:
    subscriber = register(external_ref="crm-42")
    subscriber.set_payment_method(gateway="sandbox", token="tok_visa", effective_at=utc(2026, 1, 2),
                                  recorded_at=RECORDED_AT)

    subscriber.forget(effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)

    assert (subscriber.email, subscriber.name, subscriber.external_ref) == (None, None, None)
    assert subscriber.payment_method is None and subscriber.forgotten_at == utc(2026, 2, 1)
    assert event_names(subscriber.collect_events())[-1] == "SubscriberForgotten"


def test_a_forgotten_subscriber_refuses_every_change_and_a_second_forget() -> None:
    subscriber = register()
    subscriber.forget(effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)
    at = {"effective_at": utc(2026, 3, 1), "recorded_at": RECORDED_AT}

    for attempt in (lambda: subscriber.forget(**at),
                    lambda: subscriber.change_details({"name": "Someone"}, **at),
                    lambda: subscriber.set_payment_method(gateway="sandbox", token="tok_visa", **at)):
        with pytest.raises(SubscriberIsForgotten):
            attempt()


def test_events_whose_personal_fields_were_erased_still_fold() -> None:
    """Read after the key was shredded, every personal field is null: the fold must not break."""
    subscriber = register()
    subscriber.change_details({"name": "Ada King"}, effective_at=utc(2026, 1, 2), recorded_at=RECORDED_AT)
    subscriber.set_payment_method(gateway="sandbox", token="tok_visa", effective_at=utc(2026, 1, 3),
                                  recorded_at=RECORDED_AT)
    subscriber.forget(effective_at=utc(2026, 2, 1), recorded_at=RECORDED_AT)
    events = subscriber.collect_events()
    for event in events:
        for name in PERSONAL_FIELDS.get(type(event).__name__, ()):
            object.__setattr__(event, name, None)

    folded = replay(events)

    assert (folded.email, folded.name, folded.payment_method) == (None, None, None)
    assert folded.registered_at == utc(2026, 1, 1)


def test_every_personal_field_names_a_field_of_its_event() -> None:
    import dataclasses

    from subledger.contract.envelope import EVENT_TYPES

    for type_name, names in PERSONAL_FIELDS.items():
        fields = {f.name for f in dataclasses.fields(EVENT_TYPES[type_name])}
        assert names <= fields, type_name
