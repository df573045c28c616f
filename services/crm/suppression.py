"""STAND-IN (crmjourney's branch only; crmsupp's module replaces it at merge): the one suppression check,
with the contract's signatures (docs: /work/wt/ISSUE20.md part 2) and a minimal real rule — the account
is active, no time-out or self-exclusion in force, and for a message the player's consent for the product
and channel (a missing row is no consent); an offer needs the marketing consent. Each refusal is recorded
in crm_suppressions with its reason."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from models.crm import CrmConsent, CrmSuppression, Purpose
from models.players import Player
from models.rg import ExclusionKind
from services.rg import exclusions


async def refusal(
    db: AsyncSession,
    player_id: uuid.UUID,
    *,
    purpose: Purpose,
    channel: str | None,
    product: str,
    offer_jurisdictions: list[str] | None = None,
) -> str | None:
    player = await db.get(Player, player_id)
    if player is None or player.status != "active":
        return "ACCOUNT_CLOSED"
    excluded = await exclusions.active(db, player_id, clock.now())
    if excluded is not None:
        return "TIMED_OUT" if excluded.kind == ExclusionKind.TIME_OUT else "SELF_EXCLUDED"
    if not player.marketing_consent:
        return "NO_CONSENT"
    if purpose == Purpose.MESSAGE and channel is not None:
        consent = await db.get(CrmConsent, (player_id, product, channel))
        if consent is None or not consent.granted:
            return "NO_CONSENT"
    if offer_jurisdictions is not None and player.jurisdiction not in offer_jurisdictions:
        return "JURISDICTION_FORBIDS"
    return None


async def check(
    db: AsyncSession,
    player_id: uuid.UUID,
    *,
    purpose: Purpose,
    channel: str | None,
    product: str,
    source_kind: str,
    source_id: uuid.UUID | None,
    message_id: uuid.UUID | None = None,
    offer_jurisdictions: list[str] | None = None,
) -> str | None:
    reason = await refusal(
        db, player_id, purpose=purpose, channel=channel, product=product, offer_jurisdictions=offer_jurisdictions
    )
    if reason is not None:
        player = await db.get(Player, player_id)
        if player is not None:
            db.add(
                CrmSuppression(
                    brand_id=player.brand_id,
                    player_id=player_id,
                    purpose=purpose.value,
                    channel=channel,
                    product=product,
                    reason=reason,
                    source_kind=source_kind,
                    source_id=source_id,
                    message_id=message_id,
                )
            )
            await db.flush()
    return reason
