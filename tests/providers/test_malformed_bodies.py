"""Bodies no provider should send, signed as if one did: JSON nested thousands deep and NUL characters.

Each protocol refuses them at its parsing gate, in its own shape (Hub88: HTTP 200 with a status code;
SoftSwiss-style: 400 `{code, message}`), before anything reaches PostgreSQL: no 500, nothing written.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from models.games import ProviderCall, ProviderTransaction
from tests.providers.conftest import Aggregator, SoftswissProvider, cash, open_session, sign

EUR = 100_000  # one euro in Hub88 units
DEEP = 10_000
HUB88_ROUTES = ("user/info", "user/balance", "transaction/bet", "transaction/win", "transaction/rollback")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def rows_written(rt: Any) -> int:
    async with rt.database.session() as db:
        calls = await db.scalar(select(func.count()).select_from(ProviderCall))
        transactions = await db.scalar(select(func.count()).select_from(ProviderTransaction))
    return int(calls or 0) + int(transactions or 0)


async def hub88_post(aggregator: Aggregator, endpoint: str, raw: bytes) -> Any:
    return await aggregator.http.post(
        f"/providers/{aggregator.code}/{endpoint}",
        content=raw,
        headers={"content-type": "application/json", "X-Hub88-Signature": sign(aggregator.key, raw)},
    )


@pytest.mark.parametrize("endpoint", HUB88_ROUTES)
async def test_hub88_refuses_json_nested_ten_thousand_deep_on_every_route(
    aggregator: Aggregator, seat: Any, rt: Any, endpoint: str
) -> None:
    player = await seat(balance=1_000)
    fields = player.win(EUR, "some-bet")
    prefix = json.dumps(fields)[:-1]
    for raw in (
        nested(DEEP).encode(),  # the whole body
        f'{prefix}, "meta": {{"a": {nested(DEEP)}}}}}'.encode(),  # inside a signed field
        f'{prefix}, "meta": {{"a": {nested(100)}}}}}'.encode(),  # deep enough to refuse, shallow for the parser
    ):
        response = await hub88_post(aggregator, endpoint, raw)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "RS_ERROR_WRONG_SYNTAX"
    assert await rows_written(rt) == 0
    assert await cash(rt, player.player_id) == 1_000


@pytest.mark.parametrize("endpoint", HUB88_ROUTES)
async def test_hub88_refuses_a_nul_character_in_any_string(
    aggregator: Aggregator, seat: Any, rt: Any, endpoint: str
) -> None:
    player = await seat(balance=1_000)
    bet = player.win(EUR, "some-bet")
    for field in ("user", "request_uuid", "transaction_uuid", "round", "game_code", "reference_transaction_uuid"):
        raw = json.dumps({**bet, field: f"{bet[field]}\u0000"}).encode()
        answer = (await hub88_post(aggregator, endpoint, raw)).json()
        assert answer["status"] == "RS_ERROR_WRONG_TYPES", (field, answer)
    for meta in ({"note": "a\u0000b"}, {"a\u0000": 1}):  # fields we do not read, keys too
        raw = json.dumps({**bet, "meta": meta}).encode()
        assert (await hub88_post(aggregator, endpoint, raw)).json()["status"] == "RS_ERROR_WRONG_TYPES"
    assert await rows_written(rt) == 0
    # The same call without the NUL is served as usual.
    if endpoint == "user/balance":
        ok = await aggregator.call(endpoint, player.base(token=player.token))
        assert (ok["status"], ok["balance"]) == ("RS_OK", 1_000 * 1000)


async def swiss_seat(rt: Any, make_player: Any, provider: Any) -> dict[str, Any]:
    from tests.providers.conftest import fund

    player = await make_player()
    await fund(rt, player.uuid, 1_000)
    token = await open_session(rt, provider, player.uuid)
    return {
        "user_id": str(player.uuid),
        "session_id": token,
        "currency": "EUR",
        "game": "slot-fortune",
        "game_id": "g-1",
        "finished": True,
        "actions": [{"action": "bet", "action_id": "a-1", "amount": 100}],
    }


async def test_softswiss_refuses_a_nul_character_in_a_signed_field(
    softswiss: SoftswissProvider, softswiss_provider: Any, make_player: Any, rt: Any
) -> None:
    body = await swiss_seat(rt, make_player, softswiss_provider)
    bet = body["actions"][0]
    for bad in (
        {**body, "game_id": "g\u00001"},
        {**body, "session_id": body["session_id"] + "\u0000"},
        {**body, "user_id": body["user_id"] + "\u0000"},
        {**body, "game": "slot-fortune\u0000"},
        {**body, "actions": [{**bet, "action_id": "a\u00001"}]},
        {**body, "actions": [{"action": "rollback", "action_id": "a-2", "original_action_id": "a\u00001"}]},
        {**body, "extra": {"note": "\u0000"}},
    ):
        response = await softswiss.play(bad)
        assert response.status_code == 400, response.text
        assert response.json() == {"code": 400, "message": "Bad request."}
    assert await rows_written(rt) == 0
    assert (await softswiss.play(body)).status_code == 200  # the same call, clean, is served


async def test_softswiss_refuses_json_nested_ten_thousand_deep(
    softswiss: SoftswissProvider, softswiss_provider: Any, make_player: Any, rt: Any
) -> None:
    body = await swiss_seat(rt, make_player, softswiss_provider)
    prefix = json.dumps(body)[:-1]
    for raw in (nested(DEEP).encode(), f'{prefix}, "extra": {nested(DEEP)}}}'.encode()):
        response = await softswiss.play({}, raw=raw)
        assert response.status_code == 400, response.text
        assert response.json() == {"code": 400, "message": "Bad request."}
    assert await rows_written(rt) == 0
