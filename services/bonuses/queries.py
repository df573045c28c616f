"""What players and staff read about bonuses: offers a player may claim, a player's bonuses with their
history, and the liability report (outstanding bonus money and its expected cost)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, bindparam, false, or_, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.clock import clock
from models.bonuses import BonusCampaign, BonusEvent, CampaignKind, CampaignStatus, PlayerBonus
from models.players import Player
from services import players
from services.bonuses.campaigns import reasons_not_eligible
from services.scoping import scoped


def readable_bonuses(viewer: Viewer) -> SelectOfScalar[PlayerBonus]:
    """Bonuses this viewer may read, as SQL: a player their own, staff their brand's."""
    return scoped(
        select(PlayerBonus), viewer, player_column=col(PlayerBonus.player_id), brand_column=col(PlayerBonus.brand_id)
    )


def readable_campaigns(viewer: Viewer) -> SelectOfScalar[BonusCampaign]:
    """Campaigns this viewer may read, as SQL: staff their brand's (every brand for global roles); a player
    the running offers of their brand that need no code, and the campaigns of their own bonuses (a
    draft, or an offer whose code they never quoted, stays hidden)."""
    stmt = select(BonusCampaign)
    if viewer.is_player:
        own = select(PlayerBonus.campaign_id).where(col(PlayerBonus.player_id) == viewer.id)
        listed = and_(
            col(BonusCampaign.status) == CampaignStatus.ACTIVE.value,
            col(BonusCampaign.promo_code).is_(None),
            col(BonusCampaign.kind) != CampaignKind.CASHBACK.value,
        )
        return stmt.where(col(BonusCampaign.brand_id) == viewer.brand_id, or_(col(BonusCampaign.id).in_(own), listed))
    if viewer.is_staff or viewer.kind == "system":
        return stmt if viewer.brand_id is None else stmt.where(col(BonusCampaign.brand_id) == viewer.brand_id)
    return stmt.where(false())


# A player's own bonuses, built once: the lobby page asks for them on every load, and building and keying
# the general statement (the ownership rule, the readable-player subquery) cost more than running it.
_OWN_BONUSES = (
    select(PlayerBonus)
    .where(col(PlayerBonus.player_id) == bindparam("player_id"))
    .order_by(col(PlayerBonus.issued_at).desc(), col(PlayerBonus.id).desc())
)


async def bonuses_of(db: AsyncSession, viewer: Viewer, player_id: uuid.UUID) -> list[PlayerBonus]:
    """A player's bonuses, newest first, if the viewer may read the player."""
    if viewer.is_player:  # the ownership rule (services/scoping.py) for a player: their own rows, no one else's
        if viewer.id != player_id:
            return []
        return list((await db.scalars(_OWN_BONUSES, {"player_id": player_id})).all())
    readable = players.readable_players(viewer).where(col(Player.id) == player_id).with_only_columns(col(Player.id))
    return list(
        (
            await db.scalars(
                readable_bonuses(viewer)
                .where(
                    col(PlayerBonus.player_id) == player_id, col(PlayerBonus.player_id).in_(readable.scalar_subquery())
                )
                .order_by(col(PlayerBonus.issued_at).desc(), col(PlayerBonus.id).desc())
            )
        ).all()
    )


async def events_of(db: AsyncSession, bonus_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[tuple[BonusEvent, str]]]:
    """The history of several bonuses (with their currency), oldest first, in one statement (DataLoaders)."""
    found: dict[uuid.UUID, list[tuple[BonusEvent, str]]] = {bonus_id: [] for bonus_id in bonus_ids}
    rows = (
        await db.execute(
            select(BonusEvent, PlayerBonus.currency)
            .join(PlayerBonus, col(PlayerBonus.id) == col(BonusEvent.bonus_id))
            .where(col(BonusEvent.bonus_id).in_(bonus_ids))
            .order_by(col(BonusEvent.at), col(BonusEvent.id))
        )
    ).all()
    for event, currency in rows:
        found[event.bonus_id].append((event, currency))
    return found


async def in_play(db: AsyncSession, player_id: uuid.UUID) -> list[PlayerBonus]:
    """A player's bonuses in play, and those that ended in the last day (so a conversion is seen)."""
    since = clock.now() - timedelta(days=1)
    return list(
        (
            await db.scalars(
                select(PlayerBonus)
                .where(
                    col(PlayerBonus.player_id) == player_id,
                    col(PlayerBonus.status).in_(["issued", "active"]) | (col(PlayerBonus.ended_at) >= since),
                )
                .order_by(col(PlayerBonus.issued_at).desc())
            )
        ).all()
    )


async def offers(db: AsyncSession, viewer: Viewer) -> list[BonusCampaign]:
    """Running offers the player may claim now (none at all during a time-out or self-exclusion).
    Offers with a promo code are not listed: the code is how a player learns of them."""
    player = await db.get(Player, viewer.id)
    if player is None:
        return []
    candidates = (
        await db.scalars(
            select(BonusCampaign)
            .where(
                col(BonusCampaign.brand_id) == player.brand_id,
                col(BonusCampaign.status) == CampaignStatus.ACTIVE.value,
                col(BonusCampaign.promo_code).is_(None),
                col(BonusCampaign.kind) != CampaignKind.CASHBACK.value,
            )
            .order_by(col(BonusCampaign.created_at))
        )
    ).all()
    return [campaign for campaign in candidates if not await reasons_not_eligible(db, campaign, player)]


@dataclass(frozen=True)
class Liability:
    currency: str
    bonuses_in_play: int
    outstanding: int  # bonus money players hold
    wagering_left: int
    expected_cost: int  # outstanding money that is expected to convert (capped, weighted by progress)
    granted_to_date: int
    converted_to_date: int


_LIABILITY = text("""
SELECT b.currency,
       count(*) FILTER (WHERE b.status IN ('issued', 'active')) AS in_play,
       coalesce(sum(a.balance) FILTER (WHERE b.status = 'active'), 0) AS outstanding,
       coalesce(sum(GREATEST(b.wagering_required - b.wagering_done, 0)) FILTER (WHERE b.status = 'active'), 0) AS left_,
       coalesce(sum(CASE WHEN b.status = 'active' THEN
           LEAST(coalesce(a.balance, 0), coalesce(b.max_conversion - b.converted, coalesce(a.balance, 0)))
           * (CASE WHEN b.wagering_required = 0 THEN 1.0
                   ELSE LEAST(1.0, b.wagering_done::numeric / b.wagering_required) END)
           ELSE 0 END), 0)::bigint AS expected,
       coalesce(sum(b.amount), 0) AS granted, coalesce(sum(b.converted), 0) AS converted
FROM player_bonuses b
LEFT JOIN ledger_accounts a ON a.owner_type = 'player' AND a.owner_id = b.player_id::text AND a.purpose = 'bonus'
     AND a.currency = b.currency AND a.brand_id = b.brand_id
WHERE (CAST(:brand AS uuid) IS NULL OR b.brand_id = CAST(:brand AS uuid))
GROUP BY b.currency ORDER BY b.currency
""")


async def liability(db: AsyncSession, viewer: Viewer) -> list[Liability]:
    """Per currency, for the viewer's brand scope. The expected cost weighs each active bonus's
    convertible money by how far its wagering has got (a simple, documented estimate)."""
    rows = (await db.execute(_LIABILITY, {"brand": viewer.brand_id})).all()
    return [
        Liability(
            row.currency,
            int(row.in_play),
            int(row.outstanding),
            int(row.left_),
            int(row.expected),
            int(row.granted),
            int(row.converted),
        )
        for row in rows
    ]
