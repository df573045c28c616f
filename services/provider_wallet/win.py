"""A win: it needs a processed, not rolled-back bet of the same player (named, or any of the round's for
protocols that name the round), in that bet's currency; a win rolled back before it arrived stays refused.
A bonus holder's win follows its bet's split; the wagering met, the bonus converts. A win with no bet (a
supplier's promotion, a free-bet reward's win) is async_win.py's.

A plain player's new win is also decided by `sql/wallet/wallet_play_v2.sql` in one database call (it falls
back here for anything else): a rule changed here changes there too, in a new function version."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.money import CURRENCIES
from models.ledger import AccountPurpose
from services import ledger, wallet
from services.bonuses import lifecycle as bonus_lifecycle
from services.bonuses import play as bonus_play
from services.provider_wallet import async_win, booking
from services.provider_wallet.context import Context
from services.provider_wallet.replay import ok
from services.provider_wallet.types import (
    Decision,
    Dialect,
    Kind,
    Purse,
    Record,
    Status,
    WalletCommand,
    WalletResult,
    provider_actor,
    reference,
    refuse,
)
from services.rg import gates as rg_gates


async def decide(
    db: AsyncSession,
    command: WalletCommand,
    dialect: Dialect,
    ctx: Context,
    state: Any,
    bonus: bonus_play.State,
    purse: Purse,
    current: int | None,
) -> Decision:
    if async_win.is_async(command) and ctx.player_id is not None and ctx.cash_id is None:
        return refuse(command, Status.WRONG_CURRENCY)  # no bet to name: the player has no wallet in that currency
    if ctx.player_id is None or ctx.cash_id is None or ctx.brand_id is None:
        return refuse(command, Status.TRANSACTION_DOES_NOT_EXIST)
    if state.rolled_back_by is not None:  # this win was rolled back before it arrived
        result = WalletResult(Status.TRANSACTION_DOES_NOT_EXIST, command.user, command.currency, current)
        return result, Record(ctx.player_id, command.currency, command.amount)
    if command.supplier_promo:  # no bet: the supplier's own promotion (async_win.py)
        return await async_win.supplier_promo(db, command, ctx, current)
    wager = bonus.ref if command.reference_uuid is not None else bonus.round
    if async_win.is_async(command):  # a free-bet reward's win naming no bet: it follows the reward's bonus
        wager, refusal = await async_win.reward_wager(db, command, ctx)
    else:
        refusal = _unpaired(command, dialect, ctx, state)
        if refusal is None and command.reference_uuid is None and not await _round_bet_stands(db, state.round_id):
            refusal = Status.TRANSACTION_DOES_NOT_EXIST  # the round's bets were all rolled back: nothing to win on
    if refusal is not None:
        return refuse(command, refusal, current)
    assert current is not None
    assert command.currency is not None
    ledger_id: uuid.UUID | None = None
    balance_after = current
    paid = bonus_play.WinSplit(command.amount, 0, 0, free=False)
    if command.amount > 0:
        ledger_id, balance_after, paid = await _pay(db, command, ctx, wager, current)
    round_id = await booking.win_round(db, command, ctx)
    if wager is not None:
        balance_after = await _wager(db, command, wager, paid, ledger_id, round_id, purse, balance_after)
    return (
        WalletResult(Status.OK, command.user, command.currency, balance_after),
        Record(ctx.player_id, command.currency, command.amount, round_id, ledger_id),
    )


def _unpaired(command: WalletCommand, dialect: Dialect, ctx: Context, state: Any) -> Status | None:
    """Why this win has no bet to pay out on, or not in this currency."""
    if command.reference_uuid is not None:
        if not (
            ok(dialect, state.ref_status)
            and state.ref_kind == Kind.BET.value
            and state.ref_player == ctx.player_id
            and not state.ref_rolled_back
        ):
            return Status.TRANSACTION_DOES_NOT_EXIST
        if command.currency != state.ref_currency:
            return Status.WRONG_CURRENCY
    elif state.round_id is None:  # protocols that name the round, not the bet
        return Status.TRANSACTION_DOES_NOT_EXIST
    if command.currency is None or command.currency not in CURRENCIES:
        return Status.WRONG_CURRENCY
    return None


_ROUND_BET = text(
    "SELECT EXISTS (SELECT 1 FROM provider_transactions WHERE round_id = :round AND kind = 'bet' AND NOT rolled_back)"
)


async def _round_bet_stands(db: AsyncSession, round_id: uuid.UUID) -> bool:
    """A win naming only its round needs a bet of the round still standing (a refused bet opens no round)."""
    return bool(await db.scalar(_ROUND_BET, {"round": round_id}))


async def _pay(
    db: AsyncSession, command: WalletCommand, ctx: Context, wager: bonus_play.Wager | None, current: int
) -> tuple[uuid.UUID | None, int, bonus_play.WinSplit]:
    """The win on the ledger (house → player; a bonus holder's by its bet's split, a free round's from the
    bonus cost) and the RG counter. Returns the ledger transaction, the cash after and the split."""
    assert ctx.brand_id is not None
    assert ctx.cash_id is not None
    assert command.currency is not None
    paid = bonus_play.WinSplit(command.amount, 0, 0, free=False)
    house = await wallet.operator_account(db, ctx.brand_id, AccountPurpose.HOUSE_REVENUE, command.currency)
    legs = booking.pair(ctx.cash_id, command.amount, house)
    if wager is not None:  # a bonus holder's bet: the win follows its split
        paid = bonus_play.split_win(wager, command.amount)
        cost = (
            await wallet.operator_account(db, ctx.brand_id, AccountPurpose.BONUS_COST, command.currency)
            if paid.free
            else house
        )
        assert ctx.bonus_account is not None
        legs = bonus_play.win_legs(ctx.cash_id, ctx.bonus_account, house, cost, paid)
    if not legs:
        return None, current, paid
    outcome = await ledger.record(db, booking.entry(command, ctx, "game_win", legs))
    await rg_gates.count_play(
        db,
        ctx.bettor(command.currency),
        command.currency,
        outcome.created_at,
        won=paid.cash if wager is not None else command.amount,
    )
    return outcome.transaction_id, booking.cash_after(outcome, ctx.cash_id, current), paid


async def _wager(
    db: AsyncSession,
    command: WalletCommand,
    wager: bonus_play.Wager,
    paid: bonus_play.WinSplit,
    ledger_id: uuid.UUID | None,
    round_id: uuid.UUID | None,
    purse: Purse,
    balance_after: int,
) -> int:
    """A bonus holder's win: its split recorded on the bonus and, the wagering met, the conversion; a round
    closed with no win converts a bonus whose wagering is met. Returns the cash balance after."""
    if command.amount > 0:
        purse.bonus += paid.bonus
        progress = await bonus_play.record(
            db,
            reference=reference(command),
            ledger_id=ledger_id,
            bonus_id=wager.bonus_id,
            kind="free_win" if paid.free else "win",
            round_id=round_id,
            cash=paid.cash,
            bonus=paid.bonus,
            converted=paid.converted,
            withheld=paid.withheld,
            granted=paid.bonus if paid.free else 0,
            required=bonus_play.wagering_for(wager.terms, paid.bonus) if paid.free else 0,
        )
        if progress.met:
            purse.bonus = 0
            return await bonus_lifecycle.complete(db, wager.bonus_id, provider_actor(command))
    elif command.round_closed and wager.status == "active":  # a round closed with no win
        converted = await bonus_lifecycle.complete_if_met(db, wager.bonus_id, provider_actor(command))
        if converted is not None:
            purse.bonus = 0
            return converted
    return balance_after
