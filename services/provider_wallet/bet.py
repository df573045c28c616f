"""A bet, step by step (`decide`): a bet rolled back before it arrived stays refused; the session, the
player's standing, the token's expiry, the currency, the game (on, certified in the player's country) and its
min and max bet; the accounts on first play;
a bonus past its expiry settled first; the stake's split between cash and bonus money; the RG gate (under
the cash row's lock); a free round (`free_round`); the bonus's max bet; the stake on the ledger and the RG
counter; the round; the wagering and, when it is met with the round closed, the conversion.

The common case (a plain player's new bet) is also decided by `sql/wallet/wallet_play_v2.sql` in one
database call, which refuses what `_unplayable` refuses for the game (in its order, with its answers) and falls
back here for anything else it does not handle. A new refusal or side effect added here must make that function
fall back (or do the same), in a new function version: tests/providers/test_wallet_functions.py plays the same
calls both ways and compares rows and answers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from models.ledger import AccountPurpose, TransactionStatus
from models.players import PlayerStatus
from services import game_sessions, ledger, wallet
from services.bonuses import lifecycle as bonus_lifecycle
from services.bonuses import play as bonus_play
from services.provider_wallet import booking, statements
from services.provider_wallet.context import Context, lock_money
from services.provider_wallet.types import (
    Decision,
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
from services.risk import actions as risk_actions
from services.risk.store import OnSession


async def decide(
    db: AsyncSession,
    command: WalletCommand,
    ctx: Context,
    state: Any,
    bonus: bonus_play.State,
    purse: Purse,
    current: int | None,
) -> Decision:
    if state.rolled_back_by is not None:
        # Rolled back before it arrived: remembered as refused, so no retry ever moves money.
        result = WalletResult(Status.TRANSACTION_DOES_NOT_EXIST, command.user, command.currency, current)
        return result, Record(ctx.player_id, command.currency, command.amount)
    if ctx.player_id is None or ctx.session_player is None or ctx.session_player != ctx.player_id or ctx.mode != "real":
        return refuse(command, Status.INVALID_TOKEN)
    now = clock.now()
    refusal = _unplayable(command, ctx, state, now)
    if refusal == Status.TOKEN_EXPIRED and ctx.ended_at is not None and await _risk_blocked(db, ctx.player_id):
        refusal = Status.USER_DISABLED  # risk's block_account ended the session: the provider hears why
    if refusal is not None:
        return refuse(command, refusal, current)
    assert ctx.brand_id is not None
    assert command.currency is not None
    if ctx.cash_id is None:
        current = await _open_accounts(db, ctx, command.currency)
    assert current is not None
    active, current = await _settle_overdue_bonus(db, command, ctx, bonus.active, purse, current, now)
    from_cash, from_bonus = _split_stake(command, active, current)
    refusal = await _rg_gate(db, command, ctx, state, from_cash, now)
    if refusal is not None:
        return refuse(command, refusal, current)
    if command.is_free:
        return await free_round(db, command, ctx, bonus.grant, current, now)
    if await _above_bonus_max_bet(db, command, active):
        return refuse(command, Status.LIMIT_REACHED, current)
    ledger_id: uuid.UUID | None = None
    balance_after = current
    if command.amount > 0:
        staked = await _stake(db, command, ctx, active, from_cash, from_bonus, current)
        if isinstance(staked, tuple):
            return staked
        ledger_id, balance_after = staked.ledger_id, staked.balance_after
        purse.bonus -= from_bonus
    round_id = await statements.open_round(
        db,
        command,
        player_id=ctx.player_id,
        game_id=ctx.game_id,
        session_id=ctx.own_session_id,
        bet=command.amount,
        win=0,
    )
    if active is not None and command.amount > 0:
        balance_after = await _wager(
            db, command, ctx, active, ledger_id, round_id, from_cash, from_bonus, purse, balance_after
        )
    return (
        WalletResult(Status.OK, command.user, command.currency, balance_after),
        Record(ctx.player_id, command.currency, command.amount, round_id, ledger_id),
    )


def _unplayable(command: WalletCommand, ctx: Context, state: Any, now: datetime) -> Status | None:
    """Why this session cannot stake this amount on this game now, if it cannot."""
    # The account's state is the truer answer than its token's: ending a blocked or excluded player's
    # logins ended this game session too, yet the provider should hear why the player cannot play.
    if ctx.player_status != PlayerStatus.ACTIVE or state.rg_excluded is not None:
        return Status.USER_DISABLED
    if not game_sessions.can_bet(ctx.ended_at, ctx.expires_at, now):  # expired, or its login session ended
        return Status.TOKEN_EXPIRED
    if command.currency != ctx.session_currency:
        return Status.WRONG_CURRENCY
    if ctx.game_id is None or not ctx.game_enabled:  # withdrawn by a catalogue sync, or switched off
        return Status.INVALID_GAME
    # Certified where the player is, as launch has it (services/games._refuse_for): no declaration, no restriction.
    if ctx.game_jurisdictions and (ctx.country is None or ctx.country not in ctx.game_jurisdictions):
        return Status.NOT_CERTIFIED
    if booking.outside_bet_limits(ctx.min_bet, ctx.max_bet, command):
        return Status.LIMIT_REACHED
    return None


async def _risk_blocked(db: AsyncSession, player_id: uuid.UUID) -> bool:
    """Asked of a bet already refused for its ended session only: a valid bet's path reads nothing more (risk's
    `block_account` ends the player's game sessions, which the context statement, and wallet_play_v2, read)."""
    return (await risk_actions.in_force(OnSession(db), player_id)).blocked


