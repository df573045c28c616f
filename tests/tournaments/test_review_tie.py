"""review-tn: a tie on points per wager goes to whoever reached the score first."""

from __future__ import annotations

from typing import Any

from tests.tournaments.conftest import EUR, Arena, bet, join, tournament_uuid, win


async def test_a_win_after_the_score_does_not_push_the_player_behind_a_later_equal_score(
    gql: Any, make_player: Any, create: Any, arena: Arena
) -> None:
    """Points per wager: the win of a round changes no points, so it must not move when the score was reached."""
    gid = (await create())["tournament"]["id"]
    first, second = await make_player(balance="10.00 EUR"), await make_player(balance="10.00 EUR")
    for player in (first, second):
        assert (await join(gql, player, gid))["errors"] == []
    at_first = await arena.seat(first)
    placed = await bet(arena.wallet, at_first, 1 * EUR, "a-1")  # first reaches 1 point
    await arena.stake(second, 1 * EUR, "b-1")  # second reaches 1 point later
    await win(arena.wallet, at_first, 2 * EUR, placed)  # first's win: no points
    await arena.scores.drain()
    ranked = [(e["player_id"], e["score"]) for e in await arena.scores.entries(tournament_uuid(gid))]
    assert ranked == [(first.uuid, 1), (second.uuid, 1)]
