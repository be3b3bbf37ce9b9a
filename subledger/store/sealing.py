"""The store's mapper: an event's personal fields sealed with its subscriber's data key.

The library's ``Mapper`` turns a domain event into the stored bytes (transcoder, then an
optional compressor and cipher over the whole state). Its cipher hook takes one key for
every event, so it cannot make one subscriber's data unreadable while leaving the rest. Here
the personal fields of an event (``domain.personal.PERSONAL_FIELDS``) are taken out of its
state before encoding and replaced by one entry::

    "_personal_": [<subscriber id hex>, <base64 of nonce || AES-GCM ciphertext>, [<names>]]

sealed with the subscriber's data key (:mod:`.data_keys`), the event's id and version as
associated data. Everything else (amounts, ids, dates, types) stays readable JSON, and the
stored bytes are written once and never rewritten: the audit's leaves cover them, so a
forgotten subscriber's events still verify. Reading unseals the entry back into the fields
before any upcaster runs; when the subscriber's key was shredded the fields read as null.

Without a key-encryption key nothing is sealed (the fields are stored in clear, as before
this module existed), and a sealed entry cannot be read (:class:`KeyUnavailable`). Whatever
the key, a personal field written about a subscriber already forgotten is stored as null.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

from cryptography.exceptions import InvalidTag
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

from subledger.domain.personal import PERSONAL_FIELDS

from .data_keys import KeyRing, KeyTable, KeyUnavailable, WrappedKey, seal, unseal

SEALED = "_personal_"
CLEAR = b""
"""No key-encryption key: the subscriber's fields are stored in clear."""


def personal_values(event: Any) -> dict[str, Any]:
    """The personal fields of ``event`` that hold a value (a null holds nothing to hide)."""
    names = PERSONAL_FIELDS.get(type(event).__name__)
    if not names:
        return {}
    state = vars(event)
    return {name: state[name] for name in sorted(names) if state.get(name) is not None}


def _aad(originator_id: Any, version: int) -> bytes:
    return f"{UUID(str(originator_id))}/{version}".encode()


