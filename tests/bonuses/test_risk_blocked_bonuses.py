"""Risk's `block_bonuses` holds for every way bonus money reaches a player (issue 17): a claim (tested in
tests/risk/test_inline_claims.py), staff's grant by hand — no override, the risk desk lifts the restriction
first — and cashback, whose run counts the player not eligible."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import clock
from tests.bonuses.conftest import bonus_balance, rules
from tests.bonuses.test_bonus_operations import GRANT
from tests.bonuses.test_bonuses import _seat
from tests.bonuses.test_cashback import PAY, _play, cashback_rules
from tests.providers.conftest import Aggregator
from tests.risk.desk import IMPOSE


async def _block_bonuses(gql: Any, make_staff: Any, player_id: str) -> None:
    desk = await make_staff("risk_analyst")
    given = {"playerId": player_id, "kind": "BLOCK_BONUSES", "reason": "covering bets"}
    body = await gql(IMPOSE, {"input": given}, token=desk.token)
    assert body["data"]["imposeRiskAction"]["errors"] == [], body


async def test_staff_cannot_grant_a_bonus_to_a_player_risk_blocked_from_bonuses(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    offer = await campaign("DEPOSIT_MATCH", rules(), code="MATCH")
    player = await make_player()
    await _block_bonuses(gql, make_staff, player.id)
    support = await make_staff("support")
    ask = {"playerId": player.id, "campaignId": offer, "reason": "goodwill after outage", "amount": "15.00"}
    payload = (await gql(GRANT, {"input": ask}, token=support.token))["data"]["grantBonus"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("RISK_BONUS_BLOCKED", "playerId")]
    assert payload["bonus"] is None
    assert await bonus_balance(rt, player.uuid) == (0, 0)


async def test_cashback_skips_a_player_risk_blocked_from_bonuses(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    offer = await campaign("CASHBACK", cashback_rules())
    (loser, _), (blocked, _) = [await _seat(rt, make_player, hub88_provider, cash=100_000) for _ in range(2)]
    await _play(aggregator, loser, (40, 10))  # lost 30: 3.00 back
    await _play(aggregator, blocked, (40, 10))  # the same, but risk blocks their bonuses
    desk = await make_staff("risk_analyst")
    given = {"playerId": _global_id(blocked.player_id), "kind": "BLOCK_BONUSES", "reason": "bonus ring"}
    assert (await gql(IMPOSE, {"input": given}, token=desk.token))["data"]["imposeRiskAction"]["errors"] == []

    clock.advance(timedelta(days=7))
    finance = await make_staff("finance")
    payload = (await gql(PAY, {"input": {"campaignId": offer}}, token=finance.token))["data"]["payCashback"]
    assert payload["errors"] == [], payload
    assert (payload["run"]["playersPaid"], payload["run"]["notEligible"]) == (1, 1)
    assert (await bonus_balance(rt, blocked.player_id))[0] == 100_000 - 3_000  # nothing back
    assert (await bonus_balance(rt, loser.player_id))[0] == 100_000 - 3_000 + 300


def _global_id(player_uuid: Any) -> str:
    from strawberry import relay

    return str(relay.GlobalID("Player", str(player_uuid)))
