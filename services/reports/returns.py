"""Regulatory and tax returns as data: a template (services/reports/returns.toml) over the projections,
generated for a brand and a finished period, stored immutably with its SHA-256 (`regulatory_returns`,
append-only) and re-generable byte for byte.

A return covers the players of its jurisdiction (the rules they registered under) in the brand, by
product (the game's type) or in total, converted into the return's currency at each day's reference
rate. GGY (GGR) = stakes - wins, net of rollbacks. A tax is the rate in force on the period's first day
times a positive GGY, rounded half to even (a loss owes nothing, and is not carried here).

Generating a period again gives the same bytes while the projections are unchanged: the filed
revision is returned as it is. When they changed (late events, a corrected projection), the new
figures are refused unless asked as an amendment, which is filed as the next revision: a filed
return is never edited.
"""

from __future__ import annotations

import hashlib
import tomllib
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from models.brands import Brand
from models.returns import RegulatoryReturn
from services import audit
from services.reports import fx
from services.reports.tables import Column, Format, Kind, Table

TEMPLATES_FILE = Path(__file__).with_name("returns.toml")
PRODUCTS = ("slot", "table", "live", "crash", "lottery")


@dataclass(frozen=True)
class Template:
    code: str
    title: str
    jurisdiction: str
    period: str  # month | quarter
    currency: str
    by_product: bool
    tax: tuple[tuple[date, Decimal], ...]  # (from, rate), in date order

    def rate_on(self, day: date) -> Decimal | None:
        rates = [rate for start, rate in self.tax if start <= day]
        return rates[-1] if rates else None


@cache
def templates() -> dict[str, Template]:
    raw: dict[str, Any] = tomllib.loads(TEMPLATES_FILE.read_text())
    return {
        code: Template(
            code=code,
            title=entry["title"],
            jurisdiction=entry["jurisdiction"],
            period=entry["period"],
            currency=entry["currency"],
            by_product=entry.get("by", "total") == "product",
            tax=tuple(sorted((date.fromisoformat(t["from"]), Decimal(t["rate"])) for t in entry.get("tax", []))),
        )
        for code, entry in raw.items()
    }


def template(code: str) -> Template:
    found = templates().get(code)
    if found is None:
        known = ", ".join(sorted(templates()))
        raise DomainError(f"No return template {code!r}; there are: {known}.", field="template")
    return found


def period_of(t: Template, label: str) -> tuple[date, date]:
    """A period by its label: `2026-11` (month) or `2026-Q3` (quarter), as its first and last day."""
    try:
        if t.period == "quarter":
            year, quarter = label.split("-Q")
            first_month = 3 * (int(quarter) - 1) + 1
            if not 1 <= int(quarter) <= 4:
                raise ValueError(label)
            start, months = date(int(year), first_month, 1), 3
        else:
            start, months = date.fromisoformat(f"{label}-01"), 1
        end_month = start.month + months
        following = date(start.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)  # 9999-12: none
    except ValueError:
        shape = "YYYY-Qn" if t.period == "quarter" else "YYYY-MM"
        raise DomainError(f"{t.code} is filed per {t.period}: a period is {shape}.", field="period") from None
    return start, following - timedelta(days=1)


COLUMNS = (
    Column("template", Kind.TEXT),
    Column("jurisdiction", Kind.TEXT),
    Column("brand", Kind.TEXT),
    Column("period_start", Kind.DATE),
    Column("period_end", Kind.DATE),
    Column("line", Kind.TEXT),
    Column("currency", Kind.TEXT),
    Column("stakes", Kind.INTEGER),
    Column("wins", Kind.INTEGER),
    Column("ggy", Kind.INTEGER),
    Column("tax_rate", Kind.DECIMAL),
    Column("tax", Kind.INTEGER),
)
_PLAY = text("""
SELECT g.day, g.currency, coalesce(gm.type, 'unknown') AS product,
       sum(g.stakes_cash + g.stakes_bonus) AS stakes, sum(g.wins_cash + g.wins_bonus) AS wins
FROM report_game_days g
LEFT JOIN game_providers p ON p.code = g.provider
LEFT JOIN games gm ON gm.provider_id = p.id AND gm.code = g.game
WHERE g.brand_id = :brand AND g.jurisdiction = :jurisdiction AND g.day BETWEEN :start AND :end
GROUP BY 1, 2, 3""")


