"""The four scoring kinds, the minimum bet, the rounds cap and re-buys, eligibility, and ties (who reached the
score first), on Hub88 play scored by the `tournaments` consumer; players read their scores through GraphQL."""

from __future__ import annotations

from typing import Any

from tests.tournaments.conftest import EUR, MY_ENTRIES, Scores, bet, join, seated, tournament_uuid, win

CENT = EUR // 100


async def entered(gql: Any, make_player: Any, gid: str, n: int = 1) -> list[Any]:
    players = [await make_player(balance="100.00 EUR") for _ in range(n)]
    for player in players:
        assert (await join(gql, player, gid))["errors"] == []
    return players


async def rounds(aggregator: Any, at: Any, plays: list[tuple[int, int]], prefix: str) -> None:
    """Rounds of (stake, win) in Hub88 units, in order."""
    for n, (stake, won) in enumerate(plays):
        placed = await bet(aggregator, at, stake, f"{prefix}-{n}")
        if won:
            await win(aggregator, at, won, placed)


async def score_of(scores: Scores, gid: str) -> dict[Any, int]:
    await scores.drain()
    return {e["player_id"]: e["score"] for e in await scores.entries(tournament_uuid(gid))}


async def test_biggest_multiplier_is_the_best_round_and_a_tie_goes_to_who_reached_it_first(
    rt: Any, gql: Any, make_player: Any, create: Any, scores: Scores, hub88_provider: Any, aggregator: Any
) -> None:
    gid = (await create(scoring="BIGGEST_MULTIPLIER"))["tournament"]["id"]
    late, early = await entered(gql, make_player, gid, 2)
    await rounds(aggregator, await seated(rt, hub88_provider, early), [(1 * EUR, 5 * EUR), (2 * EUR, 3 * EUR)], "e")
    await rounds(aggregator, await seated(rt, hub88_provider, late), [(2 * EUR, 10 * EUR)], "l")
    assert await score_of(scores, gid) == {early.uuid: 500, late.uuid: 500}  # x5.00 each, in hundredths
    ranked = [e["player_id"] for e in await scores.entries(tournament_uuid(gid))]
    assert ranked == [early.uuid, late.uuid]  # tied: the earlier one first, whatever their ids


async def test_sum_of_multipliers_adds_every_winning_round(
    rt: Any, gql: Any, make_player: Any, create: Any, scores: Scores, hub88_provider: Any, aggregator: Any
) -> None:
    gid = (await create(scoring="SUM_OF_MULTIPLIERS"))["tournament"]["id"]
    [player] = await entered(gql, make_player, gid)
    plays = [(1 * EUR, 5 * EUR), (2 * EUR, 3 * EUR), (1 * EUR, 0), (3 * EUR, 1 * EUR)]
    await rounds(aggregator, await seated(rt, hub88_provider, player), plays, "s")
    assert await score_of(scores, gid) == {player.uuid: 500 + 150 + 33}  # x0.333… rounds down to 33


async def test_consecutive_wins_count_the_longest_run(
    rt: Any, gql: Any, make_player: Any, create: Any, scores: Scores, hub88_provider: Any, aggregator: Any
) -> None:
    gid = (await create(scoring="CONSECUTIVE_WINS"))["tournament"]["id"]
    [player] = await entered(gql, make_player, gid)
    won, lost = (1 * EUR, 2 * EUR), (1 * EUR, 0)
    await rounds(aggregator, await seated(rt, hub88_provider, player), [won, won, lost, won, won, won, lost], "c")
    assert await score_of(scores, gid) == {player.uuid: 3}


async def test_the_minimum_bet_and_the_rounds_cap_limit_what_counts_and_a_rebuy_buys_more_rounds(
    rt: Any, gql: Any, make_player: Any, create: Any, scores: Scores, hub88_provider: Any, aggregator: Any
) -> None:
    gid = (await create(minBet="0.50", roundsCap=2, buyIn="1.00", maxRebuys=1, points=1, per="0.10"))["tournament"][
        "id"
    ]
    [player] = await entered(gql, make_player, gid)
    at = await seated(rt, hub88_provider, player)
    # 0.20 is under the minimum; then 1.00, 2.00 count (the cap); the 3.00 is the third counted round.
    await rounds(aggregator, at, [(20 * CENT, 0), (1 * EUR, 0), (2 * EUR, 0), (3 * EUR, 0)], "m")
    assert await score_of(scores, gid) == {player.uuid: 30}  # 3.00 staked in counted rounds: 30 points
    rebought = await join(gql, player, gid, rebuy=1)
    assert rebought["errors"] == []
    assert (rebought["entry"]["score"], rebought["entry"]["roundsCounted"]) == (60, 3)  # the 3.00 round now counts
    [mine] = (await gql(MY_ENTRIES, token=player.token))["data"]["myTournamentEntries"]["edges"]
    assert (mine["node"]["score"], mine["node"]["rebuys"], mine["node"]["buyIns"]) == (60, 1, 2)


async def test_only_eligible_games_count(
    rt: Any, gql: Any, make_player: Any, create: Any, scores: Scores, hub88_provider: Any, aggregator: Any
) -> None:
    only_retired = (await create(games=["retired"]))["tournament"]["id"]
    hub88 = (await create(providers=["hub88"]))["tournament"]["id"]
    player = await make_player(balance="100.00 EUR")
    for gid in (only_retired, hub88):
        assert (await join(gql, player, gid))["errors"] == []
    await rounds(aggregator, await seated(rt, hub88_provider, player), [(2 * EUR, 0)], "g")  # slot-fortune
    assert await score_of(scores, only_retired) == {player.uuid: 0}
    assert await score_of(scores, hub88) == {player.uuid: 2}


async def test_play_before_joining_does_not_count(
    rt: Any, gql: Any, make_player: Any, create: Any, scores: Scores, hub88_provider: Any, aggregator: Any
) -> None:
    gid = (await create())["tournament"]["id"]
    player = await make_player(balance="100.00 EUR")
    at = await seated(rt, hub88_provider, player)
    await rounds(aggregator, at, [(5 * EUR, 0)], "before")
    assert (await join(gql, player, gid))["errors"] == []
    await rounds(aggregator, at, [(2 * EUR, 0)], "after")
    assert await score_of(scores, gid) == {player.uuid: 2}
