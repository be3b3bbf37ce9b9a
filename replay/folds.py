"""Folds: any report an analyst writes, run over the log.

A fold is an object with

- ``initial()``: a fresh starting state (a method, so two runs never share a mutable state);
- ``apply(state, event)``: the state after one more event (a
  :class:`~subledger.replay.reader.LoggedEvent`, in global order); it may change ``state``
  in place and return it;
- optionally ``finish(state)``: the answer made from the last state (without it, the last
  state is the answer).

For example, the cash collected per currency (the charges' amounts, integer minor units)::

    class CollectedByCurrency:
        def initial(self):
            return {}

        def apply(self, state, event):
            if event.type == "ChargeSucceeded":
                currency = event.event.currency
                state[currency] = state.get(currency, 0) + event.event.amount
            return state

``subledger replay run module:CollectedByCurrency`` runs it from the command line (a class
is instantiated without arguments; any other object is used as it is).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar, runtime_checkable

from subledger.domain.errors import InvalidInput

from .reader import LoggedEvent, Replay
from .rows import rows_of

if TYPE_CHECKING:
    import pandas
    import pyarrow

S = TypeVar("S")


@runtime_checkable
class Fold(Protocol[S]):
    def initial(self) -> S: ...

    def apply(self, state: S, event: LoggedEvent) -> S: ...


class FoldResult(NamedTuple):
    """A fold's answer (``value``), the number of ``events`` it saw and the log
    ``position`` it read to."""

    value: Any
    events: int
    position: int

    def rows(self) -> list[dict[str, Any]]:
        """The answer as rows of a table (see :func:`~subledger.replay.rows.rows_of`)."""
        return rows_of(self.value)

    def to_arrow(self) -> pyarrow.Table:
        from .arrow import table_of_rows

        return table_of_rows(self.rows())

    def to_pandas(self) -> pandas.DataFrame:
        from .arrow import to_pandas

        return to_pandas(self.to_arrow())


def run_fold(events: Replay | Iterable[LoggedEvent], fold: Fold[Any]) -> FoldResult:
    """Fold ``events`` (a :class:`Replay`, or any events in global order) with ``fold``."""
    check_fold(fold)
    state = fold.initial()
    count = 0
    apply = fold.apply
    batches = events.batches() if isinstance(events, Replay) else [events]
    for batch in batches:
        for event in batch:
            state = apply(state, event)
            count += 1
    finish = getattr(fold, "finish", None)
    value = finish(state) if finish is not None else state
    position = events.position if isinstance(events, Replay) else 0
    return FoldResult(value=value, events=count, position=position)


def check_fold(fold: Any) -> None:
    if not isinstance(fold, Fold):
        raise InvalidInput(f"{fold!r} is not a fold: it needs initial() and apply(state, event)")


def load_fold(reference: str) -> Fold[Any]:
    """``module:Name`` (``module.path:Name``): the fold it names; a class is instantiated
    without arguments. :class:`InvalidInput` when it cannot be found or is not a fold."""
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise InvalidInput(f"name a fold as module:Name, not {reference!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InvalidInput(f"cannot import {module_name}: {error}") from None
    target: Any = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise InvalidInput(f"{module_name} has no {attribute}")
        target = getattr(target, part)
    fold = target() if isinstance(target, type) else target
    check_fold(fold)
    return fold  # type: ignore[no-any-return]
