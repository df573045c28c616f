"""A player bonus's life: issued → active → completed (converted) | forfeited | expired | cancelled (a
completed bonus is active again only when the stake that earned its conversion is rolled back: play.py).

Every step runs under the player's cash-row lock (services/bonuses/books.py), re-reads the bonus
after taking it, moves money only through the ledger (keyed by bonus and step, so a retry moves
nothing twice), writes a line of history, and emits the change's `bonus.<what happened>` event
(services/bonuses/events.py), which `bonusProgress` subscribers and the platform's consumers read.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.logging import get_logger
from core.runtime import Runtime
from models.bonuses import BonusEvent, BonusStatus, CampaignKind, PlayerBonus
from models.players import Player
from services import ledger, wallet
from services.bonuses import books, events
from services.bonuses.rules import CampaignRules, days, required_wagering
from services.wallet import Actor

log = get_logger(__name__)
SYSTEM = Actor("system")


async def locked(db: AsyncSession, bonus_id: uuid.UUID) -> tuple[PlayerBonus, books.Held]:
    """The bonus, re-read after its player's cash row is locked (so no bet is halfway through it)."""
    bonus = await db.get(PlayerBonus, bonus_id)
    if bonus is None:
        raise DomainError("No such bonus.", field="bonusId", code=ErrorCode.NOT_FOUND)
    held = await books.lock_player(db, bonus)
    bonus = (
        await db.scalars(
            select(PlayerBonus).where(col(PlayerBonus.id) == bonus_id).execution_options(populate_existing=True)
        )
    ).one()
    return bonus, held


async def activate(
    db: AsyncSession,
    bonus: PlayerBonus,
    held: books.Held,
    amount: int,
    rules: CampaignRules,
    actor: Actor,
    *,
    deposit: int = 0,
) -> None:
    """Credit the bonus money and start the wagering clock."""
    now = clock.now()
    result = await books.grant(db, bonus, held, amount, "grant", actor) if amount > 0 else None
    player = await db.get(Player, bonus.player_id)
    assert player is not None
    required, asked = required_wagering(rules, amount, deposit, player.jurisdiction)
    bonus.amount = amount
    bonus.deposit_amount = deposit
    bonus.wagering_required = required
    if rules.max_conversion_multiple is not None:
        bonus.max_conversion = rules.max_conversion_multiple * max(amount, 1)
    bonus.status = BonusStatus.ACTIVE.value
    bonus.activated_at = now
    bonus.expires_at = now + days(rules.days_to_wager)
    await books.note(
        db,
        bonus,
        "activated",
        actor,
        amount=amount,
        transaction=result.transaction_id if result else None,
        details={
            "wagering_required": bonus.wagering_required,
            "deposit": deposit,
            # The jurisdiction's cap lowered what the rules asked (bonus + deposit above cap x the bonus).
            **({"wagering_asked": asked, "capped_by": player.jurisdiction} if asked != required else {}),
        },
    )
    await db.flush()
    await events.announce(
        db,
        bonus,
        "bonus.activated",
        deposit_amount=deposit,
        free_rounds=bonus.spins_total,
        expires_at=bonus.expires_at.isoformat(),
    )


async def complete(db: AsyncSession, bonus_id: uuid.UUID, actor: Actor) -> int:
    """Wagering met: convert (up to the cap). Returns the player's cash balance after."""
    bonus, held = await locked(db, bonus_id)
    if bonus.status != BonusStatus.ACTIVE:
        return held.cash
    reopened = int(
        await db.scalar(
            select(func.count())
            .select_from(BonusEvent)
            .where(col(BonusEvent.bonus_id) == bonus_id, col(BonusEvent.kind) == "reopened")
        )
        or 0
    )
    paid, result = await books.convert(db, bonus, held, actor, f"convert:{reopened}" if reopened else "convert")
    bonus.status = BonusStatus.COMPLETED.value
    bonus.converted += paid
    bonus.capped += max(0, held.bonus - paid)  # what the cap withheld went back to the bonus cost
    bonus.ended_at = clock.now()
    await books.note(
        db,
        bonus,
        "converted",
        actor,
        amount=paid,
        transaction=result.transaction_id if result else None,
        details={"bonus_balance": held.bonus, "capped": held.bonus - paid},
    )
    await db.flush()
    await events.announce(db, bonus, "bonus.completed", converted=paid, capped=max(0, held.bonus - paid))
    return held.cash + paid


