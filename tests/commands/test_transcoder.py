"""The store's transcoder reads every state exactly as the library's own decoder does, from
the same bytes the library's encoder writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)
from hypothesis import given
from hypothesis import strategies as st

from subledger.store.transcoder import LedgerTranscoder


@dataclass(frozen=True)
class Pair:
    left: Any
    right: Any


class _Pair(Transcoding):
    """A transcoding of the kind an application may add: its data is itself an object that
    holds tagged values."""

    type = Pair
    name = "pair"

    def encode(self, obj: Pair) -> dict[str, Any]:
        return {"left": obj.left, "right": obj.right}

    def decode(self, data: dict[str, Any]) -> Pair:
        return Pair(data["left"], data["right"])


def _both() -> tuple[JSONTranscoder, LedgerTranscoder]:
    library, ours = JSONTranscoder(), LedgerTranscoder()
    for transcoder in (library, ours):
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), _Pair()):
            transcoder.register(transcoding)
    return library, ours


leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(), st.uuids(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))])),
)
states = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4),
                            st.builds(Pair, inner, inner)),
    max_leaves=20,
)


@given(state=st.dictionaries(st.text(max_size=10), states, max_size=6))
def test_a_state_reads_back_as_the_librarys_decoder_reads_it(state: dict[str, Any]) -> None:
    library, ours = _both()
    stored = library.encode(state)
    assert ours.encode(state) == stored
    assert ours.decode(stored) == library.decode(stored)


@pytest.mark.parametrize("big", [2**64, 2**70 + 1, -(2**63) - 1, 10**30 + 7])
def test_an_integer_beyond_64_bits_reads_back_exactly(big: int) -> None:
    library, ours = _both()
    state = {"big": big, "at": datetime(2026, 1, 1, tzinfo=UTC), "id": UUID(int=7), "amount": Decimal("1.50")}
    read = ours.decode(library.encode(state))
    assert read == state and type(read["big"]) is int
    for nested in ([1, big], {"deep": [{"n": big}]}, Pair(big, UUID(int=1)), big):
        assert ours.decode(library.encode({"x": nested})) == {"x": nested}
    assert ours.decode(library.encode([big])) == [big]


def test_an_unknown_tag_is_refused_as_the_library_refuses_it() -> None:
    _, ours = _both()
    with pytest.raises(TranscodingNotRegisteredError):
        ours.decode(b'{"x":{"_type_":"unheard_of","_data_":"1"}}')
