"""A report as a table: named, typed columns and rows, written as CSV or Parquet byte for byte the
same for the same rows (exports, downloads and regulatory returns all go through here)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Format(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"

    @property
    def media_type(self) -> str:
        return "text/csv; charset=utf-8" if self is Format.CSV else "application/vnd.apache.parquet"


class Kind(StrEnum):
    DATE = "date"
    TEXT = "text"
    INTEGER = "integer"  # counts, and money in minor units (a currency column names the unit)
    DECIMAL = "decimal"  # ratios (hold %, conversion), exact to `DECIMAL_SCALE` places


DECIMAL_SCALE = 6
# What a spreadsheet reads as a formula at the start of a cell (CSV injection): such a text cell gets a
# leading apostrophe. Text only comes from names (games, providers, brands); numbers are never touched.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: Sequence[tuple[Any, ...]]

    def write(self, fmt: Format) -> bytes:
        return to_csv(self) if fmt is Format.CSV else to_parquet(self)


def _cell(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind is Kind.DATE:
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind is Kind.DECIMAL:
        return str(Decimal(value).quantize(Decimal(1).scaleb(-DECIMAL_SCALE)))
    if kind is Kind.TEXT and str(value).startswith(_FORMULA):
        return f"'{value}"  # a game named `=HYPERLINK(…)` stays text in the spreadsheet finance opens
    return str(value)


def to_csv(table: Table) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(value, c.kind) for value, c in zip(row, table.columns, strict=True)])
    return out.getvalue().encode()


def to_parquet(table: Table) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        Kind.DATE: pa.date32(),
        Kind.TEXT: pa.string(),
        Kind.INTEGER: pa.int64(),
        Kind.DECIMAL: pa.decimal128(38, DECIMAL_SCALE),
    }
    quantum = Decimal(1).scaleb(-DECIMAL_SCALE)
    columns = []
    for index, column in enumerate(table.columns):
        values = [row[index] for row in table.rows]
        if column.kind is Kind.DECIMAL:
            values = [None if v is None else Decimal(v).quantize(quantum) for v in values]
        columns.append(pa.array(values, type=types[column.kind]))
    schema = pa.schema([pa.field(c.name, types[c.kind]) for c in table.columns])
    sink = io.BytesIO()
    # No timestamps or writer details that change between runs: the same rows give the same bytes.
    pq.write_table(pa.Table.from_arrays(columns, schema=schema), sink, compression="zstd", store_schema=False)
    return sink.getvalue()
