"""Player limits: deposit, loss, wager and session time, per day, week and month.

Rules: a new or lower limit applies at once (cancelling any pending increase); an increase or a
removal waits out the jurisdiction's cooling-off (Sweden: also the end of the current period) and
then applies only when the player confirms it. A limit the jurisdiction requires cannot be removed
while it is the last of its kind. Every change is in the player's RG history and the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, LimitDetails
from core.fx import Rates
from core.money import format_amount, parse_amount
from core.runtime import Runtime
from models.players import Player
from models.rg import LimitKind, LimitPeriod, RgLimit
from services import audit, wallet
from services.rg import activity, history
from services.rg.profiles import Profile, profile

MAX_SESSION_SECONDS = {LimitPeriod.DAY: 24 * 3600, LimitPeriod.WEEK: 7 * 24 * 3600, LimitPeriod.MONTH: 31 * 24 * 3600}


@dataclass(frozen=True)
class Usage:
    """A limit in force and how much of it the current period has used, every currency measured in the
    limit's at the stated rates (`unmeasured`: currencies with play or deposits but no rate; a limit
    that cannot be measured refuses what it would govern)."""

    limit: RgLimit
    used: int
    starts_at: datetime
    resets_at: datetime
    unmeasured: tuple[str, ...] = ()

    @property
    def remaining(self) -> int:
        return max(0, (self.limit.amount or 0) - self.used)


def describe(kind: LimitKind | str, period: LimitPeriod | str, amount: int, currency: str | None) -> str:
    per = {"day": "daily", "week": "weekly", "month": "monthly"}[str(period)]
    label = {"deposit": "deposit", "loss": "loss", "wager": "wagering", "session_time": "time"}[str(kind)]
    value = f"{format_amount(amount, currency)} {currency}" if currency else f"{amount // 60} minutes"
    return f"your {per} {label} limit of {value}"


def parse_limit_amount(kind: LimitKind, amount: str | None, minutes: int | None, currency: str) -> int | None:
    """The limit's value in minor units (money) or seconds (session time); None removes the limit."""
    if kind == LimitKind.SESSION_TIME:
        if amount is not None:
            raise DomainError("A time limit is given in minutes.", field="minutes")
        if minutes is None:
            return None
        if minutes <= 0:
            raise DomainError("A time limit is at least one minute.", field="minutes")
        return minutes * 60
    if minutes is not None:
        raise DomainError("A money limit is given as an amount.", field="amount")
    return None if amount is None else parse_amount(amount, currency)


