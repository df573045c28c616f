"""Adversarial review of the one call (sql/wallet/wallet_play_v1.sql, services/provider_wallet/one_call.py): inputs
and states where it must answer what the Python path answers, through the signed Hub88 endpoints."""

from __future__ import annotations

from typing import Any

import pytest

from services.provider_wallet import one_call
from tests.conftest import fund
from tests.providers.conftest import Aggregator, Seat, cash, open_session

EUR = 100_000  # one euro in Hub88 units
YEN = 100_000  # one yen in Hub88 units


class Counted:
    """one_call.play wrapped: whether each call it saw was decided there (True) or fell back (False)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.decided: list[bool] = []
        self.original = one_call.play
        monkeypatch.setattr(one_call, "play", self)

    async def __call__(self, *args: Any) -> Any:
        result = await self.original(*args)
        self.decided.append(result is not None)
        return result


def _without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


async def test_a_user_python_reads_as_a_uuid_is_answered_as_the_python_path_answers(
    aggregator: Aggregator, seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`uuid.UUID` reads 'urn:uuid:…' (the Python path finds the player); PostgreSQL's uuid does not: the one call
    must not turn such a request into an HTTP 500."""

    async def bet(player: Seat) -> dict[str, Any]:
        return await aggregator.call("transaction/bet", player.bet(EUR, user=f"urn:uuid:{player.user}"))

    python_player, sql_player = await seat(balance=1_000), await seat(balance=1_000)
    await aggregator.call("transaction/bet", python_player.bet(0, round_ref="warm"))  # the house account exists
    with monkeypatch.context() as patched:
        patched.setattr(one_call, "eligible", lambda *args: False)
        by_python = await bet(python_player)
    by_sql = await bet(sql_player)
    assert by_python["status"] == "RS_OK"
    assert _without(by_sql, "user", "request_uuid") == _without(by_python, "user", "request_uuid")
    assert await cash(rt, sql_player.player_id) == await cash(rt, python_player.player_id) == 900


async def test_a_balance_beyond_bigint_in_hub88_units_is_answered_not_a_500(
    aggregator: Aggregator, seat: Any, rt: Any, hub88_provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A yen is 100 000 Hub88 units: a yen balance above 92 233 720 368 547 overflows a bigint in the function's
    answer body (`v_after * p_units_mul`), where Python's int does not. The Python path answers it."""
    counted = Counted(monkeypatch)
    euro = await seat(balance=0)
    await fund(rt, euro.player_id, 10**15, "JPY")  # an account in yen of a euro player: the brand offers no yen
    player = Seat(
        euro.user, euro.player_id, await open_session(rt, hub88_provider, euro.player_id, currency="JPY"), "JPY"
    )
    await aggregator.call("transaction/bet", player.bet(YEN, round_ref="warm"))  # the house account in yen
    counted.decided.clear()
    answer = await aggregator.call("transaction/bet", player.bet(YEN))
    assert answer["status"] == "RS_OK"
    assert answer["balance"] == (10**15 - 2) * YEN
    assert counted.decided == [False]  # nothing written by the one call: the Python path decided
    assert await cash(rt, player.player_id, "JPY") == 10**15 - 2
