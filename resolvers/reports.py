"""Report queries: thin conversions of services/reports results. The viewer's brand scope decides the
brands a report covers (services/reports/periods.brands_of); a bad range is a BAD_USER_INPUT error."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError, bad_input
from models import returns as models_returns
from models.brands import Brand
from resolvers.common import payload_errors, require_subject
from schema.base import Money
from schema.context import Info
from schema.reports import (
    FileRegulatoryReturnInput,
    FileRegulatoryReturnPayload,
    RegulatoryReturn,
    ReportCohort,
    ReportCohortValue,
    ReportExportKind,
    ReportFigures,
    ReportFile,
    ReportFormat,
    ReportGame,
    ReportMoney,
    ReportPeriod,
    ReportRegistrations,
    ReportRetention,
)
from services.reports import cohorts, exports, kpis, returns
from services.reports.periods import Period, brands_of
from services.reports.tables import Format


@asynccontextmanager
async def _report(info: Info) -> AsyncIterator[AsyncSession]:
    """A read session; a service's refusal (a range too long, a missing rate) as a request error."""
    try:
        async with info.context.rt.database.session() as db:
            yield db
    except DomainError as exc:
        raise bad_input(exc.message, field=exc.field, reason=exc.code.value) from exc


def _money(figures: kpis.MoneyFigures) -> ReportMoney:
    c = figures.currency
    return ReportMoney(
        currency=c,
        turnover=Money.of(figures.turnover, c),
        turnover_cash=Money.of(figures.turnover_cash, c),
        turnover_bonus=Money.of(figures.turnover_bonus, c),
        wins=Money.of(figures.wins, c),
        ggr=Money.of(figures.ggr, c),
        bonus_cost=Money.of(figures.bonus_cost, c),
        ngr=Money.of(figures.ngr, c),
        hold=figures.hold,
        deposits=Money.of(figures.deposits, c),
        deposit_count=figures.deposit_count,
        withdrawals=Money.of(figures.withdrawals, c),
        withdrawal_count=figures.withdrawal_count,
        ftd_count=figures.ftd_count,
        ftd_amount=Money.of(figures.ftd_amount, c),
        chargebacks=Money.of(figures.chargebacks, c),
        chargeback_count=figures.chargeback_count,
        payouts_returned=Money.of(figures.payouts_returned, c),
        net_deposits=Money.of(figures.net_deposits, c),
        active_players=figures.active_players,
        paying_players=figures.paying_players,
        arppu=Money.of(figures.arppu, c) if figures.arppu is not None else None,
    )


def reporting_currency(info: Info) -> str:
    return info.context.rt.settings.reporting_currency


def _window(info: Info, start: date, end: date, period: ReportPeriod) -> dict[str, Any]:
    return {"brands": brands_of(info.context.viewer), "start": start, "end": end, "period": Period(period.value)}


async def report_figures(
    info: Info,
    start: date,
    end: date,
    period: ReportPeriod = ReportPeriod.DAY,
    reporting_currency: str | None = None,
) -> list[ReportFigures]:
    async with _report(info) as db:
        found = await kpis.figures(db, **_window(info, start, end, period), reporting_currency=reporting_currency)
    return [
        ReportFigures(
            start=f.start,
            end=f.end,
            by_currency=[_money(m) for m in f.by_currency],
            converted=_money(f.converted) if f.converted is not None else None,
        )
        for f in found
    ]


async def report_registrations(
    info: Info, start: date, end: date, period: ReportPeriod = ReportPeriod.DAY, as_of: date | None = None
) -> list[ReportRegistrations]:
    async with _report(info) as db:
        found = await kpis.registrations(db, **_window(info, start, end, period), as_of=as_of)
    return [
        ReportRegistrations(
            start=f.start,
            end=f.end,
            registrations=f.registrations,
            depositors=f.depositors,
            conversion=f.conversion,
            ftd_count=f.ftd_count,
        )
        for f in found
    ]


async def report_retention(
    info: Info,
    start: date,
    end: date,
    as_of: date,
    period: ReportPeriod = ReportPeriod.DAY,
    days: list[int] | None = None,
) -> list[ReportCohort]:
    async with _report(info) as db:
        found = await cohorts.retention(
            db, **_window(info, start, end, period), as_of=as_of, days=days or cohorts.RETENTION_DAYS
        )
    return [
        ReportCohort(
            start=c.start,
            end=c.end,
            size=c.size,
            retention=[
                ReportRetention(day=r.day, eligible=r.eligible, retained=r.retained, rate=r.rate) for r in c.retention
            ],
        )
        for c in found
    ]


