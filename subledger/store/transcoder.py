"""The store's transcoder: the library's JSON encoding, read back faster.

Every reader of the log (the projections, the relay, a replay, a command loading an
aggregate) decodes each stored state. The library's ``JSONTranscoder`` parses with the
standard library and calls a Python hook for every JSON object, which is most of a replay's
time. Here the bytes are parsed by orjson and the tagged values (``{"_type_": ...,
"_data_": ...}``: ids, instants, decimals) are revived in one walk that descends only into
objects and arrays, innermost first as the library's hook does. Encoding is the library's,
unchanged, so the stored bytes are the same bytes (the audit's leaves cover them). A state
orjson refuses (an integer beyond 64 bits, say) is read by the library's own decoder, so
every state the library could read is still read alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

_PLAIN: dict[type[Transcoding], Callable[[Any], Any]] = {
    UUIDAsHex: UUID, DatetimeAsISO: datetime.fromisoformat, DecimalAsStr: Decimal}
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
        except orjson.JSONDecodeError:
            return super().decode(data)
        return self._revive(parsed)

    def _revive(self, value: Any) -> Any:
        if type(value) is list:
            return [self._revive(item) if type(item) in _NESTED else item for item in value]
        if type(value) is not dict:
            return value
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            data = value["_data_"]
            return self._decoded(value["_type_"], self._revive(data) if type(data) in _NESTED else data)
        for key, item in value.items():
            if type(item) in _NESTED:
                value[key] = self._revive(item)
        return value

    def _decoded(self, name: str, data: Any) -> Any:
        try:
            decode = self._decoders[name]
        except KeyError as missing:
            raise TranscodingNotRegisteredError(
                f"Data serialized with name '{name}' is not deserializable. Please register a"
                " custom transcoding for this type.") from missing
        return decode(data)


_NESTED = frozenset({dict, list})
