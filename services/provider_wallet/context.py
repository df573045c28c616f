"""What a command reads before it decides: its context (player, session, game, accounts), its locks, and
the state under them (a stored call, the transaction and the one it names, a rollback marker, the round,
the RG gate's and the bonus's inputs)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import prepared
from core.clock import clock
from core.fx import NO_RATES, Rates
from core.ids import parse_uuid
from core.money import CURRENCIES
from services import wallet
from services.bonuses import play as bonus_play
from services.provider_wallet import statements
from services.provider_wallet.types import Kind, StaleProvider, Status, WalletCommand
from services.rg import gates as rg_gates
from services.rg.profiles import DEFAULT


@dataclass
class Context:
    player_id: uuid.UUID | None
    player_status: str | None
    brand_id: uuid.UUID | None
    brand_code: str | None
    country: str | None
    birth_date: date | None
    registered: datetime | None
    session_player: uuid.UUID | None
    session_currency: str | None
    expires_at: datetime | None
    ended_at: datetime | None
    mode: str | None
    session_id: uuid.UUID | None
    game_id: uuid.UUID | None
    game_enabled: bool | None
    max_bet: dict[str, str] | None
    cash_id: uuid.UUID | None
    cash_balance: int | None
    cash_currency: str | None
    jurisdiction: str | None = None
    auth_session_id: uuid.UUID | None = None
    game_category: str | None = None
    bonus_account: uuid.UUID | None = None
    bonus_balance: int | None = None
    player_currency: str | None = None  # the wallet's currency
    rates: Rates = NO_RATES  # the stated exchange rates (RG limits in another currency)
    min_bet: dict[str, str] | None = None
    game_jurisdictions: list[str] | None = None  # where the game is certified (empty: not declared)

    def bettor(self, currency: str) -> rg_gates.Bettor:
        assert self.player_id is not None
        return rg_gates.Bettor(
            self.player_id, self.jurisdiction or DEFAULT, currency, self.auth_session_id, self.session_id, self.rates
        )

    @property
    def own_session_id(self) -> uuid.UUID | None:
        """The game session, when it is this player's (a round remembers where it was played)."""
        return self.session_id if self.session_player == self.player_id else None


async def read_context(db: AsyncSession, command: WalletCommand, rates: Rates = NO_RATES) -> Context:
    """The first read of every command; raises StaleProvider when the adapter's cached provider row changed."""
    player = parse_uuid(command.user or "")
    currency = command.currency if command.currency in CURRENCIES else None
    row = await prepared.one(
        db,
        statements.CONTEXT,
        {
            "player": str(player) if player else None,
            "token": command.token,
            "provider": command.provider.id,
            "game": command.game_code,
            "currency": currency,
        },
    )
    if command.provider.version is not None and row.provider_version != command.provider.version:
        raise StaleProvider
    return Context(
        row.player_id,
        row.player_status,
        row.brand_id,
        row.brand_code,
        row.country,
        row.date_of_birth,
        row.created_at,
        row.session_player,
        row.session_currency,
        row.expires_at,
        row.ended_at,
        row.mode,
        row.session_id,
        row.game_id,
        row.game_enabled,
        _limits(row.max_bet),
        row.cash_id,
        row.cash_balance,
        row.cash_currency,
        row.jurisdiction,
        row.auth_session_id,
        row.contribution_category,
        row.bonus_account,
        row.bonus_balance,
        row.player_currency,
        rates,
        _limits(row.min_bet),
        list(row.game_jurisdictions) if row.game_jurisdictions is not None else None,
    )


def _limits(value: Any) -> dict[str, str] | None:
    """A game's min or max bets as the database driver decoded them: a JSON object of currency -> amount, else no
    limits, as wallet_play_v2 reads them (its `?` finds no currency key in a number, a boolean, a string or an
    array of pairs). Read for every command of the game: a limit of another shape must not fail its wins and
    rollbacks, nor block or refuse a bet the one call would take (booking.outside_bet_limits: a malformed limit
    never blocks play)."""
    return value if isinstance(value, dict) else None


