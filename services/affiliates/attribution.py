"""Attribution: which partner brought a player. Made once, at registration, inside the registration's own
transaction (so a rolled-back registration leaves no attribution and no event), from the click the
registration carries (`affiliateClick`: the click id the `/a/{code}` redirect and cookie gave the visitor).

The rule: the click counts when it is on the player's brand, at most the brand's attribution window old
(tracking.toml), its link not archived, its partner active, and it has attributed nobody yet. The cookie holds
the visitor's last click (each click replaces it), so the attribution goes to the last click within the window.
A click is one visit by one visitor: one click attributes at most one player (the first registration that
carries it; a unique index on `click_id`, so two registrations at once cannot both take it). A second
registration carrying the same click id is a copied cookie or a replayed URL, and counting it would let one
click be paid as many players. A click that does not count attributes nobody — it never refuses a
registration. One row per player (its primary key), and the event
`affiliate.attributed` (subject `player:<id>`) in the same transaction: the postbacks, CPA and fraud parts
follow from it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import outbox
from core.clock import clock
from core.ids import parse_uuid
from services.affiliates.tracking import tracking

_CLICK = text("""
SELECT c.id, c.link_id, c.affiliate_id, c.brand_id, c.sub_id, c.sub_ids, c.clicked_at, a.code AS affiliate_code
FROM affiliate_clicks c
JOIN affiliates a ON a.id = c.affiliate_id AND a.status = 'active'
JOIN affiliate_links l ON l.id = c.link_id AND l.archived_at IS NULL
WHERE c.id = :click AND c.brand_id = :brand AND c.clicked_at >= :since
""")
_INSERT = text("""
INSERT INTO affiliate_attributions
    (player_id, affiliate_id, brand_id, link_id, click_id, sub_id, sub_ids, clicked_at, attributed_at)
VALUES (:player, :affiliate, :brand, :link, :click, :sub_id, CAST(:sub_ids AS jsonb), :clicked_at, :now)
ON CONFLICT DO NOTHING  -- the player's row, or the click's (it attributed another player)
RETURNING player_id
""")
_CODE = text(
    "SELECT a.code FROM affiliate_attributions t JOIN affiliates a ON a.id = t.affiliate_id WHERE t.player_id = :player"
)
_READ = text("""
SELECT t.player_id, t.affiliate_id, a.code AS affiliate_code, a.company, t.brand_id, t.link_id, l.code AS link_code,
       l.tag AS link_tag, t.click_id, t.sub_id, t.sub_ids, t.clicked_at, t.attributed_at
FROM affiliate_attributions t
JOIN affiliates a ON a.id = t.affiliate_id
JOIN affiliate_links l ON l.id = t.link_id
WHERE t.player_id = ANY(:players)
""")


@dataclass(frozen=True)
class Attribution:
    player_id: uuid.UUID
    affiliate_id: uuid.UUID
    affiliate_code: str
    company: str
    brand_id: uuid.UUID
    link_id: uuid.UUID
    link_code: str
    link_tag: str
    click_id: uuid.UUID | None
    sub_id: str | None
    sub_ids: dict[str, Any]
    clicked_at: datetime | None
    attributed_at: datetime


def click_id_of(raw: str | None) -> uuid.UUID | None:
    """The click id a registration carries, or None (absent or malformed: tracking never blocks a sign-up)."""
    return parse_uuid(raw.strip()) if raw and len(raw) <= 64 else None


async def attribute(
    db: AsyncSession, *, player_id: uuid.UUID, brand_id: uuid.UUID, brand_code: str, click_id: uuid.UUID | None
) -> bool:
    """Attribute a new player to the partner of their click when it counts (the module's rule); in the
    caller's (registration) transaction. True when an attribution was made."""
    if click_id is None:
        return False
    now = clock.now()
    click = (
        await db.execute(_CLICK, {"click": click_id, "brand": brand_id, "since": now - tracking().window(brand_code)})
    ).first()
    if click is None:
        return False
    made = await db.scalar(
        _INSERT,
        {
            "player": player_id,
            "affiliate": click.affiliate_id,
            "brand": brand_id,
            "link": click.link_id,
            "click": click.id,
            "sub_id": click.sub_id,
            "sub_ids": json.dumps(click.sub_ids or {}),
            "clicked_at": click.clicked_at,
            "now": now,
        },
    )
    if made is None:
        return False
    await outbox.emit(
        db,
        "affiliate.attributed",
        f"player:{player_id}",
        {
            "player_id": str(player_id),
            "affiliate_id": str(click.affiliate_id),
            "affiliate_code": click.affiliate_code,
            "brand_id": str(brand_id),
            "link_id": str(click.link_id),
            "click_id": str(click.id),
            "sub_id": click.sub_id,
            "sub_ids": dict(click.sub_ids or {}),
            "clicked_at": click.clicked_at.isoformat(),
        },
        brand_id=brand_id,
    )
    return True


async def affiliate_code(db: AsyncSession, player_id: uuid.UUID) -> str | None:
    """The code of the partner a player is attributed to (Hub88 `user/info` answers it as `affiliate_id`); the
    provider's read only, never on a bet's path."""
    found = await db.scalar(_CODE, {"player": player_id})
    return str(found) if found is not None else None


async def attributions_of(db: AsyncSession, player_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Attribution]:
    """The attributions of some players, with their partner and link (one statement)."""
    if not player_ids:
        return {}
    rows = await db.execute(_READ, {"players": list(set(player_ids))})
    return {row.player_id: Attribution(**row._mapping) for row in rows}
