"""Suppression in one place: may this player be reached with this message or offer, now?

Every send (the channels' sender, right before it sends) and every offer (journeys, staff) asks
`refusal` — or `check`, which also records a refusal in `crm_suppressions` with its reason. Nothing else
in the code base decides whether marketing may reach a player. The answer is None (may reach) or one
reason code, the first that applies in this order:

1. ACCOUNT_CLOSED — the account is blocked or closed, or the player was erased (UNKNOWN_PLAYER: no such
   player; nothing is recorded for it);
2. REGISTER_HIT — a national register answered "excluded" at the player's last login to play, or when the
   sender asked it before a send (services/rg/register_hits.py, services/crm/register_recheck.py); then an
   exclusion in force (services/rg/exclusions.py, any brand's copy included): SELF_EXCLUDED or TIMED_OUT
   (REGISTER_HIT for one whose source is `register:<name>`);
3. COOLING_OFF — a self-exclusion ended less than `COOLING_OFF` ago (the one-day cooling-off a returning
   self-excluded player waits, as the UKGC asks);
4. JURISDICTION_FORBIDS — for an offer: the player's jurisdiction is not among the offer's
   (`offer_jurisdictions`, the profiles of services/rg/jurisdictions.toml), or it allows a bonus only on
   the first occasion (services/rg/bonus_rules.toml `first_occasion_only`) and the player has had one;
5. consent (services/crm/consents.py) for the product and the channel: UNSUBSCRIBED when the player
   unsubscribed it through a message's link, NO_CONSENT otherwise. An offer without a channel needs at
   least one channel consented for the product.

`refusal` reads the player's own rows in one statement, in the caller's session (so a sender or a
journey decides in the transaction that records the outcome). Unsubscribe links and their headers are
in services/crm/unsubscribe.py (`unsubscribe_headers` is re-exported here for the channels).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from models.crm import Purpose
from services.bonuses.rules import caps
from services.crm.consents import CHANNELS, PRODUCTS, Source, default_granted
from services.crm.unsubscribe import unsubscribe_headers, unsubscribe_url

__all__ = ["COOLING_OFF", "Reason", "check", "record", "refusal", "unsubscribe_headers", "unsubscribe_url"]

COOLING_OFF = timedelta(hours=24)


class Reason(StrEnum):
    UNKNOWN_PLAYER = "UNKNOWN_PLAYER"
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"
    SELF_EXCLUDED = "SELF_EXCLUDED"
    REGISTER_HIT = "REGISTER_HIT"
    TIMED_OUT = "TIMED_OUT"
    COOLING_OFF = "COOLING_OFF"
    JURISDICTION_FORBIDS = "JURISDICTION_FORBIDS"
    NO_CONSENT = "NO_CONSENT"
    UNSUBSCRIBED = "UNSUBSCRIBED"


# One round trip: the account, an open register hit, the exclusion in force (the longest first, as
# services/rg/exclusions.active orders them), a recently ended self-exclusion, the product's consent rows
# and, for offers, an earlier bonus.
_STANDING = text("""
SELECT p.brand_id, p.status, p.erased_at, p.marketing_consent, p.jurisdiction,
       x.kind AS exclusion_kind, x.source AS exclusion_source,
       EXISTS (SELECT 1 FROM rg_register_hits h WHERE h.player_id = p.id AND h.cleared_at IS NULL) AS register_hit,
       EXISTS (SELECT 1 FROM rg_exclusions e WHERE e.player_id = p.id AND e.kind = 'self_exclusion'
               AND e.ends_at <= :now AND e.ends_at > :cooling_since) AS cooling_off,
       (SELECT coalesce(array_agg(c.channel || ':' || c.granted::text || ':' || c.source), '{}')
          FROM crm_consents c WHERE c.player_id = p.id AND c.product = :product) AS consents,
       CASE WHEN :offer THEN EXISTS (SELECT 1 FROM player_bonuses b WHERE b.player_id = p.id
                                     AND b.status <> 'released') ELSE false END AS had_bonus
