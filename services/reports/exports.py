"""Exports without manual magic: a report kind over a range of UTC days, as CSV or Parquet, for the CLI
(`croupier reports export`), the back office's downloads (`Query.reportExport`) and the scheduled
exports to a folder or an S3-compatible bucket (services/reports/schedule.py).

Every kind is an aggregate (no player appears in an export); the same rows give the same bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError, ErrorCode
from services.reports import kpis
from services.reports.periods import check_range, in_brands
from services.reports.projection import CASHIER_SUMS
from services.reports.tables import Column, Format, Kind, Table


class ExportKind(StrEnum):
    FIGURES = "figures"  # the KPIs per day and currency (kpis.figures)
    GAMES = "games"  # play per day, brand, jurisdiction, currency, provider and game
    CASHIER = "cashier"  # money in and out and the bonus cost per day, brand and currency


@dataclass(frozen=True)
class Export:
    kind: ExportKind
    start: date
    end: date
    format: Format
    table: Table

    @property
    def filename(self) -> str:
        return f"croupier-{self.kind}-{self.start}-{self.end}.{self.format}"

    def content(self) -> bytes:
        return self.table.write(self.format)


_FIGURES = (
    "turnover",
    "turnover_cash",
    "turnover_bonus",
    "wins",
    "ggr",
    "bonus_cost",
    "ngr",
    "hold",
    "deposits",
    "deposit_count",
    "withdrawals",
    "withdrawal_count",
    "ftd_count",
    "ftd_amount",
    "chargebacks",
    "chargeback_count",
    "payouts_returned",
    "net_deposits",
    "active_players",
    "paying_players",
    "arppu",
)


async def _figures(db: AsyncSession, brands: Sequence[uuid.UUID] | None, start: date, end: date) -> Table:
    columns = (
        Column("day", Kind.DATE),
        Column("currency", Kind.TEXT),
        *(Column(name, Kind.DECIMAL if name == "hold" else Kind.INTEGER) for name in _FIGURES),
    )
    rows = [
        (period.start, money.currency, *(getattr(money, name) for name in _FIGURES))
        for period in await kpis.figures(db, brands=brands, start=start, end=end)
        for money in period.by_currency
    ]
    return Table(columns, rows)


_GAMES = text(f"""
SELECT g.day, b.code, g.jurisdiction, g.currency, g.provider, g.game,
       g.stakes_cash, g.stakes_bonus, g.wins_cash, g.wins_bonus,
       g.stakes_cash + g.stakes_bonus - g.wins_cash - g.wins_bonus, g.bet_count, g.win_count, g.rollback_count
FROM report_game_days g JOIN brands b ON b.id = g.brand_id
WHERE {in_brands("g.brand_id")} AND g.day BETWEEN :start AND :end
ORDER BY g.day, b.code, g.jurisdiction, g.currency, g.provider, g.game""")  # noqa: S608  (a fixed filter)
_GAME_COLUMNS = (
    Column("day", Kind.DATE),
    Column("brand", Kind.TEXT),
    Column("jurisdiction", Kind.TEXT),
    Column("currency", Kind.TEXT),
    Column("provider", Kind.TEXT),
    Column("game", Kind.TEXT),
    *(
        Column(name, Kind.INTEGER)
        for name in ("stakes_cash", "stakes_bonus", "wins_cash", "wins_bonus", "ggr", "bets", "wins", "rollbacks")
    ),
)
_CASHIER = text(f"""
SELECT c.day, b.code, c.currency, {", ".join(f"c.{name}" for name in CASHIER_SUMS)}
FROM report_cashier_days c JOIN brands b ON b.id = c.brand_id
WHERE {in_brands("c.brand_id")} AND c.day BETWEEN :start AND :end
ORDER BY c.day, b.code, c.currency""")  # noqa: S608  (fixed column names)
_CASHIER_COLUMNS = (
    Column("day", Kind.DATE),
    Column("brand", Kind.TEXT),
    Column("currency", Kind.TEXT),
    *(Column(name, Kind.INTEGER) for name in CASHIER_SUMS),
)


def _rows_of(sql: object, columns: tuple[Column, ...]) -> Callable[..., Awaitable[Table]]:
    async def read(db: AsyncSession, brands: Sequence[uuid.UUID] | None, start: date, end: date) -> Table:
        params = {"brands": list(brands) if brands is not None else None, "start": start, "end": end}
        rows = [tuple(row) for row in (await db.execute(sql, params)).all()]  # type: ignore[call-overload]
        return Table(columns, rows)

    return read


_READERS: dict[ExportKind, Callable[..., Awaitable[Table]]] = {
    ExportKind.FIGURES: _figures,
    ExportKind.GAMES: _rows_of(_GAMES, _GAME_COLUMNS),
    ExportKind.CASHIER: _rows_of(_CASHIER, _CASHIER_COLUMNS),
}


def parse_kind(value: str) -> ExportKind:
    try:
        return ExportKind(value)
    except ValueError:
        known = ", ".join(k.value for k in ExportKind)
        message = f"No export {value!r}; there are: {known}."
        raise DomainError(message, field="kind", code=ErrorCode.INVALID_INPUT) from None


def parse_format(value: str) -> Format:
    try:
        return Format(value.lower())
    except ValueError:
        raise DomainError("Exports are csv or parquet.", field="format", code=ErrorCode.INVALID_INPUT) from None


async def export(
    db: AsyncSession, kind: ExportKind, *, brands: Sequence[uuid.UUID] | None, start: date, end: date, fmt: Format
) -> Export:
    check_range(start, end)
    return Export(kind, start, end, fmt, await _READERS[kind](db, brands, start, end))
