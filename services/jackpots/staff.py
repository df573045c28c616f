"""The staff's jackpot commands as the surfaces (GraphQL, the back office) call them: the inputs in the
operator's terms (brand codes, decimal amounts, percentages) turned into the engine's spec, the staff's
brand scope enforced, the engine's command (services/jackpots/admin.py) run in one transaction, and the
live ticker told after the commit.

Brand scope: staff whose roles sit in one brand create local jackpots of that brand and manage those;
network jackpots (several brands share one pool) are created and managed by staff whose roles span every
brand. Refusals are `DomainError`s with codes (NOT_ALLOWED, INVALID_INPUT, …), shown in payloads.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core.errors import DomainError, ErrorCode, NotFound
from core.money import currency as currency_of
from core.money import parse_amount
from core.runtime import Runtime
from models.brands import Brand
from models.jackpots import PPM, Jackpot
from services import brands
from services.jackpots import admin, live


@dataclass(frozen=True)
class LevelForm:
    level: str
    seed: str
    contribution_percent: str
    trigger: str
    must_drop_by: str | None = None
    drop_window_seconds: int | None = None


@dataclass(frozen=True)
class JackpotForm:
    code: str
    name: str
    kind: str
    type: str
    currency: str
    brands: Sequence[str]
    levels: Sequence[LevelForm]
    games: Sequence[str] = ()
    providers: Sequence[str] = ()
    min_bet: str | None = None


def ppm_of_percent(text: str, *, field: str) -> int:
    """ "0.5" → 5000 parts per million; at most 4 decimals (1 ppm), from 0 to 100 percent."""
    try:
        percent = Decimal(text.strip())
    except InvalidOperation:
        raise DomainError(f"{text!r} is not a percentage.", field=field) from None
    ppm = percent * 10_000
    if not percent.is_finite() or ppm != ppm.to_integral_value() or not 0 <= ppm <= PPM:
        raise DomainError("A percentage from 0 to 100 with at most 4 decimals.", field=field)
    return int(ppm)


def _money(text: str | None, currency: str, *, field: str, zero: bool = True) -> int:
    return parse_amount(text, currency, field=field, allow_zero=zero) if text else 0


async def create(rt: Runtime, viewer: Viewer, form: JackpotForm, *, reason: str | None = None) -> Jackpot:
    code = currency_of(form.currency).code
    levels = [
        admin.LevelSpec(
            level=level.level.strip(),
            seed_amount=_money(level.seed, code, field=f"levels.{i}.seed"),
            contribution_ppm=ppm_of_percent(level.contribution_percent, field=f"levels.{i}.contributionPercent"),
            trigger=level.trigger,
            cap_amount=_money(level.must_drop_by, code, field=f"levels.{i}.mustDropBy") or None,
            drop_window_seconds=level.drop_window_seconds,
        )
        for i, level in enumerate(form.levels)
    ]
    async with rt.database.transaction() as db:
        brand_ids = [(await _brand(db, c)).id for c in dict.fromkeys(form.brands)]
        _may_manage(viewer, form.kind, brand_ids)
        spec = admin.JackpotSpec(
            code=form.code.strip(),
            name=form.name,
            kind=form.kind,
            type=form.type,
            currency=code,
            brand_ids=brand_ids,
            levels=levels,
            games=[g.strip() for g in form.games if g.strip()],
            providers=[p.strip() for p in form.providers if p.strip()],
            min_bet=_money(form.min_bet, code, field="minBet"),
        )
        view = await admin.create_jackpot(db, spec, actor=viewer, reason=reason)
        created = await db.get(Jackpot, view.id)
    assert created is not None
    return created


async def configure(
    rt: Runtime,
    viewer: Viewer,
    jackpot_id: uuid.UUID,
    *,
    status: str | None = None,
    games: Sequence[str] | None = None,
    providers: Sequence[str] | None = None,
    min_bet: str | None = None,
    reason: str,
) -> Jackpot:
    """Pause, resume or close a jackpot, or change what contributes (the engine's `configure_jackpot`)."""
    if len(reason.strip()) < 3:
        raise DomainError("Say why (at least 3 characters).", field="reason")
    async with rt.database.transaction() as db:
        found = await db.get(Jackpot, jackpot_id)
        if found is None:
            raise NotFound("No such jackpot.", field="jackpotId")
        _may_manage(viewer, found.kind, [uuid.UUID(b) for b in found.brand_ids])
        await admin.configure_jackpot(
            db,
            jackpot_id,
            actor=viewer,
            status=status,
            games=games,
            providers=providers,
            min_bet=_money(min_bet, found.currency, field="minBet") if min_bet is not None else None,
            reason=reason.strip(),
        )
        await db.refresh(found)
    await live.changed(rt.redis, [jackpot_id], live.CONFIGURED)  # subscribers see the new status at once
    return found


async def _brand(db: AsyncSession, code: str) -> Brand:
    try:
        return await brands.get_by_code(db, code)
    except NotFound:
        raise DomainError(f"No brand {code!r}.", field="brands") from None


def _may_manage(viewer: Viewer, kind: str, brand_ids: Sequence[uuid.UUID]) -> None:
    if viewer.brand_id is None:
        return  # roles over every brand
    if kind != "local" or list(brand_ids) != [viewer.brand_id]:
        raise DomainError(
            "Your roles cover one brand: you manage its local jackpots only.",
            field="brands",
            code=ErrorCode.NOT_ALLOWED,
        )