FROM players p
LEFT JOIN LATERAL (
    SELECT e.kind, e.source FROM rg_exclusions e
    WHERE e.player_id = p.id AND e.starts_at <= :now AND (e.ends_at IS NULL OR e.ends_at > :now)
    ORDER BY e.ends_at DESC NULLS FIRST, CASE WHEN e.kind = 'self_exclusion' THEN 0 ELSE 1 END
    LIMIT 1
) x ON true
WHERE p.id = :player
""")


def _consent_refusal(marketing_consent: bool, rows: list[str], channel: str | None) -> Reason | None:
    if not marketing_consent:
        return Reason.NO_CONSENT
    stored: dict[str, tuple[bool, str]] = {}
    for row in rows:
        row_channel, granted_text, source = row.split(":", 2)
        stored[row_channel] = (granted_text == "true", source)
    channels = [channel] if channel is not None else list(CHANNELS)
    unsubscribed = False
    for candidate in channels:
        granted, source = stored.get(candidate, (default_granted(candidate), Source.REGISTRATION))
        if granted:
            return None
        unsubscribed = unsubscribed or source == Source.UNSUBSCRIBE
    return Reason.UNSUBSCRIBED if unsubscribed and channel is not None else Reason.NO_CONSENT


async def refusal(
    db: AsyncSession,
    player_id: uuid.UUID,
    *,
    purpose: Purpose,
    channel: str | None,
    product: str,
    offer_jurisdictions: list[str] | None = None,
) -> str | None:
    """None: the player may be reached with this message or offer now; else the reason code (a `Reason`)."""
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    purpose = Purpose(purpose)
    now = clock.now()
    row = (
        await db.execute(
            _STANDING,
            {
                "player": player_id,
                "now": now,
                "cooling_since": now - COOLING_OFF,
                "product": product,
                "offer": purpose == Purpose.OFFER,
            },
        )
    ).first()
    if row is None:
        return Reason.UNKNOWN_PLAYER
    if row.status != "active" or row.erased_at is not None:
        return Reason.ACCOUNT_CLOSED
    if row.register_hit:
        return Reason.REGISTER_HIT
    if row.exclusion_kind is not None:
        if str(row.exclusion_source).startswith("register:"):
            return Reason.REGISTER_HIT
        return Reason.SELF_EXCLUDED if row.exclusion_kind == "self_exclusion" else Reason.TIMED_OUT
    if row.cooling_off:
        return Reason.COOLING_OFF
    if purpose == Purpose.OFFER:
        if offer_jurisdictions and row.jurisdiction not in offer_jurisdictions:
            return Reason.JURISDICTION_FORBIDS
        if row.had_bonus and caps(row.jurisdiction).first_occasion_only:
            return Reason.JURISDICTION_FORBIDS
    if product not in PRODUCTS:
        return Reason.NO_CONSENT  # no consent can exist for a product the platform does not list
    return _consent_refusal(bool(row.marketing_consent), list(row.consents), channel)


_RECORD = text("""
INSERT INTO crm_suppressions (brand_id, player_id, purpose, channel, product, reason, source_kind, source_id,
                              message_id, at)
SELECT p.brand_id, p.id, :purpose, :channel, :product, :reason, :source_kind, :source_id, :message_id, :at
FROM players p WHERE p.id = :player
""")


async def record(
    db: AsyncSession,
    player_id: uuid.UUID,
    *,
    reason: str,
    purpose: Purpose,
    channel: str | None,
    product: str,
    source_kind: str,
    source_id: uuid.UUID | None,
    message_id: uuid.UUID | None = None,
) -> None:
    """One row of the suppression log (in the caller's transaction)."""
    await db.execute(
        _RECORD,
        {
            "player": player_id,
            "purpose": Purpose(purpose).value,
            "channel": channel,
            "product": product[:24],
            "reason": reason,
            "source_kind": source_kind[:24],
            "source_id": source_id,
            "message_id": message_id,
            "at": clock.now(),
        },
    )


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
    """`refusal`, and a refusal recorded in the suppression log with its reason (in the caller's
    transaction: it commits with the caller's outcome, e.g. the message marked suppressed)."""
    reason = await refusal(
        db, player_id, purpose=purpose, channel=channel, product=product, offer_jurisdictions=offer_jurisdictions
    )
    if reason is not None and reason != Reason.UNKNOWN_PLAYER:
        await record(
            db,
            player_id,
            reason=reason,
            purpose=purpose,
            channel=channel,
            product=product,
            source_kind=source_kind,
            source_id=source_id,
            message_id=message_id,
        )
    return reason
