"""The lobby's completed values, kept with its cache entry (schema/completion_memo.py): reused only for a
selection of the game's own fields, by a request that may read all of them, with the same variables;
and gone with the entry when the catalogue changes, here or in another process."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from services import lobby_cache
from tests.conftest import error_codes

LOBBY = """
query($first: Int) {
  lobby(first: $first) { code title games { id code title tags provider { code name } minBet { amount currency } } }
}"""


def memos(rt: Any) -> list[Any]:
    return [lobby.rendered for lobby in lobby_cache.cache_of(rt).held() if lobby.rendered is not None]


async def test_players_of_one_audience_share_the_completed_lobby(
    rt: Any, gql: Any, make_player: Any, make_game: Any, make_category: Any
) -> None:
    popular = await make_category("popular")
    await make_game(code="everywhere", title="Everywhere", categories=[popular])
    first, second = await make_player(country="SE", currency="SEK"), await make_player(country="SE", currency="SEK")
    answer = await gql(LOBBY, {"first": 4}, token=first.token)
    assert "errors" not in answer, answer
    assert answer["data"]["lobby"][0]["games"][0]["code"] == "everywhere"
    [memo] = memos(rt)
    assert len(memo.completions) == 1
    assert memo.reused == 0
    assert await gql(LOBBY, {"first": 4}, token=second.token) == answer
    assert memo.reused == 1


async def test_a_catalogue_change_is_seen_by_the_next_read_here_and_through_redis(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, make_game: Any, make_category: Any
) -> None:
    popular = await make_category("popular")
    game = await make_game(code="renamed", title="Before", categories=[popular])
    player = await make_player()
    for _ in range(2):  # the second answer is the kept completion
        body = await gql(LOBBY, token=player.token)
        assert body["data"]["lobby"][0]["games"][0]["title"] == "Before", body
    assert memos(rt)[0].reused == 1
    # Another process changes the catalogue: its SQL, then its message on the channel.
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE games SET title = 'After' WHERE id = :id"), {"id": game.id})
    await rt.redis.publish(lobby_cache.channel(rt), "{}")
    for _ in range(100):
        if not memos(rt):
            break
        await asyncio.sleep(0.05)
    body = await gql(LOBBY, token=player.token)
    assert body["data"]["lobby"][0]["games"][0]["title"] == "After", body
    # This process changes it: the next read sees it at once.
    content = await make_staff(("content_manager", None))
    switched = await gql(
        "mutation($input: SetGameEnabledInput!) { setGameEnabled(input: $input) { errors { code } } }",
        {"input": {"gameId": body["data"]["lobby"][0]["games"][0]["id"], "enabled": False, "reason": "withdrawn"}},
        token=content.token,
    )
    assert switched["data"]["setGameEnabled"]["errors"] == [], switched
    after = await gql(LOBBY, token=player.token)
    assert after["data"]["lobby"][0]["games"] == [], after


async def test_aliases_and_conditions_each_get_their_own_answer(
    rt: Any, gql: Any, make_player: Any, make_game: Any, make_category: Any
) -> None:
    popular = await make_category("popular")
    await make_game(code="only", title="Only", categories=[popular])
    player = await make_player()
    aliased = "{ lobby { code games { name: title key: code } } }"
    conditional = "query($t: Boolean!) { lobby { code games { code title @include(if: $t) } } }"
    for _ in range(2):
        body = await gql(aliased, token=player.token)
        assert body["data"]["lobby"][0]["games"] == [{"name": "Only", "key": "only"}], body
        shown = await gql(conditional, {"t": True}, token=player.token)
        assert shown["data"]["lobby"][0]["games"] == [{"code": "only", "title": "Only"}], shown
        hidden = await gql(conditional, {"t": False}, token=player.token)
        assert hidden["data"]["lobby"][0]["games"] == [{"code": "only"}], hidden
    [memo] = memos(rt)
    assert len(memo.completions) == 3
    assert memo.reused == 3


async def test_a_field_read_from_the_request_is_completed_every_time(
    rt: Any, gql: Any, make_player: Any, make_game: Any, make_category: Any
) -> None:
    popular = await make_category("popular")
    await make_game(code="only", categories=[popular])
    player = await make_player()
    for _ in range(2):
        body = await gql("{ lobby { games { code enabledForMe } } }", token=player.token)
        assert body["data"]["lobby"][0]["games"] == [{"code": "only", "enabledForMe": True}], body
    assert [len(memo.completions) for memo in memos(rt)] == [0]


async def test_a_request_with_a_denied_field_completes_its_own(
    rt: Any, gql: Any, make_player: Any, make_game: Any, make_category: Any
) -> None:
    popular = await make_category("popular")
    await make_game(code="only", categories=[popular])
    player = await make_player()
    document = "{ lobby { games { code } } staffUsers { edges { cursor } } }"
    for _ in range(2):
        body = await gql(document, token=player.token)
        assert body["data"]["lobby"][0]["games"] == [{"code": "only"}], body
        assert error_codes(body) == ["FORBIDDEN"], body
    assert [len(memo.completions) for memo in memos(rt)] == [0]