async def _open_accounts(db: AsyncSession, ctx: Context, currency: str) -> int:
    """First play in this currency: open the accounts, then lock as usual; returns the cash balance."""
    assert ctx.player_id is not None
    assert ctx.brand_id is not None
    cash = (await wallet.player_accounts(db, ctx.player_id, ctx.brand_id, currency)).cash
    current = await lock_money(db, ctx, cash)
    ctx.cash_id = cash
    return current


async def _settle_overdue_bonus(
    db: AsyncSession,
    command: WalletCommand,
    ctx: Context,
    active: bonus_play.Active | None,
    purse: Purse,
    current: int,
    now: datetime,
) -> tuple[bonus_play.Active | None, int]:
    """A bonus past its expiry, the worker not there yet, is settled before the bet; returns the bonus still
    active and the cash balance."""
    if active is None or not active.overdue(now):
        return active, current
    await bonus_lifecycle.settle(db, active.id, provider_actor(command), now=now)
    current = await lock_money(db, ctx, ctx.cash_id)
    purse.bonus = 0
    return None, current


def _split_stake(command: WalletCommand, active: bonus_play.Active | None, current: int) -> tuple[int, int]:
    """The stake's split by the bonus's spend order: responsible-gambling limits check and count the
    player's own money, the cash part (a free round stakes none of it)."""
    if command.is_free:
        return 0, 0
    if active is not None:
        return bonus_play.split_stake(active, current, command.amount)
    return command.amount, 0


async def _rg_gate(
    db: AsyncSession, command: WalletCommand, ctx: Context, state: Any, from_cash: int, now: datetime
) -> Status | None:
    """Under the cash row's lock: concurrent bets of this player meet the limits one at a time. An accepted
    bet counts as time played for a player with a time limit."""
    assert command.currency is not None
    rg_state = rg_gates.BetState(state.rg_excluded, state.rg_check_due, state.rg_limits)
    refusal = await rg_gates.bet_refusal(db, ctx.bettor(command.currency), from_cash, rg_state)
    if refusal is not None:
        return Status.USER_DISABLED if refusal == rg_gates.BetRefusal.EXCLUDED else Status.LIMIT_REACHED
    await rg_gates.count_bet_time(db, ctx.bettor(command.currency), rg_state, now)
    return None


async def _above_bonus_max_bet(db: AsyncSession, command: WalletCommand, active: bonus_play.Active | None) -> bool:
    """Per round (its earlier stakes count); refused before anything moves, never confiscated afterwards."""
    if active is None or active.max_bet is None or command.amount + active.round_staked <= active.max_bet:
        return False
    await bonus_lifecycle.max_bet_refused(db, active.id, command.amount, active.max_bet, command.provider.code)
    return True


@dataclass(frozen=True)
class _Staked:
    ledger_id: uuid.UUID
    balance_after: int


