"""Envelopes made straight from the stored state read exactly as the domain event's envelope
(``to_envelope(position, mapper.to_domain_event(stored))``, the definition), key for key and
byte for byte, on any stored state; and the events they cannot read exactly take that long
way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from hypothesis import given, settings
from hypothesis import strategies as st
from support.ledger import store_v1_details_change
from support.personal import CIPHER_KEY

from subledger.bootstrap import build_ledger
from subledger.commands.demo import generate
from subledger.commands.ledger import Ledger
from subledger.config import Settings
from subledger.contract.envelope import to_envelope
from subledger.domain.plans import Plan
from subledger.domain.portal_session import PortalSession
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription import Subscription
from subledger.domain.subscription_events import SubscriptionEvent
from subledger.store.envelopes import EnvelopeMaker
from subledger.store.sealing import SEALED, SealingMapper

AGGREGATE = UUID("0b6f9c1e-3d2a-4f5b-8c7d-1e2f3a4b5c6d")
TOPICS = {
    "subscription": get_topic(Subscription.SubscriptionStarted),
    "subscriber (version 2)": get_topic(Subscriber.SubscriberDetailsChanged),
    "plan": get_topic(Plan.PlanArchived),
    "portal session": get_topic(PortalSession.PortalSessionRevoked),
}


def _long_way(mapper: SealingMapper, stored: Notification) -> dict[str, Any]:
    return to_envelope(stored.id, mapper.to_domain_event(stored))  # type: ignore[arg-type]


def _read_alike(mapper: SealingMapper, stored: Notification) -> EnvelopeMaker:
    """Assert both ways read ``stored`` alike (the same bytes, or the same error); the maker
    used, to tell which way it went."""
    maker = EnvelopeMaker(mapper)
    try:
        expected: bytes | type[BaseException] = orjson.dumps(_long_way(mapper, stored))
    except Exception as error:  # noqa: BLE001 - the same failure is part of reading alike
        expected = type(error)
    try:
        made: bytes | type[BaseException] = orjson.dumps(maker.envelope(stored))
    except Exception as error:  # noqa: BLE001
        made = type(error)
    assert made == expected
    return maker


def _stored(state: dict[str, Any], topic: str = TOPICS["subscription"], *, raw: bytes | None = None,
            aggregate_id: Any = AGGREGATE) -> Notification:
    return Notification(id=7, originator_id=aggregate_id, originator_version=3, topic=topic,
                        state=raw if raw is not None else json.dumps(state).encode())


def _at(text: str) -> dict[str, str]:
    return {"_type_": "datetime_iso", "_data_": text}


def _id(text: str) -> dict[str, str]:
    return {"_type_": "uuid_hex", "_data_": text}


CREATED = {"timestamp": _at("2026-03-01T10:00:00.250000+00:00"), "effective_at": _at("2026-03-01T00:00:00+00:00"),
           "originator_topic": "subledger.domain.subscription:Subscription",
           "subscriber_id": _id(AGGREGATE.hex), "plan_id": "basic", "amount": 1900,
           "discount": {"_type_": "decimal_str", "_data_": "12.50"}, "lines": [_at("2026-04-01T00:00:00+00:00")]}


@pytest.fixture(scope="module")
def mapper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SealingMapper]:
    path = tmp_path_factory.mktemp("envelopes") / "ledger.sqlite"
    ledger = build_ledger(Settings.from_env({"SUBLEDGER_DATABASE_URL": f"sqlite:///{path}"}))
    yield ledger.mapper  # type: ignore[misc]
    ledger.close()


# -- a whole book ------------------------------------------------------------------------------


@pytest.fixture
def book(settings: Settings) -> Iterator[Ledger]:
    """A demo book with sealed personal fields, a forgotten subscriber and an event stored by
    an older version of its class."""
    ledger = build_ledger(replace(settings, cipher_key=CIPHER_KEY))
    try:
        generate(ledger, subscribers=12, months=3, seed=4)
        store_v1_details_change(ledger)
        [(_, forgotten)] = ledger.event_log.originators("SubscriberRegistered", 0, 1)
        ledger.subscribers.forget(forgotten)
        yield ledger
    finally:
        ledger.close()


def _long_way_only(notifications: list[Notification]) -> int:
    """How many of the events can only be read the long way: sealed personal fields, or
    stored by an older version of their class."""
    return sum(SEALED.encode() in n.state
               or (n.topic.endswith("SubscriberDetailsChanged") and b'"class_version"' not in n.state)
               for n in notifications)


def test_every_event_of_a_book_reads_the_same_straight_from_its_stored_state(book: Ledger) -> None:
    notifications = book.recorder.select_notifications(start=1, limit=100_000)
    maker = EnvelopeMaker(book.mapper)  # type: ignore[arg-type]

    with book.mapper.one_read():  # type: ignore[attr-defined]
        for stored in notifications:
            assert orjson.dumps(maker.envelope(stored)) == orjson.dumps(_long_way(book.mapper, stored))  # type: ignore[arg-type]

    assert 0 < maker.slow == _long_way_only(notifications) < len(notifications) / 2


def test_the_log_pages_serve_the_envelopes_made_from_the_stored_state(book: Ledger) -> None:
    page = book.event_log.read(0, 500)

    notifications = book.recorder.select_notifications(start=1, limit=500)
    with book.mapper.one_read():  # type: ignore[attr-defined]
        long_way = [_long_way(book.mapper, n) for n in notifications]  # type: ignore[arg-type]
    assert orjson.dumps(page.items) == orjson.dumps(long_way)
    assert book.event_log.envelopes.slow == _long_way_only(notifications)


# -- stored states in every form ---------------------------------------------------------------


def test_values_in_another_form_are_converted_without_leaving_the_straight_way(mapper: SealingMapper) -> None:
    state = {**CREATED, "timestamp": _at("2026-03-01T11:00:00+01:00"),
             "effective_at": _at("2026-03-01T00:00:00.000000+00:00"),
             "subscriber_id": _id(AGGREGATE.hex.upper()), "other": _id(str(AGGREGATE)),
             "first": _at("1969-12-31T12:00:00+00:00"), "week": _at("2026-W01-1T10:11:12+00:00"),
             "basic": _at("2026-01-01T101112.5+00:00"), "comma": _at("2026-01-01T10:11:12,123456+00:00"),
             "spaced": _at("2026-01-01 10:11:12+00:00"), "digits": _at("2026-01-01T10:11:12.1234567+00:00")}

    maker = _read_alike(mapper, _stored(state))

    assert maker.slow == 0


@pytest.mark.parametrize("state", [
    pytest.param({**CREATED, "amount": 2**70}, id="an integer beyond 64 bits"),
    pytest.param({**CREATED, "amount": 19.5}, id="a float"),
    pytest.param({**CREATED, "plan_id": {"_type_": "mystery", "_data_": "x"}}, id="an unknown tag"),
    pytest.param({**CREATED, "subscriber_id": _id("-" + AGGREGATE.hex[1:])}, id="a negative id"),
    pytest.param({**CREATED, "effective_at": _at("2026-02-30T00:00:00+00:00")}, id="30 February"),
    pytest.param({**CREATED, "effective_at": _at("2300-01-01T00:00:00+00:00")}, id="an instant out of range"),
    pytest.param({k: v for k, v in CREATED.items() if k != "subscriber_id"}, id="no subscriber"),
    pytest.param({k: v for k, v in CREATED.items() if k != "timestamp"}, id="no timestamp"),
    pytest.param({**CREATED, SEALED: ["00", "AA", ["email"]]}, id="sealed fields"),
])
def test_states_the_straight_way_cannot_read_exactly_take_the_long_way(
    mapper: SealingMapper, state: dict[str, Any],
) -> None:
    maker = _read_alike(mapper, _stored(state))

    assert maker.slow == 1


def test_an_event_stored_by_an_older_class_version_is_upcast_the_long_way(mapper: SealingMapper) -> None:
    state = {"timestamp": _at("2026-03-01T10:00:00+00:00"), "effective_at": _at("2026-03-01T00:00:00+00:00"),
             "changed": {"name": "Ada L"}}

    maker = _read_alike(mapper, _stored(state, TOPICS["subscriber (version 2)"]))

    assert maker.slow == 1


def test_an_aggregate_id_read_as_text_takes_the_long_way(mapper: SealingMapper) -> None:
    maker = _read_alike(mapper, _stored(CREATED, aggregate_id=str(AGGREGATE)))

    assert maker.slow == 1


# -- any stored state --------------------------------------------------------------------------

_OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))])
_IN_RANGE = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2199, 12, 30), timezones=st.just(UTC))
_INSTANTS = st.one_of(
    _IN_RANGE, _IN_RANGE, _IN_RANGE, _IN_RANGE,
    st.datetimes(min_value=datetime(1969, 12, 30), max_value=datetime(1970, 1, 2), timezones=_OFFSETS),
    st.datetimes(min_value=datetime(2199, 12, 30), max_value=datetime(2200, 1, 3), timezones=_OFFSETS),
    st.datetimes(min_value=datetime(1, 1, 2), timezones=_OFFSETS),
).map(lambda instant: _at(instant.isoformat()))
_IDS = st.uuids().flatmap(lambda u: st.sampled_from([u.hex, u.hex, u.hex.upper(), str(u)])).map(_id)
_DECIMALS = st.decimals(allow_nan=False, allow_infinity=False).map(
    lambda d: {"_type_": "decimal_str", "_data_": str(d)})
_EXACT = st.one_of(st.text(max_size=8), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.booleans(),
                   st.none(), _INSTANTS, _IDS, _DECIMALS)
_ODD = st.one_of(st.integers(min_value=2**64), st.floats(allow_nan=False, allow_infinity=False),
                 st.just({"_type_": "mystery", "_data_": "x"}), st.just(_at("2026-02-30T00:00:00+00:00")))
_LEAVES = st.one_of(_EXACT, _EXACT, _EXACT, _EXACT, _ODD)
"""Mostly values read exactly straight from the stored state, now and then one that is not."""
_VALUES = st.recursive(_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "_type_", "_data_"]), inner, max_size=3)),
    max_leaves=6)


@st.composite
def _states(draw: st.DrawFn) -> dict[str, Any]:
    state: dict[str, Any] = draw(st.dictionaries(st.sampled_from(["plan_id", "amount", "terms", "note"]),
                                                 _VALUES, max_size=4))
    for name, values in (("timestamp", _INSTANTS), ("effective_at", _INSTANTS),
                         ("subscriber_id", st.one_of(_IDS, st.none()))):
        if not (draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())):  # now and then missing
            state[name] = draw(values)
    if draw(st.booleans()) and draw(st.booleans()):
        state["class_version"] = draw(st.integers(1, 3))
    return state


@settings(max_examples=300, deadline=None)
@given(state=_states(), topic=st.sampled_from(sorted(TOPICS.values())))
def test_any_stored_state_reads_the_same_both_ways(mapper: SealingMapper, state: dict[str, Any],
                                                   topic: str) -> None:
    _read_alike(mapper, _stored(state, topic))


def test_the_subscriber_sources_cover_the_event_classes_of_the_book() -> None:
    from subledger.contract.envelope import EVENT_TYPES
    from subledger.store.envelopes import subscriber_source

    unknown = [name for name, cls in EVENT_TYPES.items() if subscriber_source(cls) is None]

    assert unknown == []
    assert subscriber_source(SubscriptionEvent) is not None


