"""A stake in a currency the wallet does not hold is a currency mismatch first: RS_ERROR_WRONG_CURRENCY,
even when its amount could not be represented in that currency (0.25 JPY). Only in the wallet's own
currency is an unrepresentable amount the fault (RS_ERROR_WRONG_TYPES)."""

from __future__ import annotations

from typing import Any

from tests.providers.conftest import Aggregator, SoftswissProvider, cash, open_session

EUR = 100_000  # one euro in Hub88 units
QUARTER_YEN = 25_000  # 0.25 JPY in Hub88 units: the yen has no minor unit
TENTH_OF_A_CENT = 100  # 0.001 in Hub88 units: below a cent (EUR, SEK)


async def test_an_unrepresentable_stake_in_a_currency_the_wallet_does_not_hold_is_wrong_currency(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    player = await seat(balance=1_000)  # an EUR wallet
    bet = await aggregator.call("transaction/bet", player.bet(QUARTER_YEN, currency="JPY"))
    assert bet["status"] == "RS_ERROR_WRONG_CURRENCY"
    assert (await aggregator.call("transaction/bet", player.bet(TENTH_OF_A_CENT, currency="SEK")))[
        "status"
    ] == "RS_ERROR_WRONG_CURRENCY"
    # The same for a win and a rollback that name a foreign currency with such an amount.
    stake = player.bet(EUR)
    assert (await aggregator.call("transaction/bet", stake))["status"] == "RS_OK"
    win = player.win(QUARTER_YEN, stake["transaction_uuid"], currency="JPY")
    assert (await aggregator.call("transaction/win", win))["status"] == "RS_ERROR_WRONG_CURRENCY"
    rollback = player.rollback(stake["transaction_uuid"], currency="JPY", amount=QUARTER_YEN)
    assert (await aggregator.call("transaction/rollback", rollback))["status"] == "RS_ERROR_WRONG_CURRENCY"
    assert await cash(rt, player.player_id) == 1_000 - 100
    # A corrected retry of the refused win (same transaction uuid) is served: the refusal recorded nothing.
    corrected = {**win, "request_uuid": player.base()["request_uuid"], "amount": 2 * EUR, "currency": "EUR"}
    assert (await aggregator.call("transaction/win", corrected))["status"] == "RS_OK"
    assert await cash(rt, player.player_id) == 1_000 - 100 + 200


async def test_an_unrepresentable_stake_in_the_wallet_s_own_currency_is_wrong_types(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    player = await seat(balance=1_000, currency="SEK")
    for endpoint, body in (
        ("transaction/bet", player.bet(TENTH_OF_A_CENT)),
        ("transaction/win", player.win(TENTH_OF_A_CENT, "some-bet")),
    ):
        assert (await aggregator.call(endpoint, body))["status"] == "RS_ERROR_WRONG_TYPES", endpoint
    assert await cash(rt, player.player_id, "SEK") == 1_000


async def test_softswiss_answers_a_stake_in_a_currency_the_wallet_does_not_hold_with_153(
    softswiss: SoftswissProvider, softswiss_provider: Any, make_player: Any, rt: Any
) -> None:
    """The SoftSwiss-style dialect sends minor units, exact in every currency: there the only question
    is the currency, and a foreign one is code 153 whatever the amount."""
    from tests.providers.conftest import fund

    player = await make_player()
    await fund(rt, player.uuid, 1_000)
    token = await open_session(rt, softswiss_provider, player.uuid)
    for currency, amount in (("JPY", 25), ("SEK", 1)):
        response = await softswiss.play(
            {
                "user_id": str(player.uuid),
                "session_id": token,
                "currency": currency,
                "game": "slot-fortune",
                "game_id": "g-1",
                "finished": True,
                "actions": [{"action": "bet", "action_id": f"a-{currency}", "amount": amount}],
            }
        )
        assert response.status_code == 412, response.text
        assert response.json()["code"] == 153
    assert await cash(rt, player.uuid) == 1_000
