"""A deposit refused after its inline rules fired keeps their hits and its observation (issue 17): the refusal
rolls the deposit's transaction back, and services/risk/refused.py writes them again in one of their own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.risk.inline_support import add_rule, open_flags, score_items
from tests.risk.test_inline_deposits import deposit, payments_of


async def _observations(rt: Any, player: Any) -> int:
    async with rt.database.session() as db:
        found = await db.scalar(
            text("SELECT count(*) FROM risk_observations WHERE player_id = :p AND occasion = 'deposit'"),
            {"p": player.uuid},
        )
    return int(found or 0)


async def test_a_deposit_refused_after_its_rules_fired_keeps_their_hits_and_its_observation(
    rt: Any, gql: Any, psp: Any, make_player: Any
) -> None:
    await add_rule(
        rt,
        "second-deposit",
        "velocity",
        {"occasion": "deposit", "by": "player", "count": 2, "minutes": 10},
        [{"kind": "flag_review"}],
        points=15,
    )
    player = await make_player()
    first = await deposit(gql, psp, player, "20.00")
    assert first["errors"] == []
    assert first["payment"]["status"] == "SUCCEEDED"

    refused = await deposit(gql, psp, player, "20.00", bonusCode="NO-SUCH-CODE")  # refused after risk decided

    assert [e["code"] for e in refused["errors"]] == ["BONUS_CODE_INVALID"]
    assert await payments_of(rt, player) == 1  # rolled back: no payment
    assert await open_flags(rt, player) == ["second-deposit"]  # before the fix: [] (the hit rolled back)
    assert (await score_items(rt, player))["second-deposit"].hits == 1
    assert await _observations(rt, player) == 2  # the refused attempt counts for the velocity rules
