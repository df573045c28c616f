"""The reads a provider makes: the player's balance and their user info. Each is one database transaction
that gives a repeated call its stored answer and logs a new one."""

from __future__ import annotations

from core.runtime import Runtime
from services.affiliates.attribution import affiliate_code
from services.provider_wallet import replay, statements
from services.provider_wallet.context import Context, read_context
from services.provider_wallet.types import Answer, Dialect, PlayerInfo, Status, WalletCommand, WalletResult


async def balance(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    """The player's cash. The token must be known and the player's; its expiry is not checked."""
    async with rt.database.transaction() as db:
        ctx = await read_context(db, command)  # first: it checks the provider
        stored = await statements.stored_call(db, command)
        if stored is not None:
            return replay.stored_query(command, stored, currency=command.currency)
        result = _balance_result(command, ctx)
        body = dialect.render(command, result)
        await statements.log_call(db, command, body)
    return Answer(result, body)


def _balance_result(command: WalletCommand, ctx: Context) -> WalletResult:
    if ctx.player_id is None or ctx.session_player is None or ctx.session_player != ctx.player_id:
        return WalletResult(Status.INVALID_TOKEN, command.user, command.currency)
    currency = ctx.session_currency
    if command.currency is not None and command.currency != currency:
        return WalletResult(Status.WRONG_CURRENCY, command.user, command.currency)
    # No account yet in the session's currency: nothing was ever paid in, so the balance is zero.
    return WalletResult(Status.OK, command.user, currency, int(ctx.cash_balance or 0) + int(ctx.bonus_balance or 0))


async def player_balance(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    """The balance of the player a provider names, with or without a session (they may be offline): in the
    session's currency when the token is theirs, else in the command's, else in their wallet's."""
    async with rt.database.transaction() as db:
        ctx = await read_context(db, command)  # first: it checks the provider
        if ctx.player_id is None:
            result = WalletResult(Status.INVALID_TOKEN, command.user, command.currency)
        else:
            currency = ctx.cash_currency or command.currency or ctx.session_currency or ctx.player_currency
            result = WalletResult(
                Status.OK, command.user, currency, int(ctx.cash_balance or 0) + int(ctx.bonus_balance or 0)
            )
        body = dialect.render(command, result)
        await statements.log_call(db, command, body)
    return Answer(result, body)


async def user_info(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    async with rt.database.transaction() as db:
        ctx = await read_context(db, command)  # first: it checks the provider
        stored = await statements.stored_call(db, command)
        if stored is not None:
            return replay.stored_query(command, stored, currency=None)
        affiliate = await affiliate_code(db, ctx.player_id) if ctx.player_id is not None else None
        result = _user_info_result(command, ctx, affiliate)
        body = dialect.render(command, result)
        await statements.log_call(db, command, body)
    return Answer(result, body)


def _user_info_result(command: WalletCommand, ctx: Context, affiliate: str | None) -> WalletResult:
    if ctx.player_id is None:
        return WalletResult(Status.INVALID_TOKEN, command.user)
    assert ctx.country is not None
    assert ctx.brand_code is not None
    assert ctx.birth_date is not None
    assert ctx.registered is not None
    return WalletResult(
        Status.OK,
        command.user,
        ctx.cash_currency,
        int(ctx.cash_balance or 0) + int(ctx.bonus_balance or 0),
        info=PlayerInfo(ctx.country, ctx.brand_code, ctx.birth_date, ctx.registered, affiliate),
    )