async def complete_if_met(db: AsyncSession, bonus_id: uuid.UUID, actor: Actor) -> int | None:
    """A round closed with no win: convert if its wagering is met. The cash balance after, or None."""
    bonus, _ = await locked(db, bonus_id)
    if not met(bonus):
        return None
    return await complete(db, bonus_id, actor)


async def end(
    db: AsyncSession,
    bonus_id: uuid.UUID,
    status: BonusStatus,
    actor: Actor,
    reason: str | None = None,
    *,
    cause: str | None,
) -> PlayerBonus:
    """Forfeit, expire, cancel or release: whatever bonus money is left returns to the operator. `reason` is
    for the bonus's history (staff's words included); `cause`, the code its event carries (forfeits and
    cancellations: core/catalogue/bonuses.py)."""
    bonus, held = await locked(db, bonus_id)
    if not BonusStatus(bonus.status).in_play:
        raise DomainError(f"This bonus is already {bonus.status}.", field="bonusId", code=ErrorCode.INVALID_STATE)
    result = await books.take_back(db, bonus, held, status.value, actor) if bonus.status == BonusStatus.ACTIVE else None
    bonus.status = status.value
    bonus.ended_at = clock.now()
    await books.note(
        db,
        bonus,
        status.value,
        actor,
        amount=held.bonus if result else 0,
        transaction=result.transaction_id if result else None,
        details={"reason": reason},
    )
    await db.flush()
    await events.announce(db, bonus, f"bonus.{status.value}", **_ended(bonus, status, actor, result, held, cause))
    return bonus


def _ended(
    bonus: PlayerBonus,
    status: BonusStatus,
    actor: Actor,
    result: ledger.Result | None,
    held: books.Held,
    cause: str | None,
) -> dict[str, Any]:
    """What the event of a bonus's end adds: the bonus money returned, and why it ended."""
    if status == BonusStatus.RELEASED:  # never active: no money to return
        return {"payment_id": str(bonus.payment_id)}
    fields: dict[str, Any] = {"returned": held.bonus if result else 0}
    if status in (BonusStatus.FORFEITED, BonusStatus.CANCELLED):
        fields["cause"] = cause
    if status == BonusStatus.CANCELLED and actor.type == "staff" and actor.id is not None:
        fields["staff_id"] = str(actor.id)
    return fields


async def max_bet_refused(db: AsyncSession, bonus_id: uuid.UUID, amount: int, max_bet: int, provider: str) -> None:
    """History for support: the bet was refused (nothing moved), not confiscated afterwards."""
    db.add(
        BonusEvent(
            bonus_id=bonus_id,
            kind="bet_refused_max_bet",
            amount=amount,
            actor_type="provider",
            details={"max_bet": max_bet, "provider": provider},
            at=clock.now(),
        )
    )
    await db.flush()


# ---- withdrawals ----------------------------------------------------------------------------------


async def before_withdrawal(db: AsyncSession, player_id: uuid.UUID, currency: str, *, forfeit: bool) -> list[uuid.UUID]:
    """A withdrawal while a bonus is active asks first (BONUS_ACTIVE); with `forfeit` it returns the bonuses
    the withdrawal will forfeit — once its hold has succeeded (`forfeit_for_withdrawal`), in the same
    transaction, so a refused withdrawal forfeits nothing. Moves nothing itself. Decided under the
    player's cash-row lock, so a deposit activating a match (or a bet converting a bonus) is wholly
    before the withdrawal or wholly after its hold."""
    player = await db.get(Player, player_id)
    assert player is not None
    accounts = await wallet.player_accounts(db, player_id, player.brand_id, currency)
    await wallet.lock_player_money(db, player_id, cash=accounts.cash)  # the hold and a void take it first too
    active = (
        await db.scalars(
            select(PlayerBonus.id).where(
                col(PlayerBonus.player_id) == player_id,
                col(PlayerBonus.currency) == currency,
                col(PlayerBonus.status) == BonusStatus.ACTIVE.value,
            )
        )
    ).all()
    if active and not forfeit:
        raise DomainError(
            "You have an active bonus: withdrawing forfeits it and its winnings. Confirm with "
            "forfeitBonuses: true to withdraw anyway.",
            field="forfeitBonuses",
            code=ErrorCode.BONUS_ACTIVE,
        )
    return list(active)


async def forfeit_for_withdrawal(db: AsyncSession, bonus_ids: list[uuid.UUID], actor: Actor) -> None:
    """The withdrawal is held: the bonuses it was asked to forfeit end (their money returns to the
    operator), in its transaction — the lock taken by `before_withdrawal` is still held, so nothing
    else changed them meanwhile."""
    for bonus_id in bonus_ids:
        await end(db, bonus_id, BonusStatus.FORFEITED, actor, "withdrawal", cause="withdrawal")


