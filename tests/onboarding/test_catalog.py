"""A provider's games through GraphQL: create with every catalog field, change some, switch one off
(the wallet then refuses its bets), refusals with their field, the staff list with a fixed statement
count, and the audit trail of each change."""

from __future__ import annotations

from typing import Any

import httpx

from models.games import Game
from tests.conftest import recorded_statements
from tests.onboarding.conftest import (
    CREATE_GAME,
    GAMES,
    PROVIDERS,
    SET_GAME_ENABLED,
    UPDATE_GAME,
    Keys,
    add_provider,
    audit_rows,
    count,
    create_game,
    payload,
    pem_of,
    provider_row,
)
from tests.providers.conftest import Aggregator, Seat, fund, open_session


async def test_create_a_game_with_every_field_change_it_and_switch_it_off(
    rt: Any, gql: Any, content_manager: Any
) -> None:
    await add_provider(gql, content_manager.token, "acme")
    created = await create_game(
        gql,
        content_manager.token,
        "acme",
        code="neon-nights",
        title="Neon Nights",
        type="SLOT",
        rtp="96.5",
        volatility="HIGH",
        minBets=[{"currency": "eur", "amount": "0.1"}, {"currency": "SEK", "amount": "1"}],
        maxBets=[{"currency": "EUR", "amount": "100"}, {"currency": "SEK", "amount": "1000.00"}],
        contributionCategory="slots",
        countries=["mt", "SE"],
        currencies=["EUR", "sek"],
        demoAvailable=False,
        imageUrl="https://cdn.acme.example/neon.png",
        tags=["Neon", "megaways"],
        reason="new release",
    )
    assert created["errors"] == []
    game = created["game"]
    assert game | {"id": None, "createdAt": None} == {
        "id": None,
        "code": "neon-nights",
        "title": "Neon Nights",
        "type": "SLOT",
        "rtp": "96.50",
        "volatility": "HIGH",
        "minBets": [{"amount": "0.10", "currency": "EUR"}, {"amount": "1.00", "currency": "SEK"}],
        "maxBets": [{"amount": "100.00", "currency": "EUR"}, {"amount": "1000.00", "currency": "SEK"}],
        "contributionCategory": "slots",
        "countries": ["MT", "SE"],
        "currencies": ["EUR", "SEK"],
        "demoAvailable": False,
        "imageUrl": "https://cdn.acme.example/neon.png",
        "tags": ["neon", "megaways"],
        "enabled": True,
        "createdAt": None,
        "provider": {"code": "acme"},
    }
    # Its id is the catalog's: the public `game` query finds it.
    public = await gql('query($id: ID!) { game(id: $id, brand: "royal") { code title } }', {"id": game["id"]})
    assert public["data"]["game"] == {"code": "neon-nights", "title": "Neon Nights"}

    body = await gql(
        UPDATE_GAME,
        {"input": {"gameId": game["id"], "title": "Neon Nights Deluxe", "rtp": "95.10", "tags": [], "imageUrl": ""}},
        token=content_manager.token,
    )
    changed = payload(body, "updateGame")["game"]
    assert (changed["title"], changed["rtp"], changed["tags"], changed["imageUrl"]) == (
        "Neon Nights Deluxe",
        "95.10",
        [],
        None,
    )
    assert changed["currencies"] == ["EUR", "SEK"]  # untouched

    body = await gql(
        SET_GAME_ENABLED,
        {"input": {"gameId": game["id"], "enabled": False, "reason": "faulty"}},
        token=content_manager.token,
    )
    assert payload(body, "setGameEnabled")["game"]["enabled"] is False
    assert (await gql('query($id: ID!) { game(id: $id, brand: "royal") { code } }', {"id": game["id"]}))["data"][
        "game"
    ] is None

    trail = [(r.action, r.before, r.after, r.reason) for r in await audit_rows(rt, target_type="game")]
    assert [t[0] for t in trail] == ["game.created", "game.updated", "game.status_changed"]
    assert (trail[0][2]["rtp"], trail[0][2]["provider"], trail[0][3]) == ("96.50", "acme", "new release")
    assert trail[1][1:3] == (
        {
            "title": "Neon Nights",
            "rtp": "96.50",
            "tags": ["neon", "megaways"],
            "imageUrl": "https://cdn.acme.example/neon.png",
        },
        {"title": "Neon Nights Deluxe", "rtp": "95.10", "tags": [], "imageUrl": None},
    )
    assert trail[2][1:] == ({"enabled": True}, {"enabled": False}, "faulty")


