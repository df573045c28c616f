"""Adding a batch's sums to a projection table: one `INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE`
per table, whatever the number of rows (the projections and their rollups all write this way)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

Row = defaultdict[str, int]  # a table row's sums, by column


def upsert(
    table: str,
    keys: Sequence[tuple[str, str]],
    sums: Sequence[str],
    fixed: Sequence[tuple[str, str]] = (),
    returning: str = "",
) -> str:
    """Add rows of sums to `table`, inserting the keys not there yet (`fixed` columns are set on insert);
    the arguments are one array per column, keys first (`columns`)."""
    columns = [*(c for c, _ in keys), *(c for c, _ in fixed), *sums]
    types = [*(t for _, t in keys), *(t for _, t in fixed), *("bigint" for _ in sums)]
    arrays = ", ".join(f"${n}::{t}[]" for n, t in enumerate(types, 1))
    added = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums)
    answer = f" RETURNING {returning}" if returning else ""
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "  # noqa: S608  (names only)
        f"ON CONFLICT ({', '.join(c for c, _ in keys)}) DO UPDATE SET {added}{answer}"
    )


def row(rows: dict[Any, Row], key: Any) -> Row:
    """The running row of `key`, started at zero."""
    found = rows.get(key)
    if found is None:
        found = rows[key] = defaultdict(int)
    return found


def columns(rows: Sequence[tuple[Sequence[Any], Row]], sums: Sequence[str]) -> list[list[Any]]:
    """Rows of (key values, sums) as one array per column, for unnest."""
    keys = [list(column) for column in zip(*(key for key, _ in rows), strict=True)]
    return [*keys, *([row[name] for _, row in rows] for name in sums)]