async def _locked_limit(db: AsyncSession, player: Player, kind: LimitKind, period: LimitPeriod) -> RgLimit:
    """Under the player's row lock (services/wallet.py): a player's limit changes are decided one at a time,
    so two removals cannot each count on the other limit of the kind a jurisdiction requires."""
    await wallet.lock_player_money(db, player.id, standing=True)
    await db.execute(
        insert(RgLimit)
        .values(
            id=uuid.uuid4(),
            player_id=player.id,
            kind=kind.value,
            period=period.value,
            currency=None if kind == LimitKind.SESSION_TIME else player.currency,
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(constraint="uq_rg_limits_player_kind_period")
    )
    limit = await db.scalar(
        select(RgLimit)
        .where(
            col(RgLimit.player_id) == player.id,
            col(RgLimit.kind) == kind.value,
            col(RgLimit.period) == period.value,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert limit is not None
    return limit


def _snapshot(limit: RgLimit) -> dict[str, object]:
    return {
        "kind": limit.kind,
        "period": limit.period,
        "amount": limit.amount,
        "currency": limit.currency,
        "pending_amount": limit.pending_amount,
        "pending_removal": limit.pending_removal,
        "pending_effective_at": limit.pending_effective_at.isoformat() if limit.pending_effective_at else None,
    }


async def _required_elsewhere(db: AsyncSession, limit: RgLimit) -> bool:
    """Is another limit of the same kind in force (so removing this one leaves the kind covered)?"""
    other = await db.scalar(
        select(col(RgLimit.id))
        .where(
            col(RgLimit.player_id) == limit.player_id,
            col(RgLimit.kind) == limit.kind,
            col(RgLimit.id) != limit.id,
            col(RgLimit.amount).is_not(None),
        )
        .limit(1)
    )
    return other is not None


def cooling_off_ends(rules: Profile, period: LimitPeriod, now: datetime) -> datetime:
    ends = now + rules.increase_cooling_off
    if rules.increase_after_period_end:
        ends = max(ends, rules.period(period, now)[1])
    return ends


async def set_limit(
    rt: Runtime, actor: Viewer, player: Player, kind: LimitKind, period: LimitPeriod, amount: int | None
) -> RgLimit:
    """Set (amount) or remove (None) a limit. Lower: at once. Higher or removed: after cooling-off + confirmation."""
    if kind == LimitKind.SESSION_TIME and amount is not None and amount > MAX_SESSION_SECONDS[period]:
        raise DomainError("That is longer than the period.", field="minutes")
    rules = profile(player.jurisdiction)
    async with rt.database.transaction() as db:
        limit = await _locked_limit(db, player, kind, period)
        before = _snapshot(limit)
        now = clock.now()
        if amount is not None and (limit.amount is None or amount <= limit.amount):
            event = "limit_set" if limit.amount is None else "limit_decreased"
            limit.amount = amount
            limit.pending_amount, limit.pending_removal = None, False
            limit.pending_requested_at = limit.pending_effective_at = None
        else:
            if limit.amount is None:
                raise DomainError("There is no such limit to remove.", field="amount", code=ErrorCode.INVALID_STATE)
            if amount is None and kind in rules.required_limits and not await _required_elsewhere(db, limit):
                raise DomainError(
                    f"{rules.name} requires a {kind.value} limit: set another before removing this one.",
                    code=ErrorCode.LIMIT_REQUIRED,
                    limit=LimitDetails(kind=kind.value),
                )
            event = "limit_removal_requested" if amount is None else "limit_increase_requested"
            limit.pending_amount, limit.pending_removal = amount, amount is None
            limit.pending_requested_at = now
            limit.pending_effective_at = cooling_off_ends(rules, period, now)
        limit.updated_at = now
        await db.flush()
        await _record(db, actor, player, event, before, _snapshot(limit))
        if limit.pending_effective_at is None:
            await _announce(
                db, actor, player, limit, "rg.limit_set", previous_amount=before["amount"], effective_at=now
            )
        else:
            await _announce(
                db,
                actor,
                player,
                limit,
                "rg.limit_change_requested",
                requested_amount=limit.pending_amount,
                effective_at=limit.pending_effective_at,
            )
    return limit


async def confirm_change(rt: Runtime, actor: Viewer, player: Player, kind: LimitKind, period: LimitPeriod) -> RgLimit:
    """The player confirms a pending increase or removal once its cooling-off is over."""
    async with rt.database.transaction() as db:
        limit = await _locked_limit(db, player, kind, period)
        effective_at = limit.pending_effective_at
        if effective_at is None:
            raise DomainError("No change of this limit is waiting.", code=ErrorCode.INVALID_STATE, field="kind")
        if effective_at > clock.now():
            raise DomainError(
                f"The change can be confirmed from {effective_at.isoformat()}.",
                code=ErrorCode.INVALID_STATE,
                field="kind",
                limit=LimitDetails(kind=kind.value, period=period.value, resets_at=effective_at),
            )
        before = _snapshot(limit)
        limit.amount = None if limit.pending_removal else limit.pending_amount
        limit.pending_amount, limit.pending_removal = None, False
        limit.pending_requested_at = limit.pending_effective_at = None
        limit.updated_at = clock.now()
        await db.flush()
        await _record(db, actor, player, "limit_change_confirmed", before, _snapshot(limit))
        previous, now = before["amount"], limit.updated_at
        if limit.amount is None:
            await _announce(db, actor, player, limit, "rg.limit_removed", previous_amount=previous, effective_at=now)
        else:
            await _announce(db, actor, player, limit, "rg.limit_set", previous_amount=previous, effective_at=now)
    return limit


async def cancel_change(rt: Runtime, actor: Viewer, player: Player, kind: LimitKind, period: LimitPeriod) -> RgLimit:
    async with rt.database.transaction() as db:
        limit = await _locked_limit(db, player, kind, period)
        if limit.pending_effective_at is None:
            raise DomainError("No change of this limit is waiting.", code=ErrorCode.INVALID_STATE, field="kind")
        before = _snapshot(limit)
        limit.pending_amount, limit.pending_removal = None, False
        limit.pending_requested_at = limit.pending_effective_at = None
        limit.updated_at = clock.now()
        await db.flush()
        await _record(db, actor, player, "limit_change_cancelled", before, _snapshot(limit))
        await _announce(db, actor, player, limit, "rg.limit_change_cancelled")
    return limit


async def _record(
    db: AsyncSession, actor: Viewer, player: Player, event: str, before: dict[str, object], after: dict[str, object]
) -> None:
    await history.add(db, player.id, f"rg.{event}", actor, {"before": before, "after": after})
    await audit.append(
        db,
        actor=actor,
        action=f"rg.{event}",
        target_type="player",
        target_id=player.id,
        brand_id=player.brand_id,
        before=before,
        after=after,
    )


async def _announce(
    db: AsyncSession, actor: Viewer, player: Player, limit: RgLimit, type_: str, **fields: object
) -> None:
    """The limit's event (core/catalogue/responsible_gambling.py): amounts in minor units, or seconds."""
    data: dict[str, object] = {
        "player_id": str(player.id),
        "kind": limit.kind,
        "period": limit.period,
        "currency": limit.currency,
        "by": actor.actor_type,
        **{key: value.isoformat() if isinstance(value, datetime) else value for key, value in fields.items()},
    }
    if type_ != "rg.limit_removed":
        data["amount"] = limit.amount
    await outbox.emit(db, type_, f"player:{player.id}", data, brand_id=player.brand_id)


async def limits_of(db: AsyncSession, player_id: uuid.UUID) -> list[RgLimit]:
    """Every limit row of a player (in force or with a change pending), in a stable order."""
    rows = (await db.scalars(select(RgLimit).where(col(RgLimit.player_id) == player_id))).all()
    kinds, periods = list(LimitKind), list(LimitPeriod)
    return sorted(
        (r for r in rows if r.amount is not None or r.pending_effective_at is not None),
        key=lambda r: (kinds.index(LimitKind(r.kind)), periods.index(LimitPeriod(r.period))),
    )


class Subject(Protocol):
    """Whose limits: a Player row, or the provider wallet's view of one."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def jurisdiction(self) -> str: ...


def measure(amounts: dict[str, int], currency: str, rates: Rates, *, round_up: bool) -> tuple[int, tuple[str, ...]]:
    """The sum of per-currency amounts in `currency`, and the currencies that have no rate to it."""
    total, unmeasured = 0, []
    for source, amount in sorted(amounts.items()):
        converted = rates.convert(amount, source, currency, round_up=round_up)
        if converted is None:
            unmeasured.append(source)
        else:
            total += converted
    return total, tuple(unmeasured)


def measured_totals(per_currency: dict[str, activity.Totals], currency: str, rates: Rates) -> activity.Totals:
    """Deposits and stakes round up, wins down: a conversion never lets a limit pass unnoticed."""
    deposited, _ = measure({c: t.deposited for c, t in per_currency.items()}, currency, rates, round_up=True)
    wagered, _ = measure({c: t.wagered for c, t in per_currency.items()}, currency, rates, round_up=True)
    won, _ = measure({c: t.won for c, t in per_currency.items()}, currency, rates, round_up=False)
    return activity.Totals(deposited, wagered, won)


async def usage(db: AsyncSession, player: Subject, limit: RgLimit, now: datetime, rates: Rates) -> Usage:
    """How much of a limit the current period has used, in every currency (deposits include those
    still in flight)."""
    rules = profile(player.jurisdiction)
    starts, resets = rules.period(LimitPeriod(limit.period), now)
    unmeasured: tuple[str, ...] = ()
    if limit.kind == LimitKind.SESSION_TIME:
        used = await activity.seconds_played(db, player.id, since=starts, until=resets, now=now)
    else:
        assert limit.currency is not None
        first, after = rules.local_day(starts), rules.local_day(resets)
        if limit.kind == LimitKind.DEPOSIT:
            deposits = await activity.deposits_with_in_flight(db, player.id, first, after)
            used, unmeasured = measure(deposits, limit.currency, rates, round_up=True)
        else:
            per_currency = await activity.totals(db, player.id, first, after)
            played = {c: t for c, t in per_currency.items() if t.wagered or t.won}
            unmeasured = tuple(sorted(c for c in played if not rates.can_measure(c, limit.currency)))
            totals = measured_totals(played, limit.currency, rates)
            used = totals.wagered if limit.kind == LimitKind.WAGER else max(0, totals.lost)
    return Usage(limit, used, starts, resets, unmeasured)
