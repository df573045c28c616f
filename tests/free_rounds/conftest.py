"""Free rounds through the demo provider's API: the provider row wired to the demo provider (its key, its game
client, its free-rounds API), a free-spins campaign on its slot, and the GraphQL documents staff use."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col

from integrations.demo import seed
from integrations.demo.provider import fair
from integrations.demo.provider.platform import register_demo_provider
from models.games import Provider
from tests.bonuses.conftest import campaign as campaign  # the fixture, reused

GRANT = """mutation($input: GrantFreeRoundsInput!) { grantFreeRounds(input: $input) {
  grant { id bonusId status rewardUuid rounds roundsLeft bet { amount currency } won { amount } wins attempts
          lastError provider games bonusStatus }
  errors { code field message } } }"""
SEND = """mutation($input: SendFreeRoundsInput!) { sendFreeRounds(input: $input) {
  grant { id status rewardUuid attempts lastError } errors { code message } } }"""
CANCEL = """mutation($input: CancelFreeRoundsInput!) { cancelFreeRounds(input: $input) {
  grant { id status bonusStatus } errors { code message } } }"""
GRANTS = """query($player: ID, $status: FreeRoundsStatus) { freeRoundsGrants(playerId: $player, status: $status) {
  id status rewardUuid rounds roundsLeft won { amount currency } wins attempts lastError provider } }"""
SPINS = {"free_spins": 3, "spin_bet": {"EUR": "0.50"}, "games": [fair.SLOT], "wagering_multiplier": 1}


async def set_free_rounds_url(rt: Any, url: str | None) -> None:
    async with rt.database.transaction() as db:
        await db.execute(update(Provider).where(col(Provider.code) == "demo").values(free_rounds_url=url))


@pytest.fixture
async def demo_free_rounds(rt: Any, demo_provider: Any) -> Any:
    """The demo provider, granting free rounds through its API."""
    await seed.seed_games(rt)
    async with rt.database.transaction() as db:
        assert await register_demo_provider(db, demo_provider.public_key_pem, f"{demo_provider.base}/play")
    await set_free_rounds_url(rt, f"{demo_provider.base}/operator/generic/v2")
    return demo_provider
