"""Live operations figures for staff dashboards, straight from the ledger.

`figures(db, brand_id, now)` answers, for one brand (or every brand when `brand_id` is None):
- bets and wins per minute: committed `game_bet` / `game_win` ledger transactions in the 60 s up to `now`;
- GGR today, per currency: stakes minus wins (rollbacks give money back, so they count with their
  sign), measured on the player side of the postings since midnight UTC of `now`;
- deposits today, per currency: what deposits credited to players since midnight UTC;
- active players: distinct players with a committed ledger transaction in the 15 minutes up to `now`.

Two aggregate queries, bounded by `created_at` ranges. Refused transactions move no money and are
not counted. Amounts are minor units.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.ledger import LedgerAccount, LedgerPosting, LedgerTransaction, TransactionStatus
from models.players import Player

# The provider wallet's ledger kinds (services/provider_wallet/).
BET_KINDS = ("game_bet",)
WIN_KINDS = ("game_win",)
GAME_KINDS = ("game_bet", "game_win", "game_bet_rollback", "game_win_rollback")  # what makes GGR
DEPOSIT_KINDS = ("deposit",)
RATE_WINDOW = timedelta(seconds=60)
ACTIVE_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Figures:
    at: datetime
    bets_per_minute: int
    wins_per_minute: int
    active_players: int
    ggr_today: dict[str, int]  # currency -> minor units
    deposits_today: dict[str, int]


def start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


async def figures(db: AsyncSession, brand_id: uuid.UUID | None, now: datetime) -> Figures:
    tx = LedgerTransaction
    scope = [col(tx.status) == TransactionStatus.COMMITTED.value, col(tx.created_at) <= now]
    if brand_id is not None:
        scope.append(col(tx.brand_id) == brand_id)

    recent = col(tx.created_at) >= now - RATE_WINDOW
    counts = (
        await db.execute(
            select(
                func.count().filter(and_(recent, col(tx.kind).in_(BET_KINDS))),
                func.count().filter(and_(recent, col(tx.kind).in_(WIN_KINDS))),
                func.count(distinct(col(tx.player_id))),
            ).where(*scope, col(tx.created_at) >= now - ACTIVE_WINDOW)
        )
    ).one()

    posting = LedgerPosting
    ggr = func.sum(case((col(tx.kind).in_(GAME_KINDS), -col(posting.amount)), else_=0))
    deposits = func.sum(case((col(tx.kind).in_(DEPOSIT_KINDS), col(posting.amount)), else_=0))
    money = (
        await db.execute(
            select(
                col(posting.currency),
                ggr,
                deposits,
                func.count().filter(col(tx.kind).in_(GAME_KINDS)),
                func.count().filter(col(tx.kind).in_(DEPOSIT_KINDS)),
            )
            .select_from(tx)
            .join(posting, col(posting.transaction_id) == col(tx.id))
            .join(
                LedgerAccount,
                and_(col(LedgerAccount.id) == col(posting.account_id), col(LedgerAccount.owner_type) == "player"),
            )
            .where(*scope, col(tx.created_at) >= start_of_day(now), col(tx.kind).in_(GAME_KINDS + DEPOSIT_KINDS))
            .group_by(col(posting.currency))
            .order_by(col(posting.currency))
        )
    ).all()
    return Figures(
        at=now,
        bets_per_minute=int(counts[0]),
        wins_per_minute=int(counts[1]),
        active_players=int(counts[2]),
        ggr_today={currency: int(total or 0) for currency, total, _, games, _ in money if games},
        deposits_today={currency: int(total or 0) for currency, _, total, _, paid in money if paid},
    )


_PLAYER_BRANDS: dict[uuid.UUID, uuid.UUID] = {}  # a player never changes brand: safe to remember


async def brand_of_player(db: AsyncSession, player_id: uuid.UUID) -> uuid.UUID | None:
    """Which brand a player belongs to (to route ledger events to brand-scoped dashboards)."""
    brand = _PLAYER_BRANDS.get(player_id)
    if brand is None:
        brand = await db.scalar(select(col(Player.brand_id)).where(col(Player.id) == player_id))
        if brand is not None:
            _PLAYER_BRANDS[player_id] = brand
    return brand


UPDATE_INTERVAL_SECONDS = 1.0  # at most one pushed update per subscriber per second
HEARTBEAT_SECONDS = 5.0  # and one at least this often (rates move with time even without events)
