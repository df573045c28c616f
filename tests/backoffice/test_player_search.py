"""The back office's player search (`players(filter: {search})`): what it finds, in which brand,
for which role, and that every criterion is an index lookup (EXPLAIN on 20,000 players)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from tests.conftest import error_codes

SEARCH = """
query($search: String!) {
  players(filter: {search: $search}, first: 20) { edges { node { id } } }
}"""


async def found(gql: Any, token: str, search: str, brand: str | None = None) -> set[str]:
    body = await gql(SEARCH, {"search": search}, token=token, brand=brand)
    assert "errors" not in body, body
    return {edge["node"]["id"] for edge in body["data"]["players"]["edges"]}


@pytest.fixture
async def people(make_player: Any, other_brand: Any) -> dict[str, Any]:
    return {
        "alice": await make_player(
            email="alice.andersson@example.com",
            firstName="Alice",
            lastName="Andersson",
            phone="+46 70 123 45 67",
            country="SE",
            currency="SEK",
        ),
        "alina": await make_player(
            email="alina@example.org", firstName="Alina", lastName="Borg", phone="+356 9912 3456"
        ),
        "bob": await make_player(
            email="bob@example.com", firstName="Bob", lastName="Alderman", phone="(020) 7946-0018"
        ),
        "percent": await make_player(email="a_b%c@example.com", firstName="Per", lastName="Cent"),
        "nordic": await make_player(
            brand_code="northstar",
            email="alice@northstar.example",
            firstName="Alice",
            lastName="Nord",
            phone="+46 70 123 45 67",
            country="SE",
            currency="SEK",
        ),
    }


async def test_one_box_finds_by_email_name_phone_and_id(gql: Any, make_staff: Any, people: dict[str, Any]) -> None:
    support = await make_staff("support")
    ids = {name: p.id for name, p in people.items()}
    assert await found(gql, support.token, "alice.and") == {ids["alice"]}  # email prefix
    assert await found(gql, support.token, "ALI") == {ids["alice"], ids["alina"]}  # first name or email prefix
    assert await found(gql, support.token, "ald") == {ids["bob"]}  # last name prefix
    assert await found(gql, support.token, "alice and") == {ids["alice"]}  # first and last name
    assert await found(gql, support.token, "bob@example.com") == {ids["bob"]}
    assert await found(gql, support.token, "+46 701 234 567") == {ids["alice"]}  # international form
    assert await found(gql, support.token, "070-123 45 67") == {ids["alice"]}  # national form: the tail
    assert await found(gql, support.token, "020 7946 0018") == {ids["bob"]}
    assert await found(gql, support.token, ids["alina"]) == {ids["alina"]}  # the global id
    assert await found(gql, support.token, str(people["bob"].uuid)) == {ids["bob"]}  # the bare uuid
    # LIKE's wildcards are text: "a_b%" finds the one email that starts with it, not every "a?b".
    assert await found(gql, support.token, "a_b%") == {ids["percent"]}
    assert await found(gql, support.token, "a%") == set()
    assert await found(gql, support.token, "zz") == set()


async def test_search_stays_in_the_brand(gql: Any, make_staff: Any, people: dict[str, Any]) -> None:
    support = await make_staff("support")
    assert ids_of(people, "nordic") not in await found(gql, support.token, "alice")
    assert await found(gql, support.token, str(people["nordic"].uuid)) == set()
    admin = await make_staff(("superadmin", None))
    assert await found(gql, admin.token, "alice") == {ids_of(people, "alice"), ids_of(people, "nordic")}
    assert await found(gql, admin.token, "alice", brand="northstar") == {ids_of(people, "nordic")}


def ids_of(people: dict[str, Any], name: str) -> str:
    return str(people[name].id)


async def test_a_role_cannot_search_by_what_it_may_not_read(gql: Any, make_staff: Any, people: dict[str, Any]) -> None:
    marketing = await make_staff("marketing")  # no email, names or phone
    for text_ in ("alice", "bob@example.com", "+46 70 123 45 67"):
        body = await gql(SEARCH, {"search": text_}, token=marketing.token)
        assert error_codes(body) == ["FORBIDDEN"], body
        assert body["data"] == {"players": None}
    assert await found(gql, marketing.token, ids_of(people, "bob")) == {ids_of(people, "bob")}

    finance = await make_staff("finance")  # names and email, not the phone
    body = await gql(SEARCH, {"search": "+46 70 123 45 67"}, token=finance.token)
    assert error_codes(body) == ["FORBIDDEN"]
    assert "phone" in body["errors"][0]["message"]
    assert await found(gql, finance.token, "alice and") == {ids_of(people, "alice")}


async def test_marketing_cannot_learn_emails_through_the_filter(gql: Any, make_player: Any, make_staff: Any) -> None:
    await make_player(email="secret@example.com")
    marketing = await make_staff("marketing")
    body = await gql(
        """query($e: String) { players(filter: {email: $e}) { edges { node { id } } } }""",
        {"e": "se*"},
        token=marketing.token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    support = await make_staff("support")
    allowed = await gql(
        """query($e: String) { players(filter: {email: $e}) { edges { node { id } } } }""",
        {"e": "se*"},
        token=support.token,
    )
    assert len(allowed["data"]["players"]["edges"]) == 1


async def test_too_short_a_search_is_bad_input(gql: Any, make_staff: Any, people: dict[str, Any]) -> None:
    support = await make_staff("support")
    body = await gql(SEARCH, {"search": "a"}, token=support.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "Type at least 2 characters."


# ---- every criterion is an index lookup ---------------------------------------------------------

BULK_PLAYERS = """
INSERT INTO players (id, brand_id, email, password_hash, first_name, last_name, phone, date_of_birth, country,
                     currency, marketing_consent, jurisdiction, status, created_at, updated_at)
SELECT gen_random_uuid(), :brand, 'bulk' || n || '@example.com', 'x', 'First' || n, 'Last' || n,
       '+46 70 ' || lpad(n::text, 7, '0'), DATE '1990-01-01', 'MT', 'EUR', false, 'DEFAULT', 'active',
       now() - n * interval '1 second', now()
FROM generate_series(1, 20000) AS n
"""


INDEXED = [
    ("bulk1234@", "ix_players_email_prefix"),
    ("first123", "ix_players_first_name_prefix"),
    ("last123", "ix_players_last_name_prefix"),
    ("+46 70 0001234", "ix_players_phone_digits"),
    ("070 0001234", "ix_players_phone_digits_reversed"),
]


async def test_each_criterion_is_an_index_lookup(rt: Any, brand: Any) -> None:
    from authz.subjects import Viewer
    from services import player_search

    async with rt.database.transaction() as db:
        await db.execute(text(BULK_PLAYERS), {"brand": brand.id})
        await db.execute(text("ANALYZE players"))
    support = Viewer(kind="staff", brand_id=brand.id, brand_code="royal", roles=frozenset({"support", "staff"}))
    for search, index in INDEXED:
        statement = player_search.search(support, search, list(player_search.SearchField)).limit(21)
        sql = str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        async with rt.database.session() as db:
            plan = json.dumps((await db.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"))).scalar_one())
        assert index in plan, (search, plan)
        assert '"Node Type": "Seq Scan"' not in plan, (search, plan)
