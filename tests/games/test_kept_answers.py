"""Kept answers of catalogue reads (schema/kept_answers.py): the second `{ brands }` or game by id runs no
statement of its own, the answer is GraphQL's own, one audience never gets another's, and a catalogue
change — brand writes included — shows at once, here and (through Redis) in other processes."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import update

from core.db import changed
from core.runtime import CATALOGUE
from models.games import Game
from services import brands, lobby_cache
from tests.conftest import recorded_statements
from tests.games.conftest import gid

BRANDS = "{ brands { code name } }"
GAME = "query($id: ID!) { game(id: $id) { id code title enabledForMe minBet { amount currency } provider { code } } }"


def kept(app: Any) -> Any:
    return app.state.kept_answers


async def test_the_brand_list_is_kept_after_its_first_answer(app: Any, rt: Any, gql: Any, brand: Any) -> None:
    first = await gql(BRANDS)
    assert first["data"] == {"brands": [{"code": "royal", "name": "Royal Casino"}]}
    hits = kept(app).hits
    with recorded_statements(rt) as statements:
        second = await gql(BRANDS)
    assert second == first
    assert kept(app).hits == hits + 1
    assert not [s for s in statements if "brands" in s], statements


async def test_brand_writes_show_at_once_and_tell_the_other_processes(app: Any, rt: Any, gql: Any, brand: Any) -> None:
    """The defect this fixes: a brand created never signalled the catalogue channel."""
    assert [b["code"] for b in (await gql(BRANDS))["data"]["brands"]] == ["royal"]
    assert (await gql(BRANDS))["data"]["brands"] == [{"code": "royal", "name": "Royal Casino"}]  # kept now
    pubsub = rt.redis.pubsub()
    await pubsub.subscribe(lobby_cache.channel(rt))
    try:
        await pubsub.get_message(timeout=1)  # the subscription's confirmation
        async with rt.database.transaction() as db:
            await brands.create_brand(
                db, code="lucky", name="Lucky", default_currency="EUR", currencies=["EUR"], countries=["MT"]
            )
        assert await _message(pubsub) is not None
        assert [b["code"] for b in (await gql(BRANDS))["data"]["brands"]] == ["lucky", "royal"]
        try:
            async with rt.database.transaction() as db:
                await brands.create_brand(
                    db, code="never", name="Never", default_currency="EUR", currencies=["EUR"], countries=["MT"]
                )
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert await _message(pubsub, seconds=0.3) is None  # nothing committed, nothing announced
    finally:
        await pubsub.aclose()


async def _message(pubsub: Any, *, seconds: float = 2.0) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None:
            return message
    return None


async def test_a_game_is_kept_per_audience_and_dropped_by_a_catalogue_change(
    app: Any, rt: Any, gql: Any, make_player: Any, make_game: Any
) -> None:
    game = await make_game(code="nordic", countries=["SE"])
    swede, briton = await make_player(country="SE", currency="SEK"), await make_player(country="GB", currency="EUR")
    for _ in range(2):
        seen = await gql(GAME, {"id": gid(game)}, token=swede.token)
        assert seen["data"]["game"]["code"] == "nordic", seen
        assert seen["data"]["game"]["minBet"] == {"amount": "1.00", "currency": "SEK"}, seen
        assert seen["data"]["game"]["enabledForMe"] is True
        # Listed for another country, but not playable there: another audience, another answer.
        assert (await gql(GAME, {"id": gid(game)}, token=briton.token))["data"]["game"]["enabledForMe"] is False
    other_swede = await make_player(country="SE", currency="SEK")
    hits = kept(app).hits
    assert (await gql(GAME, {"id": gid(game)}, token=other_swede.token)) == seen  # the same audience's answer
    assert kept(app).hits == hits + 1
    async with rt.database.transaction() as db:
        await db.execute(update(Game).where(Game.id == game.id).values(enabled=False))
        changed(db, CATALOGUE)  # as every catalogue command marks its transaction
    after = await gql(GAME, {"id": gid(game)}, token=swede.token)
    assert after["data"]["game"] is None or after["data"]["game"]["enabledForMe"] is False, after


async def test_aliases_and_permissions_decide_as_graphql_does(
    app: Any, rt: Any, gql: Any, brand: Any, make_player: Any
) -> None:
    aliased = "{ a: brands { code } b: brands { label: name } }"
    for _ in range(2):
        body = await gql(aliased)
        assert body["data"] == {"a": [{"code": "royal"}], "b": [{"label": "Royal Casino"}]}, body
    # A document reading anything outside the catalogue is never kept (here: the viewer's own row).
    player = await make_player()
    count = kept(app).kept
    mixed = "{ brands { code } me { email } }"
    for _ in range(2):
        assert (await gql(mixed, token=player.token))["data"]["me"]["email"] == player.email
    assert kept(app).kept == count


async def test_refusals_are_never_kept_and_each_request_counts_once(
    app: Any, rt: Any, gql: Any, brand: Any, make_player: Any
) -> None:
    player = await make_player()
    count = kept(app).kept
    for _ in range(2):
        body = await gql(GAME, {"id": "not a game id"}, token=player.token)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        bad = await gql(BRANDS, token="not.a.token")
        assert bad["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", bad
    assert kept(app).kept == count
    key = f"req:player:{player.uuid}"
    before = (await rt.rate_limiter.peek(key)).count
    for _ in range(3):  # the first is GraphQL's answer, kept; the other two are the kept one
        await gql(BRANDS, token=player.token)
    assert (await rt.rate_limiter.peek(key)).count == before + 3
