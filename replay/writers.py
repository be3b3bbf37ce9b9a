"""Writing an export's tables as rows come: Parquet partitioned by month, CSV, JSON Lines.

Each writer takes rows (dicts with the table's columns and ``month``) in any number of
calls and holds at most a bounded number of them, so an export of any log runs in flat
memory. Parquet: ``DIR/<table>/month=YYYY-MM/part-0.parquet`` (the month in the path, not
in the file), a row group of up to :data:`ROW_GROUP` rows at a time; CSV:
``DIR/<table>.csv`` with a header; JSON Lines: ``DIR/<table>.jsonl``. In CSV and JSON Lines
instants are ISO-8601 UTC text and decimals are text (JSON numbers would become floats).
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from subledger.domain.time import isoformat

from .arrow import pyarrow
from .export_schema import TABLES, TableSpec

ROW_GROUP = 16_384
"""Rows of one month of one table written to Parquet at a time."""
BUFFERED = 131_072
"""At most this many rows are held in all; beyond, every buffer is written out."""

FORMATS = ("parquet", "csv", "jsonl")


class Writer(Protocol):
    def write(self, table: str, rows: list[dict[str, Any]]) -> None: ...

    def close(self) -> dict[str, int]:
        """Finish every file; rows written per table."""
        ...


def writer(fmt: str, out: Path) -> Writer:
    if fmt == "parquet":
        return ParquetWriter(out)
    if fmt == "csv":
        return TextWriter(out, "csv")
    if fmt == "jsonl":
        return TextWriter(out, "jsonl")
    raise ValueError(f"unknown export format {fmt!r}")


class ParquetWriter:
    def __init__(self, out: Path) -> None:
        self.pa = pyarrow()
        import pyarrow.parquet as pq

        self.pq = pq
        self.out = out
        self.buffers: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.files: dict[tuple[str, str], Any] = {}
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.held = 0

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            key = (table, row["month"])
            buffer = self.buffers.setdefault(key, [])
            buffer.append(row)
            if len(buffer) >= ROW_GROUP:
                self._flush(key)
        self.held = sum(len(b) for b in self.buffers.values())
        if self.held > BUFFERED:
            for key in list(self.buffers):
                self._flush(key)
        self.counts[table] += len(rows)

    def _flush(self, key: tuple[str, str]) -> None:
        rows = self.buffers.pop(key, [])
        if not rows:
            return
        spec = TABLES[key[0]]
        schema = spec.arrow_schema(with_month=False)
        file = self.files.get(key)
        if file is None:
            directory = self.out / spec.name / f"month={key[1]}"
            directory.mkdir(parents=True, exist_ok=True)
            file = self.files[key] = self.pq.ParquetWriter(directory / "part-0.parquet", schema)
        columns = [self.pa.array([row[name] for row in rows], type=field.type)
                   for name, field in zip(spec.names, schema, strict=True)]
        file.write_table(self.pa.Table.from_arrays(columns, schema=schema))

    def close(self) -> dict[str, int]:
        for key in list(self.buffers):
            self._flush(key)
        for file in self.files.values():
            file.close()
        for spec in TABLES.values():  # an empty table is still a table a reader can open
            if not any(key[0] == spec.name for key in self.files):
                self._empty(spec)
        return self.counts

    def _empty(self, spec: TableSpec) -> None:
        directory = self.out / spec.name
        directory.mkdir(parents=True, exist_ok=True)
        schema = spec.arrow_schema(with_month=True)
        self.pq.write_table(schema.empty_table(), directory / "empty.parquet")


def text_value(value: Any) -> Any:
    """A cell of CSV or JSON Lines: instants as ISO-8601 UTC, decimals as text."""
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


class TextWriter:
    def __init__(self, out: Path, fmt: str) -> None:
        self.out = out
        self.fmt = fmt
        self.files: dict[str, IO[str]] = {}
        self.csv: dict[str, Any] = {}
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)

    def _file(self, table: str) -> IO[str]:
        file = self.files.get(table)
        if file is None:
            self.out.mkdir(parents=True, exist_ok=True)
            file = self.files[table] = open(self.out / f"{table}.{self.fmt}", "w", encoding="utf-8",  # noqa: SIM115
                                            newline="")
            if self.fmt == "csv":
                self.csv[table] = csv.writer(file)
                self.csv[table].writerow([*TABLES[table].names, "month"])
        return file

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        file = self._file(table)
        names = [*TABLES[table].names, "month"]
        if self.fmt == "csv":
            self.csv[table].writerows([["" if row[n] is None else text_value(row[n]) for n in names]
                                       for row in rows])
        else:
            file.writelines(json.dumps({n: text_value(row[n]) for n in names}) + "\n" for row in rows)
        self.counts[table] += len(rows)

    def close(self) -> dict[str, int]:
        for table in TABLES:
            self._file(table)
        for file in self.files.values():
            file.close()
        return self.counts
