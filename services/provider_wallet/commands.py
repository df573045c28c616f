"""The money commands, bet, win and rollback, in one frame: the one call's common case (one_call.py), else one
database transaction that reads the context, takes the locks, reads the state under them, gives a stored answer
again (replay.py) or decides (bet.py, win.py, rollback.py), then stores the provider transaction with its answer
and logs the call."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from core.fx import Rates
from core.money import CURRENCIES
from core.runtime import Runtime
from services.bonuses import play as bonus_play
from services.ledger import IdempotencyConflict
from services.provider_wallet import bet as bet_step
from services.provider_wallet import one_call, replay, statements
from services.provider_wallet import rollback as rollback_step
from services.provider_wallet import win as win_step
from services.provider_wallet.context import read_context, read_state, take_locks, unrepresentable
from services.provider_wallet.types import (
    Answer,
    Decision,
    Dialect,
    Duplicate,
    Kind,
    Purse,
    Status,
    WalletCommand,
    WalletResult,
    request_hash,
)


async def bet(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    return await _transaction(rt, command, dialect, Kind.BET)


async def win(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    return await _transaction(rt, command, dialect, Kind.WIN)


async def rollback(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    return await _transaction(rt, command, dialect, Kind.ROLLBACK)


async def _transaction(rt: Runtime, command: WalletCommand, dialect: Dialect, kind: Kind) -> Answer:
    try:
        return await _decided(rt, command, dialect, kind)
    except (Duplicate, IdempotencyConflict):
        return await duplicate(rt, command, dialect)


async def duplicate(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    """A known transaction uuid with other content: its transaction rolled back and the refusal moved nothing.
    Log the call on its own."""
    result = WalletResult(Status.DUPLICATE_TRANSACTION, command.user, command.currency)
    body = dialect.render(command, result)
    async with rt.database.transaction() as db:
        await statements.log_call(db, command, body)
    return Answer(result, body)


async def _decided(rt: Runtime, command: WalletCommand, dialect: Dialect, kind: Kind) -> Answer:
    """The one call's common case (one_call.py: one round trip, its own database transaction), else the Python
    path in one database transaction."""
    if one_call.eligible(command, kind, dialect):
        try:
            decided = await one_call.play(rt.database.engine, command, dialect, kind, one_call.batcher(rt))
        except one_call.KeyUsed:  # rolled back: the Python path answers a used ledger key
            decided = None
        if decided is not None:
            return Answer(decided, dialect.render(command, decided))
    async with rt.database.transaction() as db:
        return await _run(db, command, dialect, kind, rt.settings.stated_rates)


async def _run(db: AsyncSession, command: WalletCommand, dialect: Dialect, kind: Kind, rates: Rates) -> Answer:
    ctx = await read_context(db, command, rates)
    if command.unrepresentable:  # refused before any lock: nothing can move, nothing is recorded
        result = WalletResult(unrepresentable(command, ctx), command.user, command.currency)
        body = dialect.render(command, result)
        await statements.log_call(db, command, body)
        return Answer(result, body)
    ctx, current = await take_locks(db, command, ctx, kind, rates)
    state = await read_state(db, command, ctx, kind)
    bonus = bonus_play.state_of(state)
    purse = Purse(bonus.balance)
    again = await replay.replayed(db, command, dialect, kind, state, current, purse)
    if again is not None:
        return again
    decision: Decision
    if kind == Kind.BET:
        decision = await bet_step.decide(db, command, ctx, state, bonus, purse, current)
    elif kind == Kind.WIN:
        decision = await win_step.decide(db, command, dialect, ctx, state, bonus, purse, current)
    else:
        decision = await rollback_step.decide(db, command, dialect, ctx, state, bonus, purse, current)
    return await _answer(db, command, dialect, kind, decision, purse)


async def _answer(
    db: AsyncSession, command: WalletCommand, dialect: Dialect, kind: Kind, decision: Decision, purse: Purse
) -> Answer:
    """The answer rendered, the provider transaction stored with it (when the command reached the money
    decision) and the call logged."""
    result, record = decision
    if result.balance is not None:  # the provider sees one balance: cash and bonus money together
        result = replace(result, balance=result.balance + purse.bonus)
    body = dialect.render(command, result)
    if record is not None:
        stored = await statements.record_transaction(
            db,
            command,
            kind,
            request_hash=request_hash(command, kind),
            status=dialect.status_code(result.status),
            player_id=record.player_id,
            round_id=record.round_id,
            currency=record.currency if record.currency in CURRENCIES else None,
            amount=record.amount,
            ledger_transaction_id=record.ledger_transaction_id,
            balance=result.balance,
            body=body,
        )
        if not stored:
            raise Duplicate  # another player's transaction with this uuid committed first
    await statements.log_call(db, command, body)
    return Answer(result, body)


answer_decision = _answer  # the same last step for money moved with no bet (award.py)
