"""Bonus and free-spin prizes go through the bonus engine, with a staff grant's checks: a prize the engine
refuses (the winner already has a bonus in play) is recorded refused with its code, and the rest is paid."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.bonuses.conftest import bonus_balance, campaign, rules  # noqa: F401  (the fixture)
from tests.tournaments.conftest import EUR, Arena, join, tournament_uuid


async def test_bonus_and_free_spin_prizes_are_issued_by_the_bonus_engine(
    rt: Any,
    gql: Any,
    make_player: Any,
    create: Any,
    arena: Arena,
    campaign: Any,  # noqa: F811
) -> None:
    money = await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}))
    spins = await campaign(
        "FREE_SPINS",
        {"free_spins": 5, "spin_bet": {"EUR": "0.20"}, "games": ["slot-fortune"], "wagering_multiplier": 1},
    )
    created = await create(
        prizes=[
            {"rankFrom": 1, "rankTo": 1, "kind": "BONUS", "amount": "7.50", "campaignId": money},
            {"rankFrom": 2, "rankTo": 3, "kind": "FREE_SPINS", "campaignId": spins},
        ]
    )
    assert created["errors"] == [], created
    gid = created["tournament"]["id"]
    first, second, third = [await make_player(balance="50.00 EUR") for _ in range(3)]
    for stake, player in ((3, first), (2, second), (1, third)):
        assert (await join(gql, player, gid))["errors"] == []
        await arena.stake(player, stake * EUR, f"b-{stake}")
    # The third already holds a bonus in play: the engine refuses a second one.
    from services.bonuses.issue import issue_bonus
    from services.wallet import Actor

    async with rt.database.transaction() as db:
        from models.bonuses import BonusCampaign
        from models.players import Player
        from schema.base import node_uuid

        campaign_row = await db.get(BonusCampaign, node_uuid(money, "BonusCampaign"))
        player_row = await db.get(Player, third.uuid)
        assert campaign_row is not None
        assert player_row is not None
        await issue_bonus(db, campaign_row, player_row, Actor("system"))
    await arena.scores.drain()

    settled = await arena.settle(gid)
    assert settled["errors"] == [], settled
    assert settled["tournament"]["payouts"] == [
        {"rank": 1, "kind": "BONUS", "amount": "7.50", "currency": "EUR", "status": "PAID"},
        {"rank": 2, "kind": "FREE_SPINS", "amount": "5", "currency": "EUR", "status": "PAID"},
        {"rank": 3, "kind": "FREE_SPINS", "amount": "0", "currency": "EUR", "status": "REFUSED"},
    ]
    assert (await bonus_balance(rt, first.uuid))[1] == 7_50
    async with rt.database.session() as db:
        spins_left = await db.scalar(
            text("SELECT spins_left FROM player_bonuses WHERE player_id = :p"), {"p": second.uuid}
        )
        refusal = await db.scalar(
            text("SELECT refusal_code FROM tournament_prizes WHERE tournament_id = :t AND rank = 3"),
            {"t": tournament_uuid(gid)},
        )
    assert spins_left == 5
    assert refusal is not None
