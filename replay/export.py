"""``subledger replay export``: the selected events and the tables derived from them, in
one pass over the log, as Parquet (partitioned by month), CSV or JSON Lines, for the tools
analysts already use (DuckDB, pandas, spreadsheets). The tables and their columns are in
:mod:`.export_schema` and ``docs/analysts.md``.

Personal data (``domain.personal``) is left out unless asked for. The export writes only
into its own directory, which must be empty or absent; the ledger is only read. The files
are written into a staging directory beside it, renamed into place once the manifest is
written: a reader never finds half an export, and a failed one leaves nothing behind.
"""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path
from typing import Any, NamedTuple

from subledger.domain.errors import InvalidInput
from subledger.domain.time import isoformat

from .derived import Derived
from .event_rows import event_row
from .reader import Replay
from .selection import Selection
from .writers import FORMATS, writer

MANIFEST = "manifest.json"


class ExportSummary(NamedTuple):
    """What an export wrote: its format and directory, the log position it read to, the
    rows of each table, and whether personal data is in them."""

    format: str
    out: str
    position: int
    rows: dict[str, int]
    personal_data: bool


def check_out(out: Path) -> None:
    """An export writes into a directory of its own: absent, or empty."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"{out} is not an empty directory: export into a new one")


def export(replay: Replay, out: Path, fmt: str, *, personal_data: bool = False) -> ExportSummary:
    """Write ``replay``'s events and the derived tables into ``out`` as ``fmt``."""
    if fmt not in FORMATS:
        raise InvalidInput(f"the export format is one of {', '.join(FORMATS)}, not {fmt!r}")
    check_out(out)
    place = out.resolve() if out.is_symlink() else out  # a link to an empty directory: fill that one
    staging = _staging(place)
    try:
        summary = _write(replay, staging, fmt, personal_data=personal_data)._replace(out=str(out))
        (staging / MANIFEST).write_text(json.dumps({**summary._asdict(), "selection": _selection(replay.selection)},
                                                   indent=2) + "\n", encoding="utf-8")
        if place.exists():
            place.rmdir()  # empty, as checked
        staging.rename(place)
    except OSError as error:
        raise InvalidInput(f"cannot write the export into {out}: {error.strerror or error}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return summary


def _staging(out: Path) -> Path:
    """A new directory beside ``out`` to write the export into (a rename moves it to ``out``,
    in one step, on the same file system)."""
    staging = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    try:
        staging.mkdir(parents=True)
    except OSError as error:
        raise InvalidInput(f"cannot write the export into {out}: {error.strerror or error}") from None
    return staging


def _write(replay: Replay, out: Path, fmt: str, *, personal_data: bool) -> ExportSummary:
    tables = writer(fmt, out)
    derived = Derived(personal_data=personal_data)
    for batch in replay.batches():
        tables.write("events", [event_row(e, personal_data=personal_data) for e in batch])
        for logged in batch:
            derived.apply(logged)
        for table, rows in derived.drain():
            tables.write(table, rows)
    for table, rows in derived.finish():
        tables.write(table, rows)
    return ExportSummary(format=fmt, out=str(out), position=replay.position, rows=tables.close(),
                         personal_data=personal_data)


def _selection(selection: Selection) -> dict[str, Any]:
    """What the export selected, for whoever reads the files later."""
    def instant(value: Any) -> Any:
        return None if value is None else isoformat(value)

    return {"after": selection.after, "until": selection.until,
            "recorded": [instant(selection.recorded.start), instant(selection.recorded.end)],
            "effective": [instant(selection.effective.start), instant(selection.effective.end)],
            "types": list(selection.types),
            "subscriber_id": None if selection.subscriber_id is None else str(selection.subscriber_id),
            "as_known_at": instant(selection.as_known_at)}