async def test_game_inputs_are_refused_with_their_field_and_nothing_is_written(
    rt: Any, gql: Any, content_manager: Any
) -> None:
    await add_provider(gql, content_manager.token, "acme")
    assert (await create_game(gql, content_manager.token, "acme", code="taken"))["errors"] == []
    cases = [
        ({"code": "taken"}, ("ALREADY_EXISTS", "code")),
        ({"provider": "nobody"}, ("NOT_FOUND", "provider")),
        ({"code": "has space"}, ("INVALID_INPUT", "code")),
        ({"title": "  "}, ("INVALID_INPUT", "title")),
        ({"title": "T" * 201}, ("INVALID_INPUT", "title")),
        ({"rtp": "101"}, ("INVALID_INPUT", "rtp")),
        ({"rtp": "96.123"}, ("INVALID_INPUT", "rtp")),
        ({"rtp": "lots"}, ("INVALID_INPUT", "rtp")),
        ({"currencies": ["EUR", "XYZ"]}, ("UNKNOWN_CURRENCY", "currencies")),
        ({"countries": ["Malta"]}, ("INVALID_INPUT", "countries")),
        ({"minBets": [{"currency": "EUR", "amount": "0.001"}]}, ("INVALID_AMOUNT", "minBets")),
        (
            {"minBets": [{"currency": "EUR", "amount": "1"}, {"currency": "EUR", "amount": "2"}]},
            ("INVALID_INPUT", "minBets"),
        ),
        ({"minBets": [{"currency": "EUR", "amount": "600"}]}, ("INVALID_INPUT", "minBets")),  # above the 500 maximum
        ({"tags": ["t" * 33]}, ("INVALID_INPUT", "tags")),
        ({"imageUrl": "ftp://x/y.png"}, ("INVALID_INPUT", "imageUrl")),
        ({"contributionCategory": "Table Games!"}, ("INVALID_INPUT", "contributionCategory")),
    ]
    for given, expected in cases:
        game = {
            "provider": "acme",
            "code": "fresh",
            "title": "Fresh",
            "type": "SLOT",
            "rtp": "96.00",
            "maxBets": [{"currency": "EUR", "amount": "500"}],
            **given,
        }
        body = await gql(CREATE_GAME, {"input": game}, token=content_manager.token)
        errors = payload(body, "createGame")["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [expected], given
    assert await count(rt, Game) == 1
    game_id = (await gql(GAMES, {"provider": "acme"}, token=content_manager.token))["data"]["catalogGames"]["edges"][0][
        "node"
    ]["id"]
    body = await gql(
        UPDATE_GAME,
        {
            "input": {
                "gameId": game_id,
                "maxBets": [{"currency": "EUR", "amount": "0.05"}],
                "minBets": [{"currency": "EUR", "amount": "0.10"}],
            }
        },
        token=content_manager.token,
    )
    assert [(e["code"], e["field"]) for e in payload(body, "updateGame")["errors"]] == [("INVALID_INPUT", "minBets")]


async def test_a_game_switched_off_is_refused_by_the_wallet(
    rt: Any, gql: Any, client: httpx.AsyncClient, make_player: Any, content_manager: Any, keys: Keys
) -> None:
    await add_provider(gql, content_manager.token, "acme", publicKeyPem=pem_of(keys.first))
    game = (await create_game(gql, content_manager.token, "acme"))["game"]
    player = await make_player()
    await fund(rt, player.uuid, 10_000)
    seat = Seat(str(player.uuid), player.uuid, await open_session(rt, await provider_row(rt, "acme"), player.uuid))
    aggregator = Aggregator(client, keys.first, code="acme")
    assert (await aggregator.call("transaction/bet", seat.bet(100_000)))["status"] == "RS_OK"
    await gql(SET_GAME_ENABLED, {"input": {"gameId": game["id"], "enabled": False}}, token=content_manager.token)
    assert (await aggregator.call("transaction/bet", seat.bet(100_000, round_ref="r-2")))[
        "status"
    ] == "RS_ERROR_INVALID_GAME"


async def test_the_staff_lists_cost_the_same_statements_whatever_the_page_size(
    rt: Any, gql: Any, content_manager: Any
) -> None:
    for n in range(12):
        await add_provider(gql, content_manager.token, f"studio-{n:02d}")
    for n in range(12):
        await create_game(gql, content_manager.token, "studio-00", code=f"game-{n:02d}")
    # Warm the request's one-time work (the role set's decisions) before counting.
    await gql(PROVIDERS, {"first": 1}, token=content_manager.token)

    async def statements(query: str, variables: dict[str, Any], size: int) -> int:
        with recorded_statements(rt) as seen:
            body = await gql(query, {**variables, "first": size}, token=content_manager.token)
        assert not body.get("errors"), body
        edges = next(iter(body["data"].values()))["edges"]
        assert len(edges) == size
        return len(seen)

    small, large = await statements(PROVIDERS, {}, 1), await statements(PROVIDERS, {}, 12)
    assert small == large, (small, large)
    small, large = (
        await statements(GAMES, {"provider": "studio-00"}, 1),
        await statements(GAMES, {"provider": "studio-00"}, 12),
    )
    assert small == large, (small, large)
    # And the counts are the providers' own: each has its games counted.
    body = await gql(PROVIDERS, {"first": 12}, token=content_manager.token)
    counts = {e["node"]["code"]: e["node"]["gameCount"] for e in body["data"]["gameProviders"]["edges"]}
    assert counts == {f"studio-{n:02d}": 12 if n == 0 else 0 for n in range(12)}
    searched = await gql(GAMES, {"provider": "studio-00", "search": "GAME-0"}, token=content_manager.token)
    assert len(searched["data"]["catalogGames"]["edges"]) == 10
