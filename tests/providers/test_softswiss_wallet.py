"""The SoftSwiss-style protocol: several actions per call, HMAC signatures, minor units, its own codes;
the same wallet service behind it as Hub88."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.providers.conftest import SoftswissProvider, cash, open_session


def play(
    seat: Any, *actions: dict[str, Any], round_ref: str | None = "g-1", finished: bool = True, **extra: Any
) -> dict[str, Any]:
    return {
        "user_id": seat.user,
        "session_id": seat.token,
        "currency": "EUR",
        "game": "slot-fortune",
        "game_id": round_ref,
        "finished": finished,
        "actions": list(actions),
        **extra,
    }


def bet(amount: int, action_id: str | None = None) -> dict[str, Any]:
    return {"action": "bet", "action_id": action_id or str(uuid.uuid4()), "amount": amount}


def win(amount: int, action_id: str | None = None) -> dict[str, Any]:
    return {"action": "win", "action_id": action_id or str(uuid.uuid4()), "amount": amount}


async def swiss_seat(rt: Any, make_player: Any, provider: Any, balance: int) -> Any:
    from tests.conftest import fund
    from tests.providers.conftest import Seat

    player = await make_player()
    await fund(rt, player.uuid, balance)
    token = await open_session(rt, provider, player.uuid)
    return Seat(str(player.uuid), player.uuid, token)


async def test_bet_and_win_in_one_call_and_replays(
    softswiss: SoftswissProvider, softswiss_provider: Any, make_player: Any, rt: Any
) -> None:
    player = await swiss_seat(rt, make_player, softswiss_provider, 1_000)
    body = play(player, bet(250), win(600))
    response = await softswiss.play(body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["balance"] == 1_350
    assert [t["action_id"] for t in answer["transactions"]] == [a["action_id"] for a in body["actions"]]
    again = await softswiss.play(body)
    assert again.json() == answer
    assert await cash(rt, player.player_id) == 1_350
    balance = await softswiss.play(play(player, round_ref=None))
    assert balance.json()["balance"] == 1_350


async def test_not_enough_funds_is_code_100_with_the_balance(
    softswiss: SoftswissProvider, softswiss_provider: Any, make_player: Any, rt: Any
) -> None:
    player = await swiss_seat(rt, make_player, softswiss_provider, 100)
    response = await softswiss.play(play(player, bet(500), win(900)))
    assert response.status_code == 412
    assert response.json() == {"code": 100, "message": "Not enough funds.", "balance": 100}
    assert await cash(rt, player.player_id) == 100


async def test_a_win_without_a_round_and_a_rollback(
    softswiss: SoftswissProvider, softswiss_provider: Any, make_player: Any, rt: Any
) -> None:
    player = await swiss_seat(rt, make_player, softswiss_provider, 1_000)
    orphan = await softswiss.play(play(player, win(500), round_ref="never-bet"))
    assert orphan.status_code == 412
    assert orphan.json()["code"] == 107
    stake = bet(300)
    assert (await softswiss.play(play(player, stake, finished=False))).status_code == 200
    undo = {"action": "rollback", "action_id": str(uuid.uuid4()), "original_action_id": stake["action_id"]}
    response = await softswiss.play(play(player, undo))
    assert response.status_code == 200, response.text
    assert response.json()["balance"] == 1_000
    assert await cash(rt, player.player_id) == 1_000


async def test_signatures_players_and_malformed_calls(
    softswiss: SoftswissProvider, softswiss_provider: Any, make_player: Any, rt: Any
) -> None:
    player = await swiss_seat(rt, make_player, softswiss_provider, 1_000)
    body = play(player, bet(100))
    assert (await softswiss.play(body, secret="wrong")).status_code == 403
    raw = json.dumps(body).encode()
    signed_other = await softswiss.http.post(
        f"/providers/{softswiss.code}/play",
        content=raw.replace(b"100", b"900"),
        headers={"X-Request-Sign": __import__("hmac").new(softswiss.secret.encode(), raw, "sha256").hexdigest()},
    )
    assert signed_other.status_code == 403
    assert (await softswiss.play({}, raw=b"{broken")).status_code == 400
    assert (await softswiss.play(play(player, {"action": "bet", "action_id": "x", "amount": "1"}))).status_code == 400
    invalid = await softswiss.play({**body, "user_id": str(uuid.uuid4())})
    assert (invalid.status_code, invalid.json()["code"]) == (412, 101)
    duplicate_action = bet(100)
    assert (await softswiss.play(play(player, duplicate_action))).status_code == 200
    changed = await softswiss.play(play(player, {**duplicate_action, "amount": 200}))
    assert (changed.status_code, changed.json()["code"]) == (409, 409)
    assert await cash(rt, player.player_id) == 900


async def test_strings_wider_than_their_columns_are_bad_requests(
    softswiss: SoftswissProvider, softswiss_provider: Any, make_player: Any, rt: Any
) -> None:
    """game (stored as game_code, varchar(64)) and currency (varchar(8)) are capped at their columns."""
    player = await swiss_seat(rt, make_player, softswiss_provider, 1_000)
    assert (await softswiss.play(play(player, bet(100), game="g" * 65))).status_code == 400
    assert (await softswiss.play(play(player, bet(100), currency="C" * 9))).status_code == 400
    assert await cash(rt, player.player_id) == 1_000
