"""Definitions refused part by part with their codes; what players and staff read (brand, currency and
jurisdiction filters; entry counts for staff only); the list resolvers' statement counts; and the settle guard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.clock import clock
from tests.conftest import recorded_statements
from tests.tournaments.conftest import EUR, SETTLE, Arena, join

LIST = """
query($first: Int) { tournaments(first: $first) { edges { node { id name state entriesCount
  buyIn { amount currency } prizes { rankFrom kind } } } pageInfo { hasNextPage } } }"""
PLAYER_LIST = LIST.replace(" entriesCount", "")
MY_ENTRIES = """
query($first: Int) { myTournamentEntries(first: $first) { edges { node { score tournament { id name } } } } }"""
ONE = "query($id: ID!) { tournament(id: $id) { id name state resultsHash } }"


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"endsAt": (clock.now() - timedelta(days=1)).isoformat()}, "TOURNAMENT_SCHEDULE_INVALID", "endsAt"),
        ({"name": " "}, "INVALID_INPUT", "name"),
        ({"points": 0}, "TOURNAMENT_SCORING_INVALID", "points"),
        ({"roundsCap": 0}, "TOURNAMENT_SCORING_INVALID", "roundsCap"),
        ({"games": ["no-such-game"]}, "TOURNAMENT_ELIGIBILITY_INVALID", "games"),
        ({"providers": ["nobody"]}, "TOURNAMENT_ELIGIBILITY_INVALID", "providers"),
        ({"entryMode": "AUTOMATIC", "buyIn": "5.00"}, "TOURNAMENT_ENTRY_INVALID", "entryMode"),
        ({"maxRebuys": 2}, "TOURNAMENT_ENTRY_INVALID", "maxRebuys"),
        ({"buyIn": "5.001"}, "INVALID_AMOUNT", "buyIn"),
        (
            {"prizes": [{"rankFrom": 1, "rankTo": 1, "kind": "CASH", "shareBps": 5000}]},
            "TOURNAMENT_PRIZES_INVALID",
            "prizes.0",
        ),
        (
            {
                "buyIn": "1.00",
                "prizes": [
                    {"rankFrom": 1, "rankTo": 2, "kind": "CASH", "shareBps": 4000},
                    {"rankFrom": 3, "rankTo": 3, "kind": "CASH", "shareBps": 3000},
                ],
            },
            "TOURNAMENT_PRIZES_INVALID",
            "prizes",
        ),
        (
            {
                "prizes": [
                    {"rankFrom": 1, "rankTo": 2, "kind": "CASH", "amount": "1"},
                    {"rankFrom": 2, "rankTo": 2, "kind": "CASH", "amount": "1"},
                ]
            },
            "TOURNAMENT_PRIZES_INVALID",
            "prizes.1",
        ),
        (
            {"prizes": [{"rankFrom": 1, "rankTo": 1, "kind": "BONUS", "amount": "5.00"}]},
            "TOURNAMENT_PRIZES_INVALID",
            "prizes.0",
        ),
    ],
    ids=[
        "over",
        "no-name",
        "no-points",
        "zero-cap",
        "unknown-game",
        "unknown-provider",
        "automatic-buy-in",
        "rebuys-without-buy-in",
        "excess-precision",
        "share-without-pool",
        "shares-over-100",
        "overlapping-ranks",
        "bonus-without-campaign",
    ],
)
async def test_a_definition_is_refused_for_the_part_that_is_wrong(
    create: Any, hub88_provider: Any, overrides: dict[str, Any], code: str, field: str
) -> None:
    refused = await create(**overrides)
    assert refused["tournament"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [(code, field)], refused


async def test_players_see_their_brand_currency_and_jurisdiction_and_staff_see_counts(
    gql: Any, make_player: Any, create: Any, organiser: Any
) -> None:
    eur = (await create(name="Euro Cup"))["tournament"]["id"]
    await create(name="Krona Cup", currency="SEK")
    await create(name="Swedish only", jurisdictions=["SE"])
    player = await make_player(balance="10.00 EUR")
    assert (await join(gql, player, eur))["errors"] == []
    seen = (await gql(LIST, {"first": 10}, token=player.token))["data"]["tournaments"]["edges"]
    assert [(n["node"]["name"], n["node"]["entriesCount"]) for n in seen] == [("Euro Cup", None)]
    staff_view = (await gql(LIST, {"first": 10}, token=organiser.token))["data"]["tournaments"]["edges"]
    assert sorted((n["node"]["name"], n["node"]["entriesCount"]) for n in staff_view) == [
        ("Euro Cup", 1),
        ("Krona Cup", 0),
        ("Swedish only", 0),
    ]
    assert (await gql(ONE, {"id": eur}, token=player.token))["data"]["tournament"]["name"] == "Euro Cup"


async def test_the_list_resolvers_cost_the_same_statements_for_one_row_or_many(
    rt: Any, gql: Any, make_player: Any, create: Any, organiser: Any
) -> None:
    player = await make_player(balance="100.00 EUR")

    async def count(query: str, token: str) -> int:
        with recorded_statements(rt) as statements:
            body = await gql(query, {"first": 50}, token=token)
        assert "errors" not in body, body
        return len(statements)

    gid = (await create(name="T-0"))["tournament"]["id"]
    assert (await join(gql, player, gid))["errors"] == []
    one = (
        await count(LIST, organiser.token),
        await count(PLAYER_LIST, player.token),
        await count(MY_ENTRIES, player.token),
    )
    for n in range(1, 6):
        gid = (await create(name=f"T-{n}"))["tournament"]["id"]
        assert (await join(gql, player, gid))["errors"] == []
    many = (
        await count(LIST, organiser.token),
        await count(PLAYER_LIST, player.token),
        await count(MY_ENTRIES, player.token),
    )
    assert many == one, (one, many)
    assert one[0] <= 6, one  # staff: the page and its entry counts (plus the request's own reads)


async def test_a_tournament_is_settled_only_once_finished_and_its_scores_applied(
    gql: Any, make_player: Any, create: Any, organiser: Any, arena: Arena
) -> None:
    gid = (await create())["tournament"]["id"]
    player = await make_player(balance="10.00 EUR")
    assert (await join(gql, player, gid))["errors"] == []
    early = (await gql(SETTLE, {"input": {"tournamentId": gid}}, token=organiser.token))["data"]["settleTournament"]
    assert early["errors"][0]["code"] == "INVALID_STATE"
    await arena.stake(player, 1 * EUR, "r-1")
    pending = await arena.settle(gid)  # finished now, but the bet's event is not applied yet
    assert pending["errors"][0]["code"] == "TOURNAMENT_SCORES_PENDING"
    await arena.scores.drain()
    settled = (await gql(SETTLE, {"input": {"tournamentId": gid}}, token=organiser.token))["data"]["settleTournament"]
    assert settled["errors"] == []
    assert settled["tournament"]["state"] == "SETTLED"


UPDATE = """
mutation($input: UpdateTournamentInput!) {
  updateTournament(input: $input) { tournament { id name scoring buyIn { amount } } errors { code field } }
}"""


async def test_a_definition_changes_only_before_the_start_and_before_anyone_entered(
    gql: Any, make_player: Any, create: Any, organiser: Any
) -> None:
    now = clock.now()
    later = {
        "name": "Sunday Drops",
        "currency": "EUR",
        "startsAt": (now + timedelta(minutes=2)).isoformat(),
        "endsAt": (now + timedelta(minutes=4)).isoformat(),
        "scoring": "POINTS_PER_WAGER",
    }
    gid = (await create(**{k: v for k, v in later.items() if k != "name"}))["tournament"]["id"]
    changed = await gql(
        UPDATE,
        {"input": {"tournamentId": gid, "definition": {**later, "scoring": "CONSECUTIVE_WINS", "buyIn": "2.00"}}},
        token=organiser.token,
    )
    assert changed["data"]["updateTournament"]["tournament"] == {
        "id": gid,
        "name": "Sunday Drops",
        "scoring": "CONSECUTIVE_WINS",
        "buyIn": {"amount": "2.00"},
    }
    bad = {**later, "prizes": [{"rankFrom": 2, "rankTo": 1, "kind": "CASH", "amount": "1.00"}]}
    refused = await gql(UPDATE, {"input": {"tournamentId": gid, "definition": bad}}, token=organiser.token)
    assert refused["data"]["updateTournament"]["errors"] == [{"code": "TOURNAMENT_PRIZES_INVALID", "field": "prizes.0"}]
    player = await make_player(balance="5.00 EUR")
    assert (await join(gql, player, gid))["errors"] == []
    late = await gql(UPDATE, {"input": {"tournamentId": gid, "definition": later}}, token=organiser.token)
    assert late["data"]["updateTournament"]["errors"] == [{"code": "INVALID_STATE", "field": None}]
