"""`covering_bets` on the event stream: a bonus holder plays through the Hub88 wallet (signed calls, as the
aggregator makes them); rounds of two or more bets whose win returns about the stake count as covering, and
at the rule's count the `risk-rules` consumer scores, blocks bonuses and flags the player."""

from __future__ import annotations

from typing import Any

from services.risk.rules import ActionKind
from tests.bonuses.conftest import CLAIM, rules
from tests.conftest import fund
from tests.providers.conftest import Aggregator, Seat, open_session
from tests.risk.stream_support import Stream

EUR = 100_000  # one euro in Hub88 units


async def _bonus_holder(rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any) -> Seat:
    """A seated player holding an active 50 EUR no-deposit bonus (wagering 20 x 50 EUR, no max bet)."""
    await campaign(
        "NO_DEPOSIT",
        rules(fixed_amount={"EUR": "50.00"}, max_bonus={"EUR": "50.00"}, wagering_multiplier=20, max_bet={}),
        code="COVER50",
    )
    player = await make_player()
    claimed = (await gql(CLAIM, {"input": {"code": "COVER50"}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == [], claimed
    assert claimed["bonus"]["status"] == "ACTIVE"
    return Seat(str(player.uuid), player.uuid, await open_session(rt, hub88_provider, player.uuid))


async def _round(
    aggregator: Aggregator, seat: Seat, round_ref: str, stakes: list[int], win: int
) -> list[dict[str, Any]]:
    """One round: its bets (say red and black), then its win (if any) naming the first bet."""
    bets = [seat.bet(stake, round_ref=round_ref) for stake in stakes]
    for bet in bets:
        assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    if win:
        await _win(aggregator, seat, bets[0], win)
    return bets


async def _win(aggregator: Aggregator, seat: Seat, bet: dict[str, Any], amount: int) -> None:
    won = seat.win(amount, bet["transaction_uuid"], round_ref=bet["round"])
    assert (await aggregator.call("transaction/win", won))["status"] == "RS_OK"


async def test_covering_rounds_while_wagering_a_bonus_hit_at_the_rule_count(
    rt: Any,
    gql: Any,
    make_player: Any,
    hub88_provider: Any,
    campaign: Any,
    aggregator: Aggregator,
    stream: Stream,
) -> None:
    seat = await _bonus_holder(rt, gql, make_player, hub88_provider, campaign)
    # Not covering: one bet returning its stake; two bets returning three times it; two bets losing.
    await _round(aggregator, seat, "single", [2 * EUR], 2 * EUR)
    await _round(aggregator, seat, "lucky", [EUR, EUR], 6 * EUR)
    await _round(aggregator, seat, "lost", [EUR, EUR], 0)
    # Covering (the default rule: 5 rounds returning 90-110 % of their stake): 4 so far.
    for n in range(4):
        await _round(aggregator, seat, f"cover-{n}", [EUR, EUR], 2 * EUR if n % 2 else 19 * EUR // 10)
    await stream.drain()
    assert await stream.rule_hits(seat.player_id) == []

    await _round(aggregator, seat, "cover-4", [EUR, EUR // 2, EUR // 2], 2 * EUR)  # three bets, 100 %
    await stream.drain()

    assert await stream.rule_hits(seat.player_id) == ["covering-bets"]
    found = await stream.score(seat.player_id)
    assert found.value == 25
    [reason] = found.reasons
    assert reason.reason == (
        "5 covering rounds while wagering a bonus: two or more bets per round returning 90-110% of the stake "
        "(at least 5 count); the latest round cover-4 of slot-fortune"
    )
    assert reason.details["covering_rounds"] == 5
    assert [r["round"] for r in reason.details["rounds"]] == [f"cover-{n}" for n in range(5)]
    assert reason.details["rounds"][-1] == {"round": "cover-4", "bets": 3, "staked": 200, "won": 200}
    restrictions = await stream.restrictions(seat.player_id)
    assert [a.kind for a in restrictions.actions] == [ActionKind.BLOCK_BONUSES]
    assert await stream.flags(seat.player_id) == [("covering-bets", "game_round", "open")]

    # Another covering round refreshes the contribution (one open flag still)...
    bets = await _round(aggregator, seat, "cover-5", [EUR, EUR], 19 * EUR // 10)
    await stream.drain()
    reason = (await stream.reasons(seat.player_id))["covering-bets"]
    assert (reason.hits, reason.details["covering_rounds"]) == (2, 6)
    assert await stream.flags(seat.player_id) == [("covering-bets", "game_round", "open")]
    # ...a later win of a round already counted (still covering: 100 %) adds nothing.
    await _win(aggregator, seat, bets[1], EUR // 10)
    await stream.drain()
    reason = (await stream.reasons(seat.player_id))["covering-bets"]
    assert (reason.hits, reason.details["covering_rounds"]) == (2, 6)
    assert await stream.rule_hits(seat.player_id) == ["covering-bets", "covering-bets"]


async def test_a_batch_of_covering_rounds_is_one_hit_and_wins_of_counted_rounds_add_nothing(
    rt: Any,
    gql: Any,
    make_player: Any,
    hub88_provider: Any,
    campaign: Any,
    aggregator: Aggregator,
    stream: Stream,
) -> None:
    await stream.set_rule("covering-bets", params={"rounds": 2, "low_percent": 95, "high_percent": 105})
    seat = await _bonus_holder(rt, gql, make_player, hub88_provider, campaign)
    for n in range(4):
        await _round(aggregator, seat, f"batch-{n}", [EUR, EUR], 2 * EUR)
    await stream.drain()
    reason = (await stream.reasons(seat.player_id))["covering-bets"]
    assert (reason.hits, reason.details["covering_rounds"]) == (1, 4)
    # A round the provider pays bet by bet (two wins, one batch): counted once.
    bets = await _round(aggregator, seat, "batch-9", [EUR, EUR], 0)
    for bet in bets:
        await _win(aggregator, seat, bet, EUR)
    await stream.drain()
    reason = (await stream.reasons(seat.player_id))["covering-bets"]
    assert (reason.hits, reason.details["covering_rounds"]) == (2, 5)  # batch-9 counted once, on two wins


async def test_rounds_without_a_bonus_in_play_are_not_judged(
    rt: Any,
    gql: Any,
    make_player: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
    stream: Stream,
) -> None:
    player = await make_player()
    await fund(rt, player, "100.00 EUR")
    seat = Seat(str(player.uuid), player.uuid, await open_session(rt, hub88_provider, player.uuid))
    for n in range(6):
        await _round(aggregator, seat, f"plain-{n}", [EUR, EUR], 2 * EUR)
    await stream.drain()
    assert await stream.rule_hits(seat.player_id) == []
    assert (await stream.score(seat.player_id)).value == 0
