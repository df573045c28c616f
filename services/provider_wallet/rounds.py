"""A provider's word that a round is over: the player's round (provider, round ref, player) is closed, for good.

No money moves. Said again (or of a round already closed, or of one we never saw: nothing to close) it is
still OK, as providers that resend it expect. The call is logged and answered with the player's balance."""

from __future__ import annotations

from core import prepared
from core.clock import clock
from core.prepared import Statement
from core.runtime import Runtime
from services.provider_wallet import statements
from services.provider_wallet.context import read_context
from services.provider_wallet.types import Answer, Dialect, Status, WalletCommand, WalletResult

CLOSE = Statement("""
UPDATE game_rounds SET status = 'closed', closed_at = coalesce(closed_at, :now)
WHERE provider_id = :provider AND round_ref = :round AND player_id = CAST(:player AS uuid) AND status = 'open'
""")


async def end_round(rt: Runtime, command: WalletCommand, dialect: Dialect) -> Answer:
    async with rt.database.transaction() as db:
        ctx = await read_context(db, command)  # first: it checks the provider row
        if ctx.player_id is None:
            result = WalletResult(Status.INVALID_TOKEN, command.user, command.currency)
        else:
            await prepared.execute(
                db,
                CLOSE,
                {
                    "provider": command.provider.id,
                    "round": command.round_ref or "",
                    "player": str(ctx.player_id),
                    "now": clock.now(),
                },
            )
            balance = int(ctx.cash_balance or 0) + int(ctx.bonus_balance or 0)
            result = WalletResult(Status.OK, command.user, ctx.cash_currency or command.currency, balance)
        body = dialect.render(command, result)
        await statements.log_call(db, command, body)
    return Answer(result, body)
