"""Demo CRM segments at Royal: a dynamic one (players who deposited within 30 days and took marketing) and a
static one holding the demo player Carla, so journeys, lobbies and content have audiences to name. Safe to run
twice (a segment that exists by name is kept)."""

from __future__ import annotations

from sqlalchemy import text

from authz.subjects import SYSTEM
from core.runtime import Runtime
from models.crm import SegmentKind
from services.crm.segments import membership, segments

ACTIVE_DEPOSITORS = "Active depositors with consent"
DEMO_VIPS = "Demo VIPs"
_RULES = {
    "match": "all",
    "conditions": [
        {"field": "marketing_consent", "op": "is", "flag": True},
        {"field": "days_since_last_deposit", "op": "lte", "value": 30},
    ],
}


async def seed_crm_segments(rt: Runtime) -> list[str]:
    async with rt.database.session() as db:
        existing = set((await db.execute(text("SELECT name FROM crm_segments WHERE brand_id = "
                                              "(SELECT id FROM brands WHERE code = 'royal')"))).scalars())  # fmt: skip
    if ACTIVE_DEPOSITORS not in existing:
        await segments.create_segment(
            rt, SYSTEM, name=ACTIVE_DEPOSITORS, kind=SegmentKind.DYNAMIC, rules=_RULES, brand_code="royal"
        )
    if DEMO_VIPS not in existing:
        vips = await segments.create_segment(rt, SYSTEM, name=DEMO_VIPS, kind=SegmentKind.STATIC, brand_code="royal")
        async with rt.database.transaction() as db:
            carla = await db.scalar(
                text("SELECT p.id FROM players p JOIN brands b ON b.id = p.brand_id "
                     "WHERE b.code = 'royal' AND p.email = 'carla@example.com'")
            )  # fmt: skip
            if carla is not None:
                await membership.add_member(db, vips.id, carla)
    return [f"segments at royal: {ACTIVE_DEPOSITORS!r} (dynamic), {DEMO_VIPS!r} (static, Carla)"]
