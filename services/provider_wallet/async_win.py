"""Wins that come with no bet, often long after the session that earned them ended (Hub88: wins "may come long
after"; docs/free-rounds.md):

- a **supplier's promotion** (`supplier_promo`: a prize drop, a tournament the supplier runs, a jackpot it pays):
  cash to the player, funded by the supplier — the operator side is the brand's `supplier_promo` account, a
  receivable the supplier settles on its invoice, so the house's revenue (GGR) does not pay for it. Its token
  must name a session of this player (Hub88: verified, never its expiry); its game must be known;
- a **free-bet reward's win** naming the reward (`is_free` + `reward_uuid`, no bet referenced: the provider
  played the rounds of a reward the operator granted earlier and pays them as one win): the operator's cost,
  exactly as a free round's win — bonus money from the brand's `bonus_cost`, with the campaign's wagering, or
  nothing when the bonus has ended (the bonus rules: services/bonuses/play.py `route`).

Both are idempotent like every win (the provider transaction and the ledger key), credited whatever the session's
expiry or the player's RG state (limits govern what a player stakes, not what they are owed), and count as won
in the RG counters. Nothing here checks a token's expiry.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import outbox
from core.money import CURRENCIES
from models.ledger import AccountPurpose
from services import ledger, wallet
from services.bonuses import play as bonus_play
from services.provider_wallet import booking
from services.provider_wallet.context import Context
from services.provider_wallet.types import Decision, Record, Status, WalletCommand, WalletResult, refuse
from services.rg import gates as rg_gates

PROMO_EVENT = "game.supplier_promo_win"


def is_async(command: WalletCommand) -> bool:
    """A supplier's promotion (with or without a reference), or a reward's win naming no bet."""
    return command.supplier_promo or (command.is_free and command.reference_uuid is None)


def wrong_currency(command: WalletCommand, ctx: Context) -> bool:
    return command.currency is None or command.currency not in CURRENCIES or command.currency != ctx.cash_currency


async def supplier_promo(db: AsyncSession, command: WalletCommand, ctx: Context, current: int | None) -> Decision:
    """The supplier's promotional win: player cash +X, the brand's supplier_promo receivable -X."""
    assert ctx.player_id is not None
    assert ctx.brand_id is not None
    assert ctx.cash_id is not None
    if ctx.session_player != ctx.player_id:  # a known session of this player: expiry and logout do not matter
        return refuse(command, Status.INVALID_TOKEN, current)
    if wrong_currency(command, ctx):
        return refuse(command, Status.WRONG_CURRENCY, current)
    if ctx.game_id is None:
        return refuse(command, Status.INVALID_GAME, current)
    assert command.currency is not None
    assert current is not None
    ledger_id: uuid.UUID | None = None
    balance_after = current
    if command.amount > 0:
        funding = await wallet.operator_account(db, ctx.brand_id, AccountPurpose.SUPPLIER_PROMO, command.currency)
        outcome = await ledger.record(
            db, booking.entry(command, ctx, "game_win", booking.pair(ctx.cash_id, command.amount, funding))
        )
        ledger_id = outcome.transaction_id
        balance_after = booking.cash_after(outcome, ctx.cash_id, current)
        await rg_gates.count_play(
            db, ctx.bettor(command.currency), command.currency, outcome.created_at, won=command.amount
        )
    round_id = await booking.win_round(db, command, ctx)
    await outbox.emit(
        db,
        PROMO_EVENT,
        f"player:{ctx.player_id}",
        {
            "player_id": str(ctx.player_id),
            "provider": command.provider.code,
            "game": command.game_code,
            "round": command.round_ref,
            "transaction_uuid": command.transaction_uuid,
            "currency": command.currency,
            "amount": command.amount,
            "ledger_transaction_id": str(ledger_id) if ledger_id else None,
        },
        brand_id=ctx.brand_id,
    )
    return (
        WalletResult(Status.OK, command.user, command.currency, balance_after),
        Record(ctx.player_id, command.currency, command.amount, round_id, ledger_id),
    )


_REWARD_BONUS = text("""
SELECT id, player_id, status, currency, max_conversion, converted, capped, terms - 'rules' AS terms
FROM player_bonuses WHERE reward_uuid = :reward
""")


async def reward_wager(
    db: AsyncSession, command: WalletCommand, ctx: Context
) -> tuple[bonus_play.Wager | None, Status | None]:
    """The reward's bonus as the wager a free round's win follows (a free bet of no stake), or why there is
    none: an unknown reward, or another player's, does not exist; another currency is the wrong one."""
    row = (await db.execute(_REWARD_BONUS, {"reward": command.reward_uuid or ""})).one_or_none()
    if row is None or row.player_id != ctx.player_id:
        return None, Status.TRANSACTION_DOES_NOT_EXIST
    if wrong_currency(command, ctx) or row.currency != command.currency:
        return None, Status.WRONG_CURRENCY
    terms: dict[str, Any] = dict(row.terms or {})
    wager = bonus_play.Wager(
        bonus_id=row.id,
        kind="free_bet",
        cash=0,
        bonus=0,
        contributed=0,
        status=str(row.status),
        cap=None if row.max_conversion is None else int(row.max_conversion),
        terms=terms,
        total_converted=int(row.converted),
        total_capped=int(row.capped),
    )
    return wager, None


_FUNDING = text("""
SELECT lp.account_id FROM ledger_postings lp JOIN ledger_accounts a ON a.id = lp.account_id
WHERE lp.transaction_id = :ledger AND a.purpose = 'supplier_promo' LIMIT 1
""")


async def funding_of(db: AsyncSession, ledger_id: uuid.UUID, house: uuid.UUID) -> uuid.UUID:
    """The operator account a win was paid from, for its rollback: the supplier's promo account if it was one."""
    found = (await db.execute(_FUNDING, {"ledger": ledger_id})).scalar_one_or_none()
    return found if isinstance(found, uuid.UUID) else house
