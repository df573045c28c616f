"""Demo journey: "Welcome" at Royal, active — on registration a welcome email; an hour later, if the player has
not deposited, the demo's first-deposit match (WELCOME100) offered and an inbox nudge; quiet hours 21:00 to 09:00
in the player's time zone. Safe to run twice (an existing journey of that name is kept)."""

from __future__ import annotations

from sqlalchemy import text

from authz.subjects import SYSTEM
from core.runtime import Runtime
from models.crm_journeys import JourneyStatus
from services.crm.journeys import store

NAME = "Welcome"
OFFER_CODE = "WELCOME100"


async def seed_journeys(rt: Runtime) -> list[str]:
    async with rt.database.session() as db:
        brand_id = await db.scalar(text("SELECT id FROM brands WHERE code = 'royal'"))
        if brand_id is None:
            return ["no royal brand yet: no journey"]
        exists = await db.scalar(
            text("SELECT id FROM crm_journeys WHERE brand_id = :b AND name = :n LIMIT 1"), {"b": brand_id, "n": NAME}
        )
        campaign_id = await db.scalar(
            text("SELECT id FROM bonus_campaigns WHERE brand_id = :b AND promo_code = :c"),
            {"b": brand_id, "c": OFFER_CODE},
        )
    if exists is None:
        steps: list[dict[str, object]] = [
            {"kind": "send", "channel": "email", "template": "welcome"},
            {"kind": "wait", "minutes": 60},
            {"kind": "condition", "test": "has_not_deposited"},
        ]
        if campaign_id is not None:
            steps.append({"kind": "offer", "campaign_id": str(campaign_id)})
        steps += [
            {"kind": "send", "channel": "inbox", "template": "first-deposit-nudge"},
            {"kind": "tag", "tag": "welcomed"},
        ]
        definition = {"trigger": {"kind": "registered"}, "cap": {"max_entries": 1}, "steps": steps}
        journey = await store.create(rt, SYSTEM, name=NAME, definition=definition, brand_code="royal")
        await store.set_status(rt, SYSTEM, journey.id, JourneyStatus.ACTIVE)
    return [f"{NAME} at royal: welcome email, then after an hour without a deposit {OFFER_CODE} and an inbox nudge"]
