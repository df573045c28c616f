"""Money a provider moves with no bet to pair it with: a credit (a free-rounds total, a jackpot, a promotion's
prize, a positive adjustment) or a debit (a negative adjustment of a live game).

These come late and on their own: the player may be offline and every game session long ended, so neither
the token nor a session is asked for; the player named (`command.user`) and the currency are enough. A
credit is paid whatever the player's standing (a blocked or excluded player's prize is still theirs; their
withdrawal rules decide what happens to it); a debit needs the cash to be there (NOT_ENOUGH_MONEY otherwise:
bonus money is never taken by an adjustment).

The same guarantees as a bet or a win (services/provider_wallet/__init__.py): one database transaction with
the provider transaction and the call log; the transaction uuid processed once, forever (a retry with the same
content gets the first answer, with other content it is DUPLICATE_TRANSACTION); the ledger key backs it up; the
player's money lock in the one order. A credit is stored as a `win` (ledger `game_win`: house → player cash),
a debit as a `bet` (ledger `game_bet`), so the books' cross-checks (services/ledger_checks.py) hold them like
any other; both count on the player's RG activity as a win or a stake does.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.runtime import Runtime
from models.ledger import AccountPurpose, TransactionStatus
from services import ledger, wallet
from services.bonuses import play as bonus_play
from services.provider_wallet import booking, replay
from services.provider_wallet.commands import answer_decision, duplicate
from services.provider_wallet.context import Context, lock_money, read_context, read_state, unrepresentable
from services.provider_wallet.types import (
    Answer,
    Decision,
    Dialect,
    Duplicate,
    Kind,
    Purse,
    Record,
    Status,
    WalletCommand,
    WalletResult,
    refuse,
)
from services.rg import gates as rg_gates


async def credit(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    """Pay `command.amount` to the player's cash (a zero amount is recorded, and moves nothing)."""
    return await _moved(rt, command, dialect, Kind.WIN)


async def debit(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    """Take `command.amount` from the player's cash."""
    return await _moved(rt, command, dialect, Kind.BET)


async def _moved(rt: Runtime, command: WalletCommand, dialect: Dialect, kind: Kind) -> Answer:
    try:
        async with rt.database.transaction() as db:
            return await _run(db, command, dialect, kind)
    except (Duplicate, ledger.IdempotencyConflict):
        return await duplicate(rt, command, dialect)


async def _run(db: AsyncSession, command: WalletCommand, dialect: Dialect, kind: Kind) -> Answer:
    ctx = await read_context(db, command)  # first: it checks the provider row
    purse = Purse(0)
    if command.unrepresentable:
        return await answer_decision(db, command, dialect, kind, refuse(command, unrepresentable(command, ctx)), purse)
    if ctx.player_id is None or ctx.brand_id is None or command.currency is None:
        return await answer_decision(db, command, dialect, kind, refuse(command, Status.INVALID_TOKEN), purse)
    if ctx.cash_id is None and command.currency != ctx.player_currency:
        # a currency the player holds no wallet in (a promoWin naming its own): refused, no account is opened
        return await answer_decision(db, command, dialect, kind, refuse(command, Status.WRONG_CURRENCY), purse)
    current = await _lock(db, command, ctx)
    state = await read_state(db, command, ctx, kind)
    purse.bonus = bonus_play.state_of(state).balance
    again = await replay.replayed(db, command, dialect, kind, state, current, purse)
    if again is not None:
        return again
    decision = await _book(db, command, ctx, kind, current)
    return await answer_decision(db, command, dialect, kind, decision, purse)


async def _lock(db: AsyncSession, command: WalletCommand, ctx: Context) -> int:
    """The transaction's key, then the player's cash row (opened on first use: an offline player may never
    have held this currency); returns the cash balance under the lock."""
    assert ctx.player_id is not None
    assert ctx.brand_id is not None
    assert command.currency is not None
    if ctx.cash_id is None:
        ctx.cash_id = (await wallet.player_accounts(db, ctx.player_id, ctx.brand_id, command.currency)).cash
    return await lock_money(db, ctx, ctx.cash_id, serial=f"{command.provider.id}:{command.transaction_uuid}")


async def _book(db: AsyncSession, command: WalletCommand, ctx: Context, kind: Kind, current: int) -> Decision:
    assert ctx.brand_id is not None
    assert ctx.cash_id is not None
    assert command.currency is not None
    if command.amount == 0:  # a free-rounds total of nothing is a loss: answered and remembered, nothing moves
        return WalletResult(Status.OK, command.user, command.currency, current), Record(
            ctx.player_id, command.currency, 0
        )
    to_cash = command.amount if kind == Kind.WIN else -command.amount
    house = await wallet.operator_account(db, ctx.brand_id, AccountPurpose.HOUSE_REVENUE, command.currency)
    legs = booking.pair(ctx.cash_id, to_cash, house)
    outcome = await ledger.record(db, booking.entry(command, ctx, f"game_{kind.value}", legs))
    if outcome.status == TransactionStatus.REFUSED:  # a debit the cash cannot pay: refused, and stays refused
        result = WalletResult(Status.NOT_ENOUGH_MONEY, command.user, command.currency, current)
        return result, Record(
            ctx.player_id, command.currency, command.amount, ledger_transaction_id=outcome.transaction_id
        )
    await rg_gates.count_play(
        db,
        ctx.bettor(command.currency),
        command.currency,
        outcome.created_at,
        wagered=command.amount if kind == Kind.BET else 0,
        won=command.amount if kind == Kind.WIN else 0,
    )
    balance_after = booking.cash_after(outcome, ctx.cash_id, current)
    ledger_id: uuid.UUID = outcome.transaction_id
    return (
        WalletResult(Status.OK, command.user, command.currency, balance_after),
        Record(ctx.player_id, command.currency, command.amount, None, ledger_id),
    )
