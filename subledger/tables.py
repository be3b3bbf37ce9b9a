"""The view for a person of ``subledger rebuild VIEW [--verify] --table`` and of
``subledger replay ... --format table``: the JSON answer's content as rich tables on stdout.

Drawn from the very dict the JSON is made of, so the two cannot disagree. JSON stays the
default: scripts read it, and a table's layout follows the width of the terminal.
"""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
"""A cell written as a number (minor units, a rate): right-aligned."""


def print_rebuild(summary: dict[str, Any], console: Console | None = None) -> None:
    """``projector.rebuild_model(...).as_dict()``: the rows of each table, then where the
    model stands and how long the rebuild took."""
    table = Table(title=f"rebuild {summary['view']}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary["rows"].items():
        table.add_row(name, f"{rows:,}")
    rate = summary["events_per_second"]
    console = console or Console()
    console.print(table)
    # A line of its own: a caption would wrap to the width of the narrow table.
    console.print(Text(f"position {summary['position']:,}, {summary['events_read']:,} events read"
                       f" in {summary['seconds']:.3f} s" + ("" if rate is None else f" ({rate:,}/s)")
                       + f", {summary['pages']:,} {'page' if summary['pages'] == 1 else 'pages'}"
                       f" of up to {summary['page_size']:,} events"))


def print_verification(outcome: dict[str, Any], console: Console | None = None) -> None:
    """``verify(...).as_dict()``: the rows of each table, live and rebuilt, then the first
    difference (if any) field by field."""
    verdict = "identical" if outcome["identical"] else "differs"
    table = Table(title=f"verify {outcome['view']} at position {outcome['position']:,}: {verdict}",
                  title_justify="left")
    table.add_column("table")
    table.add_column("live rows", justify="right")
    table.add_column("rebuilt rows", justify="right")
    for name, rows in outcome["rows"].items():
        table.add_row(name, f"{rows['live']:,}", f"{rows['rebuilt']:,}")
    console = console or Console()
    console.print(table)
    if outcome["difference"] is not None:
        console.print(_difference(outcome["difference"]))


def _difference(difference: dict[str, Any]) -> Table:
    table = Table(title="first difference", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    key = ", ".join(f"{k}={v}" for k, v in difference["key"].items())
    # Text, not markup: stored values may hold square brackets.
    for field, value in (("table", difference["table"]), ("scope", difference["scope"]),
                         ("key", key), ("column", difference["column"]),
                         ("live", _value(difference["live"])),
                         ("rebuilt", _value(difference["rebuilt"]))):
        table.add_row(field, Text(value))
    return table


def _value(value: Any) -> str:
    """Strings quoted, so a stored '1' reads apart from the number 1 (as on stderr)."""
    return repr(value) if isinstance(value, str) else str(value)


def print_rows(rows: list[dict[str, Any]], *, title: str, console: Console | None = None) -> None:
    """Rows of a replay's answer (``subledger replay ... --format table``): one column per
    key, numbers right-aligned, written as the CSV writes them. Into a pipe or a file the
    table is as wide as its content (a terminal's width applies on a terminal)."""
    from subledger.replay.rows import columns, text

    names = columns(rows)
    cells = [[text(row.get(name)) for name in names] for row in rows]
    table = Table(title=title, title_justify="left")
    for index, name in enumerate(names):
        filled = [line[index] for line in cells if line[index]]
        numeric = bool(filled) and all(_NUMBER.fullmatch(value) for value in filled)
        table.add_column(name, justify="right" if numeric else "left", no_wrap=True,
                         min_width=max([len(name), *(len(line[index]) for line in cells)]))
    for line in cells:
        table.add_row(*(Text(value) for value in line))
    if console is None:
        console = Console()
        if not console.is_terminal:
            widths = [max([len(name), *(len(line[i]) for line in cells)]) for i, name in enumerate(names)]
            console = Console(width=max(80, sum(widths) + 3 * len(widths) + 1))
    console.print(table)
    if not rows:
        console.print(Text("(no rows)"))
