"""The open versions of a model's versioned totals, kept between pages.

Each page of a model that keeps versioned totals (:mod:`.versioned_totals`) replaces the open
version of every key it touches, so it must know that version: read from the table, that was
a query per table and page, about a tenth of an ``mrr`` rebuild. :class:`OpenVersions` keeps
what the model itself wrote instead, for the next page; kept since position 0 (a rebuild),
it holds every open version there is, and nothing is read from the table at all.

It is trusted on the same terms as a model's subscriber cache (:mod:`.subscriber_cache`): only
for a page that starts right where the last page it kept ended, in the same views' database.
The model's checkpoint, read in the page's own transaction, says where that is: a page read
again after a rollback, a second runner that moved or reset the model, a rebuild, or another
views' database (a scratch copy being verified) finds another checkpoint or another store,
and the kept versions are dropped first. While a page is being written they are not trusted
at all, so a page that fails half way leaves them dropped too.
"""

from __future__ import annotations

from typing import Any

from .store import ViewCursor

Kept = tuple[tuple[Any, ...], str] | None
"""A key's open version: its totals and ``recorded_from``; None: the key has none."""


class OpenVersions:
    """Open versions by (table, key), as the model last wrote them (see the module)."""

    def __init__(self) -> None:
        self.known: dict[tuple[str, tuple[str, ...]], Kept] = {}
        self.complete = False
        """Whether ``known`` holds every key with an open version: kept since position 0,
        where the model's tables are empty (its rows and checkpoint commit together), so a
        key it does not hold has none (a rebuild reads no open version at all)."""
        self._valid_at: tuple[object, int | None] | None = None
        """(views' database, checkpoint) at which ``known`` is true; None while a page is
        written."""

    def begin_page(self, tx: ViewCursor, model: str) -> None:
        """Before a page of ``model`` is written in ``tx``: drop what is kept unless the page
        follows the last one kept, in the same views' database."""
        here = (tx.store, tx.checkpoint(model))
        if self._valid_at != here:
            self.known.clear()
            self.complete = here[1] == 0
        self._valid_at = None

    def end_page(self, tx: ViewCursor, position: int) -> None:
        """After the page is written, up to ``position`` (the checkpoint it moves to)."""
        self._valid_at = (tx.store, position)
