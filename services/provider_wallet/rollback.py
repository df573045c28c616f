"""A rollback: of a transaction we never saw, it answers OK, moves nothing and is remembered (the late
original is refused); of a known one, it books the reverse on that transaction's player's cash account in
that transaction's currency, exactly the recorded split for a bonus holder, and undoes its RG count (on the
day it was counted) and its round's totals. Only the transaction's own `rolled_back` flag says it was
undone: a refused rollback, or one sent as another player, does not."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.money import CURRENCIES
from models.ledger import AccountPurpose, TransactionStatus
from services import ledger, wallet
from services.bonuses import play as bonus_play
from services.provider_wallet import async_win, booking, statements
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
    if state.ref_kind is None or state.ref_kind == Kind.ROLLBACK.value:
        # Unknown (or a rollback of a rollback): nothing to undo. Remembered, so the original is refused.
        currency = command.currency if command.currency in CURRENCIES else None
        if command.currency is None:
            currency = ctx.cash_currency  # the balance is shown in the account we read
        return WalletResult(Status.OK, command.user, currency, current), Record(ctx.player_id, currency, 0)
    # Known: only what actually happened to it counts (its rolled_back flag, set by a rollback that
    # moved money), never another rollback row naming it (refused, or sent as another player).
    currency = state.ref_currency
    if command.currency is not None and command.currency != currency:
        return refuse(command, Status.WRONG_CURRENCY)
    unchanged = WalletResult(Status.OK, command.user, currency, current)
    wager = bonus.ref
    standing = _ok_and_own(dialect, ctx, state)
    if wager is not None and wager.kind == "free_bet" and standing:
        # A voided free round gives its spin back.
        await bonus_play.undo(db, wager, spins=1)
        await statements.mark_rolled_back(db, state.ref_id)
        return unchanged, Record(ctx.player_id, currency, 0, state.ref_round)
    if not standing or state.ref_ledger is None or ctx.cash_id is None:
        # Already undone, refused or free (nothing moved), or not this player's: nothing moves.
        return unchanged, Record(ctx.player_id, currency, 0)
    assert current is not None
    assert currency is not None
    return await _reverse(db, command, ctx, state, wager, purse, current, currency)


def _ok_and_own(dialect: Dialect, ctx: Context, state: Any) -> bool:
    """The named transaction stands: processed, not rolled back, and this player's."""
    return not state.ref_rolled_back and ok(dialect, state.ref_status) and state.ref_player == ctx.player_id


async def _reverse(
    db: AsyncSession,
    command: WalletCommand,
    ctx: Context,
    state: Any,
    wager: bonus_play.Wager | None,
    purse: Purse,
    current: int,
    currency: str,
) -> Decision:
    """The reverse of what the named transaction moved, its mark, its bonus effects, its RG count and its
    round; NOT_ENOUGH_MONEY (nothing moves) for a win already spent."""
    assert ctx.player_id is not None
    assert ctx.brand_id is not None
    assert ctx.cash_id is not None
    amount = int(state.ref_amount)
    was_bet = state.ref_kind == Kind.BET.value
    house = await wallet.operator_account(db, ctx.brand_id, AccountPurpose.HOUSE_REVENUE, currency)
    if not was_bet and wager is None:  # a supplier's promotional win goes back to the supplier, not the house
        house = await async_win.funding_of(db, state.ref_ledger, house)
    to_cash = amount if was_bet else -amount
    legs = booking.pair(ctx.cash_id, to_cash, house)
    reversal: bonus_play.Reversal | None = None
    if wager is not None:  # exactly the recorded split, wherever its bonus now stands
        cost = await wallet.operator_account(db, ctx.brand_id, AccountPurpose.BONUS_COST, currency)
        assert ctx.bonus_account is not None
        reversal = bonus_play.reverse(wager, was_bet, current)
        legs = bonus_play.reversal_legs(ctx.cash_id, ctx.bonus_account, house, cost, reversal)
    ledger_id: uuid.UUID | None = None
    balance_after = current
    if legs:  # (nothing to move when all of it was bonus money of a bonus since forfeited)
        outcome = await ledger.record(
            db, booking.entry(command, ctx, "game_bet_rollback" if was_bet else "game_win_rollback", legs)
        )
        if outcome.status == TransactionStatus.REFUSED:  # a win already spent: cannot be taken back
            result = WalletResult(Status.NOT_ENOUGH_MONEY, command.user, currency, current)
            return result, Record(ctx.player_id, currency, amount, ledger_transaction_id=outcome.transaction_id)
        ledger_id = outcome.transaction_id
        balance_after = booking.cash_after(outcome, ctx.cash_id, current)
    await statements.mark_rolled_back(db, state.ref_id)
    own_cash = amount
    if wager is not None and reversal is not None:
        purse.bonus += reversal.bonus
        own_cash = wager.cash
        await bonus_play.undo(
            db,
            wager,
            progress=-wager.contributed if was_bet else 0,
            converted=reversal.converted,
            granted=reversal.granted,
            capped=reversal.capped,
            reopen=reversal.reopen,
            ledger_id=ledger_id,
        )
    # Undone on the day it was counted, so a rollback never makes room in a later period.
    await rg_gates.count_play(
        db,
        ctx.bettor(currency),
        currency,
        state.ref_created_at,
        wagered=-own_cash if was_bet else 0,
        won=0 if was_bet else -own_cash,
    )
    if state.ref_round is not None:
        await statements.undo_round(db, state.ref_round, bet=amount if was_bet else 0, win=0 if was_bet else amount)
    return (
        WalletResult(Status.OK, command.user, currency, balance_after),
        Record(ctx.player_id, currency, amount, state.ref_round, ledger_id),
    )
