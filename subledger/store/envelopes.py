"""Envelopes made straight from the stored state, without a domain event in between.

Every reader of the log's pages (the projections, ``GET /events``, a subscriber's history)
wants the public envelope, not the domain event. Made the long way, each stored state is
decoded into objects (ids, instants, decimals), set on a domain event, and written back to
text by :func:`~subledger.contract.envelope.to_envelope`: for an instant, a parse and an
``isoformat`` whose text is the text that was stored, but for its suffix. Here the envelope
is made from the stored JSON: the library writes an id as its 32 hex digits, an instant as
its ``isoformat()`` and a decimal as its ``str``, so each value's text is cut from the stored
text once it is known to be exactly what the long way would write.

The long way stays the definition. An event goes through it whenever this module cannot be
sure it would read the same: a class with a newer version than the stored one (upcasters
run), sealed personal fields, a float in the state (maybe an integer beyond 64 bits), an
unknown tag, a missing field, a class whose subscriber is found some other way, or any
error. A single value in another form (an instant out of UTC or of range, an id in upper
case) is converted the way the long way converts it, by the same functions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Notification

from subledger.contract.envelope import event_id_text, to_envelope
from subledger.domain.base import EVENT_ENVELOPE_FIELDS, LedgerAggregate
from subledger.domain.portal_session import PortalSession
from subledger.domain.subscriber import Subscriber
from subledger.domain.subscription_events import SubscriptionEvent
from subledger.domain.time import isoformat

from .sealing import SEALED, SealingMapper
from .transcoder import _uuid

if TYPE_CHECKING:
    from .scan import StoredRow


class _Slow(Exception):
    """The event must be read the long way."""


_NONE, _ORIGINATOR, _MEMBER, _OPTIONAL_MEMBER = range(4)

_SUBSCRIBER_SOURCES: dict[Callable[..., Any], int] = {
    LedgerAggregate.Event.envelope_subscriber_id: _NONE,
    Subscriber.Event.envelope_subscriber_id: _ORIGINATOR,
    SubscriptionEvent.envelope_subscriber_id: _MEMBER,
    PortalSession.Event.envelope_subscriber_id: _OPTIONAL_MEMBER,
}
"""Where each known ``envelope_subscriber_id`` finds the subscriber: nowhere, the event's
aggregate id, its ``subscriber_id`` member, or that member if it has one."""


def subscriber_source(cls: type[Any]) -> int | None:
    """How the envelope of an event of ``cls`` finds its subscriber in the stored state
    (None: a method this module does not know, so the long way)."""
    return _SUBSCRIBER_SOURCES.get(getattr(cls, "envelope_subscriber_id", None))  # type: ignore[arg-type]


_SKIPPED = EVENT_ENVELOPE_FIELDS | {"class_version"}
"""Stored members that are not the envelope's ``data``."""


_LOWER_HEX = "0123456789abcdef"


@lru_cache(maxsize=1 << 12)
def instant_text(stored: str) -> str:
    """The envelope's text of an instant stored as ``stored`` (the library's
    ``isoformat()``): what ``isoformat(datetime.fromisoformat(stored))`` gives."""
    # Cached: a log repeats its instants (each period's bounds in every event of the period,
    # a billing run's in every renewal of the day), and the text is a pure function of them.
    size = len(stored)
    if ((size == 25 or (size == 32 and stored[19] == "." and stored[20:26] != "000000"))
            and stored[10] == "T" and stored.endswith("+00:00")
            and stored[4] == "-" and stored[7] == "-"
            and stored[13] == ":" and stored[16] == ":"
            and "1970" <= stored[:4] < "2200"):
        datetime.fromisoformat(stored)  # a date that exists, a time within the day
        return stored[:-6] + "Z"
    return isoformat(datetime.fromisoformat(stored))