# ---- expiry and conversion outside the bet path ------------------------------------------------------

# Active bonuses whose wagering is met and that no round still waits on: none of the bonus's bets is in a
# round that is open, unless the bet is older than the grace (a round the provider never closed). A win
# may still come for an open round, and conversion waits for it (docs/bonuses.md).
_CONVERTIBLE = text("""
SELECT pb.id FROM player_bonuses pb
WHERE pb.status = 'active' AND pb.spins_left = 0 AND pb.wagering_done >= pb.wagering_required
  AND pb.activated_at <= :now AND (CAST(:bonus AS uuid) IS NULL OR pb.id = CAST(:bonus AS uuid))
  AND NOT EXISTS (SELECT 1 FROM bonus_wagers w JOIN game_rounds gr ON gr.id = w.round_id
                  WHERE w.bonus_id = pb.id AND gr.status = 'open' AND w.created_at > :stale)
ORDER BY pb.activated_at LIMIT :limit
""")


def met(bonus: PlayerBonus) -> bool:
    """Active, its free rounds played and its wagering done: ready to convert."""
    return (
        bonus.status == BonusStatus.ACTIVE and not bonus.spins_left and bonus.wagering_done >= bonus.wagering_required
    )


async def settle(
    db: AsyncSession, bonus_id: uuid.UUID, actor: Actor, *, now: datetime, stale: datetime | None = None
) -> BonusStatus | None:
    """Under the player's lock, what is due of a bonus now: past its expiry it converts if its wagering was
    met (the bet path adds no progress after the expiry, so it was met in time) and expires otherwise;
    before it, it converts once its wagering is met and no round of it is still open (`stale`: the
    bets older than this do not hold it). Returns the status it moved to, if it moved."""
    bonus, _ = await locked(db, bonus_id)
    if not BonusStatus(bonus.status).in_play:
        return None
    overdue = bonus.expires_at is not None and bonus.expires_at <= now
    if met(bonus) and (overdue or (stale is not None and await _nothing_open(db, bonus_id, now, stale))):
        await complete(db, bonus_id, actor)
        return BonusStatus.COMPLETED
    if overdue:
        await end(db, bonus_id, BonusStatus.EXPIRED, actor, "expiry", cause=None)
        return BonusStatus.EXPIRED
    return None


async def _nothing_open(db: AsyncSession, bonus_id: uuid.UUID, now: datetime, stale: datetime) -> bool:
    found = await db.execute(_CONVERTIBLE, {"now": now, "bonus": bonus_id, "stale": stale, "limit": 1})
    return found.first() is not None


async def expire_due(rt: Runtime, *, now: datetime | None = None, limit: int = 500) -> int:
    """The worker's job (and `croupier bonuses expire`): bonuses past their expiry end as expired (or
    convert, if their wagering was met in time); bonuses whose wagering is met and whose rounds have all
    closed (or gone stale) convert. Each bonus is re-read under its player's lock and decided by `settle`,
    so a bet racing the worker is either before it or after it; one transaction per bonus, so one failure
    stops nothing else."""
    now = now or clock.now()
    stale = now - timedelta(seconds=rt.settings.bonus_open_round_grace_seconds)
    async with rt.database.session() as db:
        due = (
            await db.scalars(
                select(PlayerBonus.id)
                .where(
                    col(PlayerBonus.status).in_([BonusStatus.ISSUED.value, BonusStatus.ACTIVE.value]),
                    col(PlayerBonus.expires_at) <= now,
                )
                .order_by(col(PlayerBonus.expires_at))
                .limit(limit)
            )
        ).all()
        convertible = (
            (await db.execute(_CONVERTIBLE, {"now": now, "bonus": None, "stale": stale, "limit": limit}))
            .scalars()
            .all()
        )
    changed = 0
    for bonus_id in dict.fromkeys([*due, *convertible]):
        try:
            async with rt.database.transaction() as db:
                if await settle(db, bonus_id, SYSTEM, now=now, stale=stale) is not None:
                    changed += 1
        except Exception:
            log.exception("bonus_settle_failed", bonus_id=str(bonus_id))
    return changed


def claim_expiry(kind: CampaignKind, rules: CampaignRules) -> datetime:
    """When a bonus still waiting (for its deposit) expires."""
    return clock.now() + days(
        rules.days_to_claim if kind in (CampaignKind.DEPOSIT_MATCH, CampaignKind.RELOAD) else rules.days_to_wager
    )
