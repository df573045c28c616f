"""The catalog and the lobby: filters, who sees which game, and a constant statement count."""

from __future__ import annotations

from typing import Any

from tests.conftest import error_codes, recorded_statements
from tests.games.conftest import gid

GAMES = """
query($filter: GameFilter, $brand: String, $first: Int, $after: String) {
  games(filter: $filter, brand: $brand, first: $first, after: $after) {
    edges { node { id code title type rtp volatility contributionCategory demoAvailable imageUrl tags
                   enabledForMe provider { code name } minBet { amount currency } maxBet { amount currency } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
LOBBY = """
query($brand: String, $first: Int) {
  lobby(brand: $brand, first: $first) {
    code title
    games { id code rtp enabledForMe provider { code name } minBet { amount currency } }
  }
}"""


def codes(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return [e["node"]["code"] for e in body["data"]["games"]["edges"]]


def lobby_codes(body: dict[str, Any]) -> dict[str, list[str]]:
    assert "errors" not in body, body
    return {c["code"]: [g["code"] for g in c["games"]] for c in body["data"]["lobby"]}


async def test_catalog_shows_game_fields_in_the_players_currency(gql: Any, make_player: Any, make_game: Any) -> None:
    await make_game(code="northern-lights", title="Northern Lights", rtp=9612, tags=["megaways"])
    swede = await make_player(country="SE", currency="SEK")
    body = await gql(GAMES, token=swede.token)
    (node,) = [e["node"] for e in body["data"]["games"]["edges"]]
    assert node["code"] == "northern-lights"
    assert node["rtp"] == "96.12"
    assert node["type"] == "SLOT"
    assert node["volatility"] == "MEDIUM"
    assert node["provider"] == {"code": "pinefox", "name": "Pinefox Studios"}
    assert node["minBet"] == {"amount": "1.00", "currency": "SEK"}
    assert node["maxBet"] == {"amount": "1000.00", "currency": "SEK"}
    assert node["tags"] == ["megaways"]
    assert node["enabledForMe"] is True


async def test_catalog_filters_by_search_type_provider_tags_and_category(
    rt: Any, gql: Any, make_player: Any, make_game: Any, make_category: Any
) -> None:
    from models.games import Provider

    async with rt.database.transaction() as db:
        other = Provider(code="livewire", name="Livewire", protocol="softswiss", launch_url="https://l.example/")
        db.add(other)
    table = await make_category("table")
    await make_game(code="gold-rush", title="Gold Rush Reels", tags=["jackpot", "classic"])
    await make_game(code="fruit", title="Fruit Frenzy", tags=["classic"])
    await make_game(code="blackjack", title="Blackjack", type="table", categories=[table])
    await make_game(code="live-roulette", title="Live Roulette", type="live", provider_id=other.id)
    player = await make_player()

    async def search(**where: Any) -> list[str]:
        return sorted(codes(await gql(GAMES, {"filter": where}, token=player.token)))

    assert await search(search="RUSH") == ["gold-rush"]
    assert await search(search="%") == []  # wildcards are literal
    assert await search(type="TABLE") == ["blackjack"]
    assert await search(providerCode="livewire") == ["live-roulette"]
    assert await search(tags=["classic"]) == ["fruit", "gold-rush"]
    assert await search(tags=["classic", "jackpot"]) == ["gold-rush"]
    assert await search(category="table") == ["blackjack"]
    assert await search(category="nope") == []


async def test_catalog_pages_with_cursors(gql: Any, make_player: Any, make_game: Any) -> None:
    for _ in range(5):
        await make_game()
    player = await make_player()
    first = await gql(GAMES, {"first": 3}, token=player.token)
    page = first["data"]["games"]
    assert len(page["edges"]) == 3
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await gql(GAMES, {"first": 3, "after": page["pageInfo"]["endCursor"]}, token=player.token)
    assert len(rest["data"]["games"]["edges"]) == 2
    assert not set(codes(first)) & set(codes(rest))
    assert error_codes(await gql(GAMES, {"first": 101}, token=player.token)) == ["BAD_USER_INPUT"]
    assert error_codes(await gql(GAMES, {"after": "garbage"}, token=player.token)) == ["BAD_USER_INPUT"]


async def test_catalog_hides_disabled_games_from_players_but_not_staff(
    gql: Any, make_player: Any, make_staff: Any, make_game: Any, switch: Any, brand: Any
) -> None:
    await make_game(code="on")
    await make_game(code="off", enabled=False)
    switched_off = await make_game(code="brand-off")
    await switch(brand.id, switched_off, enabled=False)
    player = await make_player()
    support = await make_staff("support")
    assert codes(await gql(GAMES, token=player.token)) == ["on"]
    assert sorted(codes(await gql(GAMES, token=support.token))) == ["brand-off", "off", "on"]


async def test_anonymous_visitors_name_the_brand(gql: Any, make_game: Any, brand: Any) -> None:
    await make_game(code="public")
    assert codes(await gql(GAMES, {"brand": "royal"})) == ["public"]
    body = await gql(GAMES)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert error_codes(await gql(GAMES, {"brand": "nowhere"})) == ["BAD_USER_INPUT"]
    lobby = await gql(LOBBY, {"brand": "royal"})
    assert "errors" not in lobby, lobby


async def test_enabled_for_me_follows_country_and_currency(gql: Any, make_player: Any, make_game: Any) -> None:
    await make_game(code="nordic", countries=["SE", "FI"])
    await make_game(code="euro-only", currencies=["EUR"])
    swede = await make_player(country="SE", currency="SEK")
    maltese = await make_player(country="MT", currency="EUR")

    def flags(body: dict[str, Any]) -> dict[str, bool]:
        return {e["node"]["code"]: e["node"]["enabledForMe"] for e in body["data"]["games"]["edges"]}

    assert flags(await gql(GAMES, token=swede.token)) == {"nordic": True, "euro-only": False}
    assert flags(await gql(GAMES, token=maltese.token)) == {"nordic": False, "euro-only": True}


async def test_lobby_applies_brand_country_and_currency_rules(
    gql: Any, make_player: Any, make_game: Any, make_category: Any, switch: Any, brand: Any, other_brand: Any
) -> None:
    popular = await make_category("popular", position=1)
    slots = await make_category("slots", position=2)
    await make_game(code="everywhere", categories=[popular, slots])
    await make_game(code="globally-off", enabled=False, categories=[popular])
    brand_off = await make_game(code="brand-off", categories=[popular])
    await switch(brand.id, brand_off, enabled=False)
    off_in_se = await make_game(code="off-in-se", categories=[popular])
    await switch(brand.id, off_in_se, disabled_countries=["SE"])
    await make_game(code="malta-only", countries=["MT"], categories=[popular])
    await make_game(code="eur-only", currencies=["EUR"], categories=[slots])
    await make_category("northstar-only", brand_id=other_brand.id)

    swede = await make_player(country="SE", currency="SEK")
    maltese = await make_player(country="MT", currency="EUR")
    assert lobby_codes(await gql(LOBBY, token=swede.token)) == {"popular": ["everywhere"], "slots": ["everywhere"]}
    assert lobby_codes(await gql(LOBBY, token=maltese.token)) == {
        "popular": ["everywhere", "off-in-se", "malta-only"],
        "slots": ["everywhere", "eur-only"],
    }
    # Anonymous visitors: the brand's default currency (EUR), country unknown (restricted games out).
    assert lobby_codes(await gql(LOBBY, {"brand": "royal"})) == {
        "popular": ["everywhere", "off-in-se"],
        "slots": ["everywhere", "eur-only"],
    }
    # Another brand: its own category, and the switch of "royal" does not apply.
    northstar = await gql(LOBBY, {"brand": "northstar", "first": 10})
    assert lobby_codes(northstar)["popular"] == ["everywhere", "brand-off", "off-in-se"]
    assert "northstar-only" in lobby_codes(northstar)


async def test_lobby_runs_a_constant_number_of_statements(
    rt: Any, gql: Any, make_player: Any, make_game: Any, make_category: Any, provider: Any
) -> None:
    from models.games import Provider

    async with rt.database.transaction() as db:
        second = Provider(code="livewire", name="Livewire", protocol="softswiss", launch_url="https://l.example/")
        db.add(second)
    categories = [await make_category(code, position=i) for i, code in enumerate(("popular", "new", "slots"))]
    for n in range(30):
        await make_game(categories=categories, provider_id=second.id if n % 2 else provider.id)
    player = await make_player()

    async def run(size: int) -> int:
        await gql(LOBBY, {"first": 1}, token=player.token)  # warm up: nothing cached across requests
        with recorded_statements(rt) as statements:
            body = await gql(LOBBY, {"first": size}, token=player.token)
        assert "errors" not in body, body
        assert all(len(c["games"]) == size for c in body["data"]["lobby"])
        assert {g["provider"]["code"] for c in body["data"]["lobby"] for g in c["games"]} == {"pinefox", "livewire"}
        return len(statements)

    small, large = await run(2), await run(24)
    assert small == large, (small, large)


async def test_lobby_page_size_is_bounded(gql: Any, make_player: Any) -> None:
    player = await make_player()
    assert error_codes(await gql(LOBBY, {"first": 101}, token=player.token)) == ["BAD_USER_INPUT"]
    assert error_codes(await gql(LOBBY, {"first": -1}, token=player.token)) == ["BAD_USER_INPUT"]


async def test_game_by_id_and_node(gql: Any, make_player: Any, make_game: Any) -> None:
    game = await make_game(code="by-id")
    hidden = await make_game(code="hidden", enabled=False)
    player = await make_player()
    body = await gql(
        "query($id: ID!) { game(id: $id) { code } node(id: $id) { ... on Game { code } } }",
        {"id": gid(game)},
        token=player.token,
    )
    assert body["data"] == {"game": {"code": "by-id"}, "node": {"code": "by-id"}}
    body = await gql("query($id: ID!) { game(id: $id) { code } }", {"id": gid(hidden)}, token=player.token)
    assert body["data"] == {"game": None}
    body = await gql("query($id: ID!) { game(id: $id) { code } }", {"id": player.id}, token=player.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
