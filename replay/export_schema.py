"""The tables an export writes, column by column: ``export_tables.json`` beside this module is
the one definition the writers, the Arrow schemas and the documentation
(``docs/analysts.md``, checked by a test) follow; kinds are ``int64``, ``int32``, ``bool``,
``string``, ``timestamp`` (UTC, microseconds), ``decimal`` and ``json`` (text).

Money: amounts the ledger records are integers in the currency's minor unit (``int64``: what
the log holds, exactly, and what SQL adds up exactly). MRR figures are derived and exact
fractions inside the ledger (a yearly price is a twelfth a month); they leave it as
``decimal128(38, 10)`` in minor units, rounded half-even at the tenth decimal place: a sum of
a million of them is off by at most 0.00005 of a minor unit, so rounded to two places (as the
reports show them) it is the ledger's figure, unless the exact sum lies that close to a
half. No column is a float.

Every table has a ``month`` (``YYYY-MM``, UTC) of its main instant: Parquet files are
partitioned by it (``month=2026-01/``: readers take it from the path, as DuckDB's and
pyarrow's hive partitioning do); CSV and JSON Lines carry it as a column.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from .arrow import pyarrow

DECIMAL = (38, 10)


class Column(NamedTuple):
    name: str
    kind: str
    description: str


class TableSpec(NamedTuple):
    name: str
    description: str
    month_of: str
    """The column whose UTC month partitions the table."""
    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self, *, with_month: bool) -> Any:
        pa = pyarrow()
        fields = [pa.field(c.name, arrow_type(c.kind)) for c in self.columns]
        if with_month:
            fields.append(pa.field("month", pa.string()))
        return pa.schema(fields)


def arrow_type(kind: str) -> Any:
    pa = pyarrow()
    return {"int64": pa.int64(), "int32": pa.int32(), "bool": pa.bool_(), "string": pa.string(),
            "json": pa.string(), "timestamp": pa.timestamp("us", tz="UTC"),
            "decimal": pa.decimal128(*DECIMAL)}[kind]


def _tables() -> dict[str, TableSpec]:
    written = json.loads((Path(__file__).parent / "export_tables.json").read_text(encoding="utf-8"))
    return {name: TableSpec(name, spec["description"], spec["month_of"],
                            tuple(Column(*column) for column in spec["columns"]))
            for name, spec in written.items()}


TABLES = _tables()
"""Every table of an export, by name, in the order they are written."""
EVENTS = TABLES["events"]
