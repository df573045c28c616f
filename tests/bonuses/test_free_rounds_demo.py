"""Free rounds end to end: a grant reaches the demo provider in the launch URL, the provider plays them as
`is_free` Hub88 bets naming the grant, and the wallet credits their wins as bonus money."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlmodel import col, select

from integrations.demo import seed
from integrations.demo.provider import fair
from integrations.demo.provider.platform import register_demo_provider
from models.games import Game, Provider
from tests.bonuses.conftest import CLAIM, bonus_balance, bonus_row

LAUNCH = """
mutation($input: LaunchGameInput!) { launchGame(input: $input) { launchUrl errors { code message } } }"""


async def test_granted_free_rounds_are_played_by_the_provider_and_win_bonus_money(
    rt: Any, gql: Any, demo_provider: Any, make_player: Any, campaign: Any
) -> None:
    from strawberry import relay

    await seed.seed_games(rt)
    async with rt.database.transaction() as db:
        assert await register_demo_provider(db, demo_provider.public_key_pem, f"{demo_provider.base}/play")
        game_id = await db.scalar(
            select(col(Game.id))
            .join(Provider, col(Provider.id) == col(Game.provider_id))
            .where(col(Provider.code) == "demo", col(Game.code) == fair.SLOT)
        )
    await campaign(
        "FREE_SPINS",
        {"free_spins": 3, "spin_bet": {"EUR": "0.50"}, "games": [fair.SLOT], "wagering_multiplier": 1},
        code="DEMO-SPINS",
    )
    player = await make_player()
    claimed = (await gql(CLAIM, {"input": {"code": "demo-spins"}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == [], claimed
    launched = (
        await gql(
            LAUNCH, {"input": {"gameId": str(relay.GlobalID("Game", str(game_id))), "mode": "REAL"}}, token=player.token
        )
    )["data"]["launchGame"]
    assert launched["errors"] == [], launched
    url = urlsplit(launched["launchUrl"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert (params["reward_uuid"], params["free_rounds"], params["free_round_bet"]) == (
        claimed["bonus"]["rewardUuid"],
        "3",
        "50",
    )

    async with httpx.AsyncClient(base_url=demo_provider.base, timeout=30) as http:
        assert (await http.get("/play", params=params)).status_code == 200
        rounds = [
            (await http.post("/api/spin", json={"token": params["token"], "game": fair.SLOT, "bet": "5.00"})).json()
            for _ in range(3)
        ]
    assert [(r["status"], r["free"], r["bet"]) for r in rounds] == [("RS_OK", True, "0.50")] * 3
    assert rounds[-1]["free_rounds_left"] == 0
    won = sum(int(Decimal(r["win"]) * 100) for r in rounds)
    bonus = await bonus_row(rt, player.uuid)
    assert (bonus.spins_left, bonus.amount) == (0, won)
    cash, bonus_money = await bonus_balance(rt, player.uuid)
    assert cash == 0  # free rounds debit nothing
    assert bonus_money == (won if bonus.status == "active" else 0)