class SealingMapper(Mapper[UUID]):
    """``Mapper`` that seals personal fields per subscriber (see the module's doc).

    ``ring`` is None without ``SUBLEDGER_CIPHER_KEY``; ``table`` is attached once the
    recorder exists (the library builds the mapper first)."""

    def __init__(self, transcoder: Transcoder, ring: KeyRing | None) -> None:
        super().__init__(transcoder)
        self.ring = ring
        self.table: KeyTable | None = None
        self._writing = threading.local()
        self._reading = threading.local()
        self._classes: dict[str, tuple[type[Any], int]] = {}

    # -- writing --------------------------------------------------------------------------

    def prepare(self, events: Iterable[Any]) -> list[WrappedKey]:
        """Ready the data keys the events about to be saved by this thread seal with; the
        rows to insert with them (keys made now, for subscribers that had none)."""
        keys: dict[UUID, bytes | None] = {}
        created: list[WrappedKey] = []
        for event in events:
            subscriber = event.envelope_subscriber_id()
            if subscriber is None or subscriber in keys or not personal_values(event):
                continue
            # A subscriber created by this very save has no key row yet; were one there, the
            # save would fail anyway (their first event's version is taken): not read.
            new = event.originator_id == subscriber and event.originator_version == 1
            row = None if new else self._row(subscriber)
            if row is not None and row.wrapped is None:
                keys[subscriber] = None
            elif self.ring is None:
                keys[subscriber] = CLEAR
            elif row is None:
                keys[subscriber], new_row = self.ring.new(subscriber)
                created.append(new_row)
            else:
                keys[subscriber] = self.ring.unwrap(row)
        self._writing.keys = keys
        return created

    def writing_key(self, subscriber_id: UUID) -> bytes | None:
        """The data key this thread's save seals ``subscriber_id``'s fields with (None: none,
        or they are stored in clear)."""
        key = getattr(self._writing, "keys", {}).get(subscriber_id)
        return None if key == CLEAR else key

    def data_key(self, subscriber_id: UUID) -> bytes | None:
        """The subscriber's data key; None without one, or once it was shredded."""
        row = self._row(subscriber_id)
        if row is None or row.wrapped is None or self.ring is None:
            return None
        return self.ring.unwrap(row)

    def finish(self) -> None:
        self._writing.keys = {}

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        personal = personal_values(domain_event)
        if not personal:
            return super().to_stored_event(domain_event)
        subscriber = cast(Any, domain_event).envelope_subscriber_id()
        keys: dict[UUID, bytes | None] = getattr(self._writing, "keys", {})
        if subscriber not in keys:
            raise RuntimeError("SealingMapper.prepare() was not called for these events")
        key = keys[subscriber]
        if key == CLEAR:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        for name in personal:
            del state[name]
        originator_id, version = state.pop("originator_id"), state.pop("originator_version")
        if key is None:  # forgotten: what is written about them now is erased at once
            state.update(dict.fromkeys(personal))
        else:
            sealed = seal(key, self.transcoder.encode(personal), _aad(originator_id, version))
            state[SEALED] = [subscriber.hex, base64.b64encode(sealed).decode(), list(personal)]
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return StoredEvent(originator_id=originator_id, originator_version=version,
                           topic=get_topic(type(domain_event)),
                           state=self.transcoder.encode(state))

    # -- reading --------------------------------------------------------------------------

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """The library's ``Mapper.to_domain_event`` (this mapper has no cipher and no
        compressor), with the personal fields unsealed before any upcaster runs. Each
        topic's class is looked up once: every reader of the log makes each event here, and
        the library's look-ups per event were a third of the time beside decoding."""
        topic = stored_event.topic
        cls, class_version = self.event_class(topic)
        try:
            state: dict[str, Any] = self.transcoder.decode(stored_event.state)
        except Exception as e:
            raise MapperDeserialisationError(
                f"Failed to deserialise state of stored event with topic '{topic}',"
                f" originator_id '{stored_event.originator_id}' and originator_version"
                f" {stored_event.originator_version}: {e}") from e
        if SEALED in state:
            state.update(self._unsealed(state.pop(SEALED), stored_event))
        originator_id = stored_event.originator_id
        if type(originator_id) is str:  # an id read as text, as the library allows
            originator_id = find_id_convertor(cls, str)(originator_id)
        state["originator_id"] = originator_id
        state["originator_version"] = stored_event.originator_version
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return cast(DomainEventProtocol[UUID], domain_event)

    def event_class(self, topic: str) -> tuple[type[Any], int]:
        """The event class stored under ``topic`` and its ``class_version``, each topic
        resolved once."""
        found = self._classes.get(topic)
        if found is None:
            cls = resolve_topic(topic)
            found = self._classes[topic] = (cls, getattr(cls, "class_version", 1))
        return found

    @contextmanager
    def one_read(self) -> Iterator[None]:
        """Within, each subscriber's data key is read and opened once per thread (the
        outermost scope counts). For events selected together (an aggregate's load, a page
        of the log): a key read once per event costs a query per event, and a key shredded
        between two of those queries would leave one load with some events readable and
        others not."""
        if getattr(self._reading, "keys", None) is not None:
            yield
            return
        self._reading.keys = {}
        try:
            yield
        finally:
            self._reading.keys = None

    def _unsealed(self, entry: list[Any], stored: StoredEvent) -> dict[str, Any]:
        subscriber_hex, sealed, names = entry
        key = self._reading_key(UUID(subscriber_hex), stored)
        if key is None:
            return dict.fromkeys(names)  # shredded: the subscriber was forgotten
        try:
            plain = unseal(key, base64.b64decode(sealed),
                           _aad(stored.originator_id, stored.originator_version))
        except InvalidTag:
            raise MapperDeserialisationError(
                f"the personal fields of event {stored.originator_id}/{stored.originator_version}"
                " do not open with their subscriber's key: they were altered or moved") from None
        return cast(dict[str, Any], self.transcoder.decode(plain))

    def _reading_key(self, subscriber_id: UUID, stored: StoredEvent) -> bytes | None:
        """The subscriber's opened data key (None: shredded), from the read's scope if one
        is open and has it."""
        keys: dict[UUID, bytes | None] | None = getattr(self._reading, "keys", None)
        if keys is not None and subscriber_id in keys:
            return keys[subscriber_id]
        row = self._row(subscriber_id)
        if row is None or row.wrapped is None:
            key = None
        elif self.ring is None:
            raise KeyUnavailable(
                f"event {stored.originator_id}/{stored.originator_version} holds personal data"
                " sealed under SUBLEDGER_CIPHER_KEY, which is not set")
        else:
            key = self.ring.unwrap(row)
        if keys is not None:
            keys[subscriber_id] = key
        return key

    def _row(self, subscriber_id: UUID) -> WrappedKey | None:
        if self.table is None:
            raise RuntimeError("the keys table is attached after the recorder is built")
        return self.table.select_data_key(subscriber_id)