async def report_lifetime_value(
    info: Info,
    start: date,
    end: date,
    as_of: date,
    period: ReportPeriod = ReportPeriod.MONTH,
    reporting_currency: str | None = None,
) -> list[ReportCohortValue]:
    async with _report(info) as db:
        found = await cohorts.lifetime_value(
            db, **_window(info, start, end, period), as_of=as_of, reporting_currency=reporting_currency
        )
    return [
        ReportCohortValue(
            start=v.start,
            end=v.end,
            size=v.size,
            ngr=[Money.of(amount, code) for code, amount in v.ngr_by_currency.items()],
            ltv=[Money.of(amount, code) for code, amount in v.ltv_by_currency.items()],
            converted_ngr=Money.of(v.ngr, reporting_currency.upper())
            if v.ngr is not None and reporting_currency
            else None,
            converted_ltv=Money.of(v.ltv, reporting_currency.upper())
            if v.ltv is not None and reporting_currency
            else None,
        )
        for v in found
    ]


async def report_games(
    info: Info, start: date, end: date, reporting_currency: str | None = None, limit: int = kpis.MAX_GAMES
) -> list[ReportGame]:
    async with _report(info) as db:
        found = await kpis.game_figures(
            db,
            brands=brands_of(info.context.viewer),
            start=start,
            end=end,
            reporting_currency=reporting_currency,
            limit=limit,
        )
    return [
        ReportGame(
            provider=g.provider,
            game=g.game,
            turnover=Money.of(g.turnover, g.currency),
            wins=Money.of(g.wins, g.currency),
            ggr=Money.of(g.ggr, g.currency),
            hold=g.hold,
            bet_count=g.bet_count,
            win_count=g.win_count,
            rollback_count=g.rollback_count,
        )
        for g in found
    ]


async def report_export(
    info: Info, kind: ReportExportKind, start: date, end: date, format: ReportFormat = ReportFormat.CSV
) -> ReportFile:
    async with _report(info) as db:
        made = await exports.export(
            db,
            exports.ExportKind(kind.value),
            brands=brands_of(info.context.viewer),
            start=start,
            end=end,
            fmt=Format(format.value),
        )
    content = made.content()
    return ReportFile(
        filename=made.filename,
        media_type=made.format.media_type,
        rows=len(made.table.rows),
        sha256=hashlib.sha256(content).hexdigest(),
        content_base64=base64.b64encode(content).decode(),
    )


# ---- regulatory returns ---------------------------------------------------------------------------


def _filed(row: models_returns.RegulatoryReturn) -> RegulatoryReturn:
    name = f"{row.template}-{row.period_start}-r{row.revision}.csv"
    return RegulatoryReturn(
        id=strawberry.ID(str(row.id)),
        template=row.template,
        jurisdiction=row.jurisdiction,
        period_start=row.period_start,
        period_end=row.period_end,
        revision=row.revision,
        sha256=row.sha256,
        generated_at=row.generated_at,
        file=ReportFile(
            filename=name,
            media_type=Format.CSV.media_type,
            rows=row.content.count(b"\n") - 1,
            sha256=row.sha256,
            content_base64=base64.b64encode(row.content).decode(),
        ),
    )


async def regulatory_returns(info: Info, template: str | None = None) -> list[RegulatoryReturn]:
    async with info.context.rt.database.session() as db:
        rows = await returns.filed(db, brands_of(info.context.viewer), template=template)
    return [_filed(row) for row in rows]


@payload_errors(FileRegulatoryReturnPayload)
async def file_regulatory_return(info: Info, input: FileRegulatoryReturnInput) -> FileRegulatoryReturnPayload:
    require_subject(info)
    viewer = info.context.viewer
    if viewer.brand_id is None:
        raise DomainError("Pick the brand the return is for (a return is filed per brand).", field="brand")
    async with info.context.rt.database.transaction() as db:
        brand = await db.get(Brand, viewer.brand_id)
        if brand is None:
            raise DomainError("No such brand.", field="brand")
        row = await returns.generate(db, viewer, input.template, brand, input.period, amend=input.amend)
        result = _filed(row)
    return FileRegulatoryReturnPayload(regulatory_return=result)
