"""Risk's `block_account` stops real-money play in games already open (issue 17): the imposition ends the player's
game sessions, which the provider wallet's bet path already reads in its one statement (no added round trip for
a valid bet), and a refused bet is answered RS_ERROR_USER_DISABLED (docs: /work/shared/providers/hub88-wallet.md).
Wins of rounds already open still settle. A launch racing the block takes the player's risk turn."""

from __future__ import annotations

from typing import Any

from tests.conftest import fund
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    Aggregator,
    Seat,
    aggregator,
    aggregator_key,
    hub88_provider,
    open_session,
)
from tests.risk.desk import IMPOSE
from tests.risk.inline_support import desk_fixture, lift  # noqa: F401  (fixture)

EUR = 1000  # Hub88 units per cent


async def _block(gql: Any, desk: str, player: Any) -> str:
    given = {"playerId": player.id, "kind": "BLOCK_ACCOUNT", "reason": "stolen cards"}
    payload = (await gql(IMPOSE, {"input": given}, token=desk))["data"]["imposeRiskAction"]
    assert payload["errors"] == [], payload
    restriction_id: str = payload["restriction"]["id"]
    return restriction_id


async def test_an_open_game_refuses_bets_once_risk_blocks_the_account_and_settles_its_wins(
    rt: Any,
    gql: Any,
    make_player: Any,
    hub88_provider: Any,  # noqa: F811
    aggregator: Aggregator,  # noqa: F811
    desk: str,
) -> None:
    player = await make_player()
    await fund(rt, player, "100.00 EUR")
    seat = Seat(str(player.uuid), player.uuid, await open_session(rt, hub88_provider, player.uuid))
    open_bet = seat.bet(500 * EUR, round_ref="before-the-block")
    assert (await aggregator.call("transaction/bet", open_bet))["status"] == "RS_OK"

    action = await _block(gql, desk, player)

    refused = await aggregator.call("transaction/bet", seat.bet(500 * EUR, round_ref="after-the-block"))
    assert refused["status"] == "RS_ERROR_USER_DISABLED"  # before the fix: RS_OK, the block unseen
    win = seat.win(800 * EUR, open_bet["transaction_uuid"], round_ref="before-the-block")
    assert (await aggregator.call("transaction/win", win))["status"] == "RS_OK"  # the open round settles

    await lift(gql, desk, action)  # lifted: the ended game stays ended, a new launch plays again
    again = Seat(str(player.uuid), player.uuid, await open_session(rt, hub88_provider, player.uuid))
    assert (await aggregator.call("transaction/bet", again.bet(100 * EUR, round_ref="new-game")))["status"] == "RS_OK"