async def figures(db: AsyncSession, t: Template, brand: Brand, start: date, end: date) -> bytes:
    """The return's content: CSV lines of the period's figures in the return's currency."""
    params = {"brand": brand.id, "jurisdiction": t.jurisdiction, "start": start, "end": end}
    rows = (await db.execute(_PLAY, params)).all()
    book = await fx.load_rates(db, {row.currency for row in rows} | {t.currency}, start, end)
    book.require({(row.currency, row.day) for row in rows if row.stakes or row.wins}, t.currency)
    lines: dict[str, list[Fraction]] = defaultdict(lambda: [Fraction(0), Fraction(0)])
    for row in rows:
        for index, amount in enumerate((row.stakes, row.wins)):
            # nothing converts to nothing, with or without a rate (`require` asks none for it)
            converted = book.convert(int(amount), row.currency, row.day, t.currency) if amount else Fraction(0)
            lines["total"][index] += converted
            if t.by_product:
                lines[row.product][index] += converted
    names = [*(p for p in PRODUCTS if p in lines), *sorted(set(lines) - {*PRODUCTS, "total"}), "total"]
    if not t.by_product:
        names = ["total"]
    rate = t.rate_on(start)
    table_rows = []
    for name in names:
        stakes, wins = (fx.rounded(value) for value in lines[name])
        ggy = stakes - wins
        tax = int((Decimal(max(ggy, 0)) * rate).quantize(Decimal(1), ROUND_HALF_EVEN)) if rate is not None else None
        table_rows.append(
            (t.code, t.jurisdiction, brand.code, start, end, name, t.currency, stakes, wins, ggy, rate, tax)
        )
    return Table(COLUMNS, table_rows).write(Format.CSV)


async def generate(
    db: AsyncSession, viewer: Viewer, template_code: str, brand: Brand, period: str, *, amend: bool = False
) -> RegulatoryReturn:
    """File (or find the filed) return of a finished period; an amendment when the figures changed."""
    t = template(template_code)
    if t.jurisdiction not in brand.jurisdictions:
        raise DomainError(
            f"Brand {brand.code} is not licensed for {t.jurisdiction}.", field="template", code=ErrorCode.NOT_ALLOWED
        )
    start, end = period_of(t, period)
    if end >= clock.now().date():
        raise DomainError(f"{period} has not ended: a return is filed for a finished period.", field="period")
    content = await figures(db, t, brand, start, end)
    digest = hashlib.sha256(content).hexdigest()
    key = f"return:{t.code}:{brand.id}:{start}"  # one filing of a period at a time
    await db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    filed = await latest(db, t.code, brand.id, start)
    if filed is not None and filed.sha256 == digest:
        return filed
    if filed is not None and not amend:
        raise DomainError(
            f"The figures differ from revision {filed.revision} as filed; generate an amendment to file them.",
            field="amend",
            code=ErrorCode.INVALID_STATE,
        )
    created = RegulatoryReturn(
        template=t.code,
        jurisdiction=t.jurisdiction,
        brand_id=brand.id,
        period_start=start,
        period_end=end,
        revision=(filed.revision + 1) if filed is not None else 1,
        content=content,
        sha256=digest,
        generated_by_type=viewer.kind,
        generated_by_id=viewer.id,
    )
    db.add(created)
    await db.flush()
    await audit.append(
        db,
        actor=viewer,
        action="report.return_filed",
        target_type="regulatory_return",
        target_id=created.id,
        brand_id=brand.id,
        after={"template": t.code, "period": period, "revision": created.revision, "sha256": digest},
    )
    return created


async def latest(db: AsyncSession, template_code: str, brand_id: uuid.UUID, start: date) -> RegulatoryReturn | None:
    found: RegulatoryReturn | None = await db.scalar(
        select(RegulatoryReturn)
        .where(
            col(RegulatoryReturn.template) == template_code,
            col(RegulatoryReturn.brand_id) == brand_id,
            col(RegulatoryReturn.period_start) == start,
        )
        .order_by(col(RegulatoryReturn.revision).desc())
        .limit(1)
    )
    return found


@dataclass(frozen=True)
class Regeneration:
    filed: RegulatoryReturn
    same: bool  # the figures generated now are the filed bytes


async def regenerate(db: AsyncSession, return_id: uuid.UUID) -> Regeneration:
    """Generate a filed return's figures again and compare them with the filed bytes."""
    filed = await db.get(RegulatoryReturn, return_id)
    if filed is None:
        raise NotFound("No such return.", field="id")
    brand = await db.get(Brand, filed.brand_id)
    assert brand is not None  # a foreign key
    content = await figures(db, template(filed.template), brand, filed.period_start, filed.period_end)
    return Regeneration(filed, content == filed.content)


async def filed(
    db: AsyncSession, brands: list[uuid.UUID] | None, *, template: str | None = None, limit: int = 100
) -> list[RegulatoryReturn]:
    """The returns filed for these brands (None: every brand), newest period and revision first."""
    query = select(RegulatoryReturn)
    if brands is not None:
        query = query.where(col(RegulatoryReturn.brand_id).in_(brands))
    if template is not None:
        query = query.where(col(RegulatoryReturn.template) == template)
    query = query.order_by(
        col(RegulatoryReturn.period_start).desc(), col(RegulatoryReturn.template), col(RegulatoryReturn.revision).desc()
    )
    return list((await db.scalars(query.limit(limit))).all())
