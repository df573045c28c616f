"""The money side of bonuses: every movement of bonus money as one balanced ledger transaction.

- grant:      operator bonus-cost -X, player bonus +X
- convert:    player bonus -B, player cash +min(B, cap room), bonus-cost +(the rest) (`convert:{n}` after
              the n-th reopening: a rollback of the stake that met the wagering undoes a conversion)
- forfeit / expire / cancel: player bonus -B, bonus-cost +B
- cashback without wagering: bonus-cost -X, player cash +X

Each is keyed (`bonus:{id}:{step}`), so a retried command moves money once. Every command that
moves a player's bonus money first takes the player's money lock (their cash row, through
services/wallet.py `lock_player_money`), as the provider wallet does for a bet: all of a player's money
commands serialise on that one row, in that one order, so a bet and a conversion (or an expiry) can never
interleave or deadlock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from models.bonuses import BonusEvent, PlayerBonus
from models.ledger import AccountPurpose
from services import ledger, wallet
from services.ledger import Entry, Leg

# Read after the money lock, in its own statement: every writer of the bonus account holds the cash row,
# so this read is current (a column read in the locking statement could predate the lock wait).
_BONUS_BALANCE = text("SELECT balance FROM ledger_accounts WHERE id = :bonus")


@dataclass(frozen=True)
class Held:
    """A player's accounts in a currency, with the balances read under the cash row's lock."""

    accounts: wallet.PlayerAccounts
    cash: int
    bonus: int


async def lock_player(db: AsyncSession, bonus: PlayerBonus) -> Held:
    accounts = await wallet.player_accounts(db, bonus.player_id, bonus.brand_id, bonus.currency)
    cash = (await wallet.lock_player_money(db, bonus.player_id, cash=accounts.cash)).cash
    balance = int((await db.execute(_BONUS_BALANCE, {"bonus": accounts.bonus})).scalar_one())
    return Held(accounts, cash, balance)


async def bonus_cost(db: AsyncSession, bonus: PlayerBonus) -> uuid.UUID:
    return await wallet.operator_account(db, bonus.brand_id, AccountPurpose.BONUS_COST, bonus.currency)


def _entry(
    bonus: PlayerBonus,
    step: str,
    kind: str,
    legs: tuple[Leg, ...],
    actor: wallet.Actor,
    details: dict[str, Any] | None = None,
) -> Entry:
    return Entry(
        idempotency_key=f"bonus:{bonus.id}:{step}",
        kind=kind,
        legs=legs,
        actor_type=actor.type,
        actor_id=actor.id,
        brand_id=bonus.brand_id,
        player_id=bonus.player_id,
        reference_type="bonus",
        reference_id=str(bonus.id),
        details={"campaign": str(bonus.campaign_id), **(details or {})},
    )


async def grant(
    db: AsyncSession, bonus: PlayerBonus, held: Held, amount: int, step: str, actor: wallet.Actor
) -> ledger.Result:
    """Bonus money from the operator's bonus cost to the player's bonus account."""
    cost = await bonus_cost(db, bonus)
    return await ledger.record(
        db, _entry(bonus, step, "bonus_grant", (Leg(held.accounts.bonus, amount), Leg(cost, -amount)), actor)
    )


async def pay_cash(
    db: AsyncSession, bonus: PlayerBonus, held: Held, amount: int, step: str, actor: wallet.Actor
) -> ledger.Result:
    """Cashback without wagering: straight from the bonus cost into cash."""
    cost = await bonus_cost(db, bonus)
    return await ledger.record(
        db, _entry(bonus, step, "bonus_cash", (Leg(held.accounts.cash, amount), Leg(cost, -amount)), actor)
    )


async def convert(
    db: AsyncSession, bonus: PlayerBonus, held: Held, actor: wallet.Actor, step: str = "convert"
) -> tuple[int, ledger.Result | None]:
    """Wagering met: the bonus balance becomes cash up to the cap; what is above it returns to the operator.
    `step`: a bonus reopened (its conversion undone by a rollback) converts again under a new key."""
    balance = held.bonus
    if balance <= 0:
        return 0, None
    room = balance if bonus.max_conversion is None else max(0, min(balance, bonus.max_conversion - bonus.converted))
    cost = await bonus_cost(db, bonus)
    legs = [Leg(held.accounts.bonus, -balance)]
    if room:
        legs.append(Leg(held.accounts.cash, room))
    if balance - room:
        legs.append(Leg(cost, balance - room))
    result = await ledger.record(
        db, _entry(bonus, step, "bonus_conversion", tuple(legs), actor, {"capped": balance - room})
    )
    return room, result


async def take_back(
    db: AsyncSession, bonus: PlayerBonus, held: Held, reason: str, actor: wallet.Actor
) -> ledger.Result | None:
    """Forfeit, expiry or cancellation: the whole bonus balance returns to the operator."""
    if held.bonus <= 0:
        return None
    cost = await bonus_cost(db, bonus)
    kind = {"forfeited": "bonus_forfeit", "expired": "bonus_expiry", "cancelled": "bonus_cancel"}[reason]
    return await ledger.record(
        db, _entry(bonus, reason, kind, (Leg(held.accounts.bonus, -held.bonus), Leg(cost, held.bonus)), actor)
    )


async def note(
    db: AsyncSession,
    bonus: PlayerBonus,
    kind: str,
    actor: wallet.Actor,
    *,
    amount: int | None = None,
    transaction: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One line of the bonus's history."""
    db.add(
        BonusEvent(
            bonus_id=bonus.id,
            kind=kind,
            amount=amount,
            ledger_transaction_id=transaction,
            actor_type=actor.type,
            actor_id=actor.id,
            details=details,
            at=clock.now(),
        )
    )