@lru_cache(maxsize=1 << 12)
def id_text(stored: str) -> str:
    """The envelope's text of an id stored as ``stored``: what ``str(UUID(stored))`` gives."""
    # Cached: a subscriber's id is in each of their events, a plan's in each subscription's.
    if len(stored) == 32 and not stored.strip(_LOWER_HEX):
        return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"
    return str(_uuid(stored))


def _decimal_text(stored: str) -> str:
    return str(Decimal(stored))


_TAGS: dict[str, Callable[[str], str]] = {
    "uuid_hex": id_text, "datetime_iso": instant_text, "decimal_str": _decimal_text}
"""The library's tagged values (``{"_type_": name, "_data_": text}``), as envelope text."""


def _value(stored: Any) -> Any:
    """A stored JSON value as the envelope writes it."""
    kind = type(stored)
    if kind is str or kind is int or kind is bool or stored is None:
        return stored
    if kind is dict:
        if len(stored) == 2 and "_type_" in stored and "_data_" in stored:
            convert = _TAGS.get(stored["_type_"])
            if convert is None:
                raise _Slow
            return convert(stored["_data_"])
        return {key: _value(item) for key, item in stored.items()}
    if kind is list:
        return [_value(item) for item in stored]
    raise _Slow  # a float: an integer orjson could not read exactly, or a float


def _tagged(state: dict[str, Any], name: str, tag: str) -> str:
    """The text of a tagged member that must be there."""
    member = state.get(name)
    if type(member) is not dict or len(member) != 2 or member.get("_type_") != tag:
        raise _Slow
    return _TAGS[tag](member["_data_"])


class EnvelopeMaker:
    """Makes the envelope of each stored event (see the module's doc). ``slow`` counts the
    events that were read the long way."""

    def __init__(self, mapper: SealingMapper) -> None:
        self.mapper = mapper
        self.slow = 0
        self._kinds: dict[str, tuple[str, int, int | None]] = {}
        """topic -> the envelope's ``type``, the class version, the subscriber's source."""

    def envelope(self, stored: StoredRow | Notification) -> dict[str, Any]:
        """The envelope of the event stored at ``stored.id`` in the global order."""
        try:
            return self._straight(stored)
        except Exception:  # noqa: BLE001 - whatever it was, the long way decides
            self.slow += 1
            event = self.mapper.to_domain_event(stored)
            return to_envelope(stored.id, event)  # type: ignore[arg-type]

    def _straight(self, stored: StoredRow | Notification) -> dict[str, Any]:
        kind = self._kinds.get(stored.topic)
        if kind is None:
            cls, version = self.mapper.event_class(stored.topic)
            kind = self._kinds[stored.topic] = (cls.__name__, version, subscriber_source(cls))
        name, class_version, source = kind
        aggregate_id = stored.originator_id
        if source is None or type(aggregate_id) is not UUID:
            raise _Slow
        state = orjson.loads(stored.state)
        if type(state) is not dict or SEALED in state or state.get("class_version", 1) != class_version:
            raise _Slow
        version = stored.originator_version
        aggregate = str(aggregate_id)
        return {
            "position": stored.id,
            "event_id": event_id_text(aggregate, version),
            "type": name,
            "schema_version": class_version,
            "subscriber_id": self._subscriber(source, aggregate, state),
            "aggregate_id": aggregate,
            "aggregate_version": version,
            "recorded_at": _tagged(state, "timestamp", "datetime_iso"),
            "effective_at": _tagged(state, "effective_at", "datetime_iso"),
            "data": {key: item if type(item) is str else _value(item)
                     for key, item in state.items() if key not in _SKIPPED},
        }

    @staticmethod
    def _subscriber(source: int, aggregate: str, state: dict[str, Any]) -> str | None:
        if source == _NONE:
            return None
        if source == _ORIGINATOR:
            return aggregate
        if "subscriber_id" not in state:
            if source == _MEMBER:
                raise _Slow  # the long way fails on it, and says why
            return None
        if state["subscriber_id"] is None:
            return None
        return _tagged(state, "subscriber_id", "uuid_hex")
