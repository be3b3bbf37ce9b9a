"""The store's transcoder: the library's JSON encoding, read back faster.

Every reader of the log (the projections, the relay, a replay, a command loading an
aggregate) decodes each stored state. The library's ``JSONTranscoder`` parses with the
standard library and calls a Python hook for every JSON object, which is most of a replay's
time. Here the bytes are parsed by orjson and the tagged values (``{"_type_": ...,
"_data_": ...}``: ids, instants, decimals) are revived in one walk that descends only into
objects and arrays, innermost first as the library's hook does. Encoding is the library's,
unchanged, so the stored bytes are the same bytes (the audit's leaves cover them). orjson
reads an integer beyond 64 bits as a float, and refuses some states the library accepts: a
state in which orjson finds a float (a big integer, or a float the library wrote: the ledger
writes none, money being integers) or that orjson refuses is read by the library's own
decoder, so every state the library could read is still read alike. Finding the float in the
walk costs nothing the walk did not already do; a scan of the bytes for long numbers before
parsing cost a fifth of the decoding.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, SafeUUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)


def _uuid(text: str) -> UUID:
    """``UUID(text)``, made without its constructor's parsing for the 32 hex digits the
    library writes (a third of the time of reading a state went to that constructor)."""
    if len(text) != 32:
        return UUID(text)
    value = int(text, 16)
    if value < 0:
        raise ValueError("badly formed hexadecimal UUID string")
    made = object.__new__(UUID)
    object.__setattr__(made, "int", value)
    object.__setattr__(made, "is_safe", SafeUUID.unknown)
    return made


_PLAIN: dict[type[Transcoding], Callable[[Any], Any]] = {
    UUIDAsHex: _uuid, DatetimeAsISO: datetime.fromisoformat, DecimalAsStr: Decimal}
"""The library's own transcodings, as the constructors their ``decode`` calls (the same
result, without a method call and an assertion per value)."""


class LedgerTranscoder(JSONTranscoder):
    """``JSONTranscoder`` with orjson's parser on the read path."""

    def __init__(self) -> None:
        super().__init__()
        self._decoders: dict[str, Callable[[Any], Any]] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        self._decoders[transcoding.name] = _PLAIN.get(type(transcoding), transcoding.decode)

    def decode(self, data: bytes) -> Any:
        try:
            parsed = orjson.loads(data)
            if type(parsed) is dict:
                return self._revive_object(parsed)
            return self._revive(parsed)
        except (orjson.JSONDecodeError, _FloatFound):
            return super().decode(data)

    def _revive(self, value: Any) -> Any:
        """Any JSON value, its tagged values revived."""
        kind = type(value)
        if kind is dict:
            return self._revive_object(value)
        if kind is list:
            return [self._revive(item) if type(item) in _NOT_PLAIN else item for item in value]
        if kind is float:
            raise _FloatFound
        return value

    def _revive_object(self, value: dict[str, Any]) -> Any:
        """A JSON object: a tagged value, or an object whose members are revived in place.
        A member that is a tagged string (an id, an instant, a decimal: most of them) is
        decoded here, without a call per member."""
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return self._decoded(value["_type_"], self._revive(value["_data_"]))
        decoders = self._decoders
        for key, item in value.items():
            kind = type(item)
            if kind is dict:
                if (len(item) == 2 and type(data := item.get("_data_")) is str
                        and (decode := decoders.get(item.get("_type_"))) is not None):  # type: ignore[arg-type]
                    value[key] = decode(data)
                else:
                    value[key] = self._revive_object(item)
            elif kind is list:
                value[key] = [self._revive(member) if type(member) in _NOT_PLAIN else member
                              for member in item]
            elif kind is float:
                raise _FloatFound
        return value

    def _decoded(self, name: str, data: Any) -> Any:
        try:
            decode = self._decoders[name]
        except KeyError as missing:
            raise TranscodingNotRegisteredError(
                f"Data serialized with name '{name}' is not deserializable. Please register a"
                " custom transcoding for this type.") from missing
        return decode(data)


_NOT_PLAIN = frozenset({dict, list, float})
"""What the walk looks into (objects, arrays) or stops at (a float)."""


class _FloatFound(Exception):
    """A float in orjson's reading: maybe an integer it could not read exactly."""
