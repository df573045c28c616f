"""The lobby cache (services/lobby_cache.py): one answer per audience, never another audience's, and a
catalogue change shows up on the next request — in this process at once, in the others through Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services import lobby_cache
from services.games import Audience
from services.lobby_cache import CachedLobby, LobbyCache
from tests.conftest import recorded_statements
from tests.games.conftest import gid

LOBBY = """
query($brand: String, $first: Int) {
  lobby(brand: $brand, first: $first) { code games { code provider { code name } } }
}"""
SET_GAME_ENABLED = """
mutation($input: SetGameEnabledInput!) {
  setGameEnabled(input: $input) { game { code } errors { code field message } }
}"""
SET_AVAILABILITY = """
mutation($input: SetGameAvailabilityInput!) {
  setGameAvailability(input: $input) { availability { enabled } errors { code field message } }
}"""
UPDATE_PROVIDER = """
mutation($input: UpdateGameProviderInput!) {
  updateGameProvider(input: $input) { provider { name } errors { code field message } }
}"""


def lobby_codes(body: dict[str, Any]) -> dict[str, list[str]]:
    assert "errors" not in body, body
    return {c["code"]: [g["code"] for g in c["games"]] for c in body["data"]["lobby"]}


async def test_players_of_one_audience_share_a_lobby_read_once(
    rt: Any, gql: Any, make_player: Any, make_game: Any, make_category: Any
) -> None:
    popular = await make_category("popular")
    await make_game(code="everywhere", categories=[popular])
    first, second = await make_player(country="SE", currency="SEK"), await make_player(country="SE", currency="SEK")
    cache = lobby_cache.cache_of(rt)
    misses = cache.misses
    assert lobby_codes(await gql(LOBBY, {"first": 4}, token=first.token)) == {"popular": ["everywhere"]}
    assert cache.misses == misses + 1
    hits = cache.hits
    with recorded_statements(rt) as statements:
        body = await gql(LOBBY, {"first": 4}, token=second.token)
    assert lobby_codes(body) == {"popular": ["everywhere"]}
    assert body["data"]["lobby"][0]["games"][0]["provider"] == {"code": "pinefox", "name": "Pinefox Studios"}
    assert cache.hits == hits + 1
    # Only the viewer's own audience (brand, country, currency) is read: no category, game or provider.
    assert not [s for s in statements if "lobby_categor" in s or "game_providers" in s], statements


async def test_another_country_or_currency_is_another_lobby(
    gql: Any, make_player: Any, make_game: Any, make_category: Any
) -> None:
    popular = await make_category("popular")
    await make_game(code="everywhere", categories=[popular])
    await make_game(code="malta-only", countries=["MT"], categories=[popular])
    await make_game(code="eur-only", currencies=["EUR"], categories=[popular])
    swede = await make_player(country="SE", currency="SEK")
    maltese = await make_player(country="MT", currency="EUR")
    swede_in_euro = await make_player(country="SE", currency="EUR")
    for _ in range(2):  # the second round is served from the cache: still each audience's own
        assert lobby_codes(await gql(LOBBY, token=swede.token)) == {"popular": ["everywhere"]}
        assert lobby_codes(await gql(LOBBY, token=maltese.token)) == {
            "popular": ["everywhere", "malta-only", "eur-only"]
        }
        assert lobby_codes(await gql(LOBBY, token=swede_in_euro.token)) == {"popular": ["everywhere", "eur-only"]}
        assert lobby_codes(await gql(LOBBY, {"brand": "royal"})) == {"popular": ["everywhere", "eur-only"]}


@pytest.fixture
async def two_games(make_game: Any, make_category: Any) -> Any:
    """A lobby category with a game that stays and one that a change takes out."""
    popular = await make_category("popular")
    await make_game(code="stays", categories=[popular])
    return await make_game(code="leaves", categories=[popular])


async def test_a_game_switched_off_leaves_the_cached_lobby_at_once(
    gql: Any, make_player: Any, make_staff: Any, two_games: Any
) -> None:
    leaving = two_games
    player = await make_player()
    assert lobby_codes(await gql(LOBBY, token=player.token)) == {"popular": ["stays", "leaves"]}
    content = await make_staff(("content_manager", None))
    body = await gql(
        SET_GAME_ENABLED,
        {"input": {"gameId": gid(leaving), "enabled": False, "reason": "withdrawn"}},
        token=content.token,
    )
    assert body["data"]["setGameEnabled"]["errors"] == [], body
    assert lobby_codes(await gql(LOBBY, token=player.token)) == {"popular": ["stays"]}


async def test_a_brand_switch_and_a_provider_rename_show_up_at_once(
    gql: Any, make_player: Any, make_staff: Any, two_games: Any
) -> None:
    leaving = two_games
    player = await make_player()
    before = await gql(LOBBY, token=player.token)
    assert lobby_codes(before) == {"popular": ["stays", "leaves"]}
    assert before["data"]["lobby"][0]["games"][0]["provider"]["name"] == "Pinefox Studios"
    admin = await make_staff("brand_admin")
    body = await gql(
        SET_AVAILABILITY,
        {"input": {"gameId": gid(leaving), "enabled": False, "reason": "not in this brand"}},
        token=admin.token,
    )
    assert body["data"]["setGameAvailability"]["errors"] == [], body
    assert lobby_codes(await gql(LOBBY, token=player.token)) == {"popular": ["stays"]}
    content = await make_staff(("content_manager", None))
    body = await gql(UPDATE_PROVIDER, {"input": {"provider": "pinefox", "name": "Pinefox Games"}}, token=content.token)
    assert body["data"]["updateGameProvider"]["errors"] == [], body
    after = await gql(LOBBY, token=player.token)
    assert after["data"]["lobby"][0]["games"][0]["provider"]["name"] == "Pinefox Games"


async def test_a_change_announced_by_another_process_drops_this_ones_lobbies(rt: Any) -> None:
    cache = lobby_cache.cache_of(rt)
    key = (Audience(brand_id=None, country="SE", currency="EUR"), 8)
    cache.put(key, CachedLobby([], {}), cache.generation)
    assert cache.get(key) is not None
    await rt.redis.publish(lobby_cache.channel(rt), "{}")  # what catalogue_changed sends from another process
    for _ in range(100):
        if cache.get(key) is None:
            break
        await asyncio.sleep(0.05)
    assert cache.get(key) is None


def test_a_read_that_began_before_a_change_is_not_kept() -> None:
    cache = LobbyCache(seconds=30)
    key = (Audience(brand_id=None, country=None, currency="EUR"), 8)
    began = cache.generation
    cache.clear()  # the catalogue changed while the read was running
    cache.put(key, CachedLobby([], {}), began)
    assert cache.get(key) is None
    cache.put(key, CachedLobby([], {}), cache.generation)
    assert cache.get(key) is not None


def test_entries_expire_and_zero_seconds_keeps_nothing() -> None:
    key = (Audience(brand_id=None, country=None, currency="EUR"), 8)
    expired = LobbyCache(seconds=0.0001)
    expired.put(key, CachedLobby([], {}), expired.generation)
    import time

    time.sleep(0.001)
    assert expired.get(key) is None
    off = LobbyCache(seconds=0)
    off.put(key, CachedLobby([], {}), off.generation)
    assert off.get(key) is None
