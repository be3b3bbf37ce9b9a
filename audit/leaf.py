"""The bytes of a leaf: one stored event, encoded so that no two events share a leaf.

Version 1, every field length-prefixed (a 4-byte big-endian length, then the bytes), after
one version byte ``0x01``:

1. position: 8 bytes, unsigned big-endian;
2. event id: the 16 bytes of the UUID;
3. aggregate id: the 16 bytes of the UUID;
4. aggregate version: 8 bytes, unsigned big-endian;
5. topic: the stored topic (the event's type as the store names it), UTF-8;
6. state: the event's stored bytes, exactly as the store holds them (whatever the
   transcoder, compressor or cipher wrote), so a later change of their encoding changes
   nothing here.

The fixed-width fields are length-prefixed too: one rule for every field keeps a decoder
trivial and leaves room for a wider field in a later version.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from uuid import UUID

LEAF_VERSION = 1
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


@dataclass(frozen=True)
class StoredRow:
    """One stored event as the leaf covers it."""

    position: int
    event_id: UUID
    aggregate_id: UUID
    aggregate_version: int
    topic: str
    state: bytes


def _field(value: bytes) -> bytes:
    return _U32.pack(len(value)) + value


def leaf_bytes(row: StoredRow) -> bytes:
    """The version-1 encoding of ``row`` (see the module's documentation)."""
    return bytes([LEAF_VERSION]) + b"".join(_field(value) for value in (
        _U64.pack(row.position),
        row.event_id.bytes,
        row.aggregate_id.bytes,
        _U64.pack(row.aggregate_version),
        row.topic.encode("utf-8"),
        bytes(row.state),
    ))


def decode_leaf(data: bytes) -> StoredRow:
    """``leaf_bytes`` read back (for auditors' tools and the tests); ValueError when
    ``data`` is not a version-1 leaf."""
    if not data or data[0] != LEAF_VERSION:
        raise ValueError("not a version-1 leaf")
    fields, offset = [], 1
    while offset < len(data):
        if offset + 4 > len(data):
            raise ValueError("truncated leaf")
        (size,) = _U32.unpack_from(data, offset)
        offset += 4
        if offset + size > len(data):
            raise ValueError("truncated leaf")
        fields.append(data[offset:offset + size])
        offset += size
    if len(fields) != 6 or [len(f) for f in fields[:4]] != [8, 16, 16, 8]:
        raise ValueError("a version-1 leaf has six fields")
    position, event_id, aggregate_id, version, topic, state = fields
    return StoredRow(_U64.unpack(position)[0], UUID(bytes=event_id), UUID(bytes=aggregate_id),
                     _U64.unpack(version)[0], topic.decode("utf-8"), state)
