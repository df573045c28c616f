"""The demo's journey: "Welcome" at Royal, active, offering the demo's first-deposit match. Seeding twice
changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from integrations.demo import seed
from integrations.demo.crm_journeys import seed_journeys


async def test_the_demo_welcome_journey_is_seeded_once_and_offers_the_welcome_match(rt: Any, brand: Any) -> None:
    await seed.seed_bonuses(rt)
    await seed_journeys(rt)
    await seed_journeys(rt)
    async with rt.database.session() as db:
        rows = (await db.execute(text("SELECT name, status, definition FROM crm_journeys"))).all()
    [(name, status, definition)] = rows
    assert (name, status) == ("Welcome", "active")
    assert [s["kind"] for s in definition["steps"]] == ["send", "wait", "condition", "offer", "send", "tag"]
