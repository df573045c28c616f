"""How a wallet command is written on the ledger: its legs, its entry (keyed by the provider transaction,
so even racing retries move money once), and the cash balance it leaves."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.logging import get_logger
from services import ledger
from services.ledger import Entry, Leg
from services.provider_wallet import statements
from services.provider_wallet.context import Context
from services.provider_wallet.types import WalletCommand, ledger_key, reference

log = get_logger(__name__)


def pair(cash: uuid.UUID, to_cash: int, house: uuid.UUID) -> tuple[Leg, ...]:
    return Leg(cash, to_cash), Leg(house, -to_cash)


def entry(command: WalletCommand, ctx: Context, kind: str, legs: tuple[Leg, ...]) -> Entry:
    return Entry(
        idempotency_key=ledger_key(command),
        kind=kind,
        legs=legs,
        actor_type="provider",
        actor_id=command.provider.id,
        brand_id=ctx.brand_id,
        player_id=ctx.player_id,
        reference_type="provider_transaction",
        reference_id=reference(command),
        details={
            "provider": command.provider.code,
            "round": command.round_ref,
            "game": command.game_code,
            "reference": command.reference_uuid,
        },
    )


async def win_round(db: AsyncSession, command: WalletCommand, ctx: Context) -> uuid.UUID | None:
    """The win's round (opened if the win is its first word), with the win added to its total."""
    return await statements.open_round(
        db,
        command,
        player_id=ctx.player_id,
        game_id=ctx.game_id,
        session_id=ctx.own_session_id,
        bet=0,
        win=command.amount,
    )


def cash_after(outcome: ledger.Result, cash: uuid.UUID, fallback: int) -> int:
    for posting in outcome.postings:
        if posting.account_id == cash and posting.balance_after is not None:
            return posting.balance_after
    return fallback


def outside_bet_limits(min_bet: dict[str, str] | None, max_bet: dict[str, str] | None, command: WalletCommand) -> bool:
    """The game's own limits in the command's currency: above its max bet, or below its min bet when the bet stakes
    anything (a zero stake is no stake, nor is a bonus grant's free round, whose amount is the grant's spin value and
    debits nothing). A currency the limits do not name has no limit here, and a malformed catalogue limit never
    blocks play (sql/wallet/wallet_play_v2.sql leaves both to this path, and free rounds altogether)."""
    high = _limit(max_bet, command, "max")
    if high is not None and command.amount > high:
        return True
    if command.is_free or command.amount <= 0:
        return False
    low = _limit(min_bet, command, "min")
    return low is not None and command.amount < low


def _limit(limits: dict[str, str] | None, command: WalletCommand, which: str) -> int | None:
    from core.money import parse_amount

    if not limits or command.currency not in limits:
        return None
    try:
        return parse_amount(limits[command.currency], command.currency, allow_zero=True)
    except Exception:  # noqa: BLE001  (a malformed catalogue limit must not block play)
        log.warning(f"bad_{which}_bet", currency=command.currency)
        return None
