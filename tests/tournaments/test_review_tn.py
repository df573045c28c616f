"""Adversarial review findings (review-tn): each test failed on the code as merged."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.tournaments.conftest import join, tournament_uuid
from tests.tournaments.test_buy_ins import cash, pool_balance


async def test_two_concurrent_first_joins_charge_once_and_refuse_the_other_cleanly(
    rt: Any, gql: Any, make_player: Any, create: Any
) -> None:
    """A double-clicked join: one entry, one buy-in, and the other answer a payload refusal, never an error."""
    gid = (await create(buyIn="5.00"))["tournament"]["id"]
    player = await make_player(balance="20.00 EUR")
    first, second = await asyncio.gather(join(gql, player, gid), join(gql, player, gid))
    codes = sorted(e["code"] for p in (first, second) for e in p["errors"])
    assert codes == ["TOURNAMENT_ALREADY_JOINED"], (first, second)
    assert await cash(rt, player) == 15_00
    assert await pool_balance(rt, tournament_uuid(gid)) == 5_00