def unrepresentable(command: WalletCommand, ctx: Context) -> Status:
    """An amount with no exact value in the request's currency (0.25 JPY) is malformed only in the
    wallet's own currency; in a currency the wallet does not hold, that mismatch is the truer answer."""
    if ctx.player_currency is not None and command.currency != ctx.player_currency:
        return Status.WRONG_CURRENCY
    return Status.UNREPRESENTABLE_AMOUNT


async def lock_money(db: AsyncSession, ctx: Context, cash: uuid.UUID | None, *, serial: str | None = None) -> int:
    """The player's money lock, in the one order (services/wallet.py); returns the cash balance under it."""
    assert ctx.player_id is not None
    assert cash is not None
    return (await wallet.lock_player_money(db, ctx.player_id, cash=cash, serial=serial)).cash


async def take_locks(
    db: AsyncSession, command: WalletCommand, ctx: Context, kind: Kind, rates: Rates
) -> tuple[Context, int | None]:
    """The transaction's key, then the player's cash row; returns the context (a rollback's may change) and
    the cash balance under the lock (None: no account to lock yet)."""
    # A transaction and a rollback naming it lock the same key (its uuid), so "rollback before the
    # original" cannot race the original, whoever the rollback claims the player is. Everything that
    # moves a player's money also holds that player's cash row.
    subject = command.reference_uuid if kind == Kind.ROLLBACK else command.transaction_uuid
    lock_key = f"{command.provider.id}:{subject}"
    current: int | None = None
    if kind == Kind.ROLLBACK:
        # A rollback moves money in the currency of what it undoes, on that transaction's player's
        # account, whatever the request's currency, session or player default say. Lock the subject
        # first (as the original does), then read it and lock that account.
        await prepared.execute(db, statements.LOCK_ONLY, {"lock_key": lock_key})
        ref = await prepared.row(
            db, statements.REFERENCE, {"provider": command.provider.id, "ref": command.reference_uuid or ""}
        )
        if (
            ref is not None
            and ctx.player_id is not None
            and ref.player_id == ctx.player_id
            and ref.currency in CURRENCIES
            and ref.currency != ctx.cash_currency
        ):
            ctx = await read_context(db, replace(command, currency=ref.currency), rates)
        if ctx.cash_id is not None:
            current = await lock_money(db, ctx, ctx.cash_id)
    elif ctx.cash_id is not None:
        current = await lock_money(db, ctx, ctx.cash_id, serial=lock_key)  # the key, then the cash: one statement
    else:
        await prepared.execute(db, statements.LOCK_ONLY, {"lock_key": lock_key})
    return ctx, current


async def read_state(db: AsyncSession, command: WalletCommand, ctx: Context, kind: Kind) -> Any:
    """Under the locks: the stored call, this transaction and the one it names, a rollback that named it
    first, the round, the RG gate's and the bonus's inputs (one statement)."""
    return await prepared.one(
        db,
        statements.STATE,
        {
            "provider": command.provider.id,
            "endpoint": command.endpoint,
            "request": command.request_uuid or "",
            "tx": command.transaction_uuid,
            "ref": command.reference_uuid or "",
            "marked": command.reference_uuid if kind == Kind.ROLLBACK else command.transaction_uuid,
            "scoped": command.player_scoped_rollbacks,
            "round": command.round_ref or "",
            "player": str(ctx.player_id) if ctx.player_id else None,
            "currency": command.currency,
            "now": clock.now(),
            "auth_session": ctx.auth_session_id,
            **bonus_play.state_params(
                provider_code=command.provider.code,
                reference=command.reference_uuid,
                reward=command.reward_uuid if command.is_free else None,
                bonus_account=ctx.bonus_account,
                currency=ctx.cash_currency,
            ),
        },
    )
