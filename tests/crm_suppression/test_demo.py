"""The demo's consents and suppressed player: seeding twice changes nothing, and the one check refuses Erik."""

from __future__ import annotations

from typing import Any

from integrations.demo.crm_suppression import seed_crm_suppression
from tests.conftest import PASSWORD
from tests.crm_suppression.conftest import Crm, refusal


async def test_the_demo_has_a_consenting_and_a_suppressed_player(rt: Any, make_player: Any, crm: Crm) -> None:
    carla = await make_player(email="carla@example.com", marketingConsent=True)
    first = await seed_crm_suppression(rt, PASSWORD)
    assert await seed_crm_suppression(rt, PASSWORD) == first
    assert len(first) == 2
    assert await refusal(rt, carla, channel="sms") is None
    assert await refusal(rt, carla, product="sports") == "NO_CONSENT"
    erik = await crm.conn.fetchrow("SELECT id FROM players WHERE email = 'erik@example.com'")

    class Erik:
        uuid = erik["id"]

    assert await refusal(rt, Erik) == "SELF_EXCLUDED"
    assert await crm.conn.fetchval("SELECT count(*) FROM rg_exclusions") == 1
