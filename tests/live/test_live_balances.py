"""The balances live subscriptions re-read (`services.live_balances`): reads asked for together go out
as one statement, and each reader gets its own player's balances and no other's."""

from __future__ import annotations

import asyncio

from services.live_balances import BalanceReader
from tests.conftest import fund


async def test_reads_asked_for_together_are_one_statement_and_each_gets_its_own_player(rt, make_player) -> None:
    rich, poor, empty = await make_player(), await make_player(), await make_player()
    await fund(rt, rich, "90.00 EUR")
    await fund(rt, poor, "1.50 EUR")
    reader = BalanceReader(rt)

    rich_seen, poor_seen, empty_seen, rich_again = await asyncio.gather(
        reader.balances(rich.uuid), reader.balances(poor.uuid), reader.balances(empty.uuid), reader.balances(rich.uuid)
    )

    assert reader.statements == 1
    assert [(b.currency, b.cash) for b in rich_seen] == [("EUR", 90_00)]
    assert [(b.currency, b.cash) for b in poor_seen] == [("EUR", 1_50)]
    assert [(b.currency, b.cash) for b in empty_seen] in ([], [("EUR", 0)])
    assert rich_again == rich_seen


async def test_a_lone_read_goes_out_at_once_and_sees_the_latest_balance(rt, make_player) -> None:
    player = await make_player()
    reader = BalanceReader(rt)
    await fund(rt, player, "3.00 EUR")
    assert [b.cash for b in await reader.balances(player.uuid)] == [3_00]
    await fund(rt, player, "2.00 EUR")
    assert [b.cash for b in await reader.balances(player.uuid)] == [5_00]
    assert reader.statements == 2


async def test_a_reader_that_leaves_does_not_hold_up_the_others(rt, make_player) -> None:
    staying, leaving = await make_player(), await make_player()
    await fund(rt, staying, "4.00 EUR")
    reader = BalanceReader(rt)
    left = asyncio.ensure_future(reader.balances(leaving.uuid))
    kept = asyncio.ensure_future(reader.balances(staying.uuid))
    left.cancel()
    assert [b.cash for b in await kept] == [4_00]
    assert left.cancelled()