async def _stake(
    db: AsyncSession,
    command: WalletCommand,
    ctx: Context,
    active: bonus_play.Active | None,
    from_cash: int,
    from_bonus: int,
    current: int,
) -> _Staked | Decision:
    """The stake on the ledger (player → house) and the RG counter; NOT_ENOUGH_MONEY when it cannot be paid."""
    assert ctx.brand_id is not None
    assert ctx.cash_id is not None
    assert command.currency is not None
    house = await wallet.operator_account(db, ctx.brand_id, AccountPurpose.HOUSE_REVENUE, command.currency)
    legs = booking.pair(ctx.cash_id, -command.amount, house)
    if active is not None:
        assert ctx.bonus_account is not None
        legs = bonus_play.stake_legs(ctx.cash_id, ctx.bonus_account, house, from_cash, from_bonus)
    outcome = await ledger.record(db, booking.entry(command, ctx, "game_bet", legs))
    if outcome.status == TransactionStatus.REFUSED:
        result = WalletResult(Status.NOT_ENOUGH_MONEY, command.user, command.currency, current)
        return result, Record(
            ctx.player_id, command.currency, command.amount, ledger_transaction_id=outcome.transaction_id
        )
    await rg_gates.count_play(
        db, ctx.bettor(command.currency), command.currency, outcome.created_at, wagered=from_cash
    )  # the same cash part the limits were checked with
    return _Staked(outcome.transaction_id, booking.cash_after(outcome, ctx.cash_id, current))


async def _wager(
    db: AsyncSession,
    command: WalletCommand,
    ctx: Context,
    active: bonus_play.Active,
    ledger_id: uuid.UUID | None,
    round_id: uuid.UUID | None,
    from_cash: int,
    from_bonus: int,
    purse: Purse,
    balance_after: int,
) -> int:
    """The stake's split and wagering progress on the bonus; met with the round closed (no win to come), the
    bonus converts now (else when the win lands). Returns the cash balance after."""
    contributed = active.contribution(command.amount, command.game_code, ctx.game_category)
    progress = await bonus_play.record(
        db,
        reference=reference(command),
        ledger_id=ledger_id,
        bonus_id=active.id,
        kind="bet",
        round_id=round_id,
        cash=from_cash,
        bonus=from_bonus,
        progress=contributed,
        contributed=contributed,
    )
    if progress.met and command.round_closed:
        purse.bonus = 0
        return await bonus_lifecycle.complete(db, active.id, provider_actor(command))
    return balance_after


async def free_round(
    db: AsyncSession, command: WalletCommand, ctx: Context, grant: bonus_play.Grant | None, current: int, now: datetime
) -> Decision:
    """A free round of a grant: debits nothing, uses one spin. An unknown grant (or another player's)
    does not exist; a spent or ended one is a limit; a game it does not cover is an invalid game."""
    if grant is None or grant.player_id != ctx.player_id:
        return refuse(command, Status.TRANSACTION_DOES_NOT_EXIST, current)
    if grant.currency != command.currency:
        return refuse(command, Status.WRONG_CURRENCY, current)
    if command.game_code not in grant.games:
        return refuse(command, Status.INVALID_GAME, current)
    if grant.status == "active" and grant.expires_at is not None and grant.expires_at <= now:
        await bonus_lifecycle.settle(db, grant.id, provider_actor(command), now=now)  # ended: refused below
        current = await lock_money(db, ctx, ctx.cash_id)
        return refuse(command, Status.LIMIT_REACHED, current)
    if grant.status != "active" or grant.spins_left <= 0 or command.amount not in (0, grant.spin_bet):
        return refuse(command, Status.LIMIT_REACHED, current)
    round_id = await statements.open_round(
        db, command, player_id=ctx.player_id, game_id=ctx.game_id, session_id=ctx.own_session_id, bet=0, win=0
    )
    progress = await bonus_play.record(
        db,
        reference=reference(command),
        ledger_id=None,
        bonus_id=grant.id,
        kind="free_bet",
        round_id=round_id,
        cash=0,
        bonus=0,
        spins=-1,
    )
    balance_after = current
    if progress.met and command.round_closed:  # the last spin lost and nothing is left to wager
        balance_after = await bonus_lifecycle.complete(db, grant.id, provider_actor(command))
    return (
        WalletResult(Status.OK, command.user, command.currency, balance_after),
        Record(ctx.player_id, command.currency, command.amount, round_id, None),
    )
