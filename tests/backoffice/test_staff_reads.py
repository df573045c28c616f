"""What the back office reads and writes beyond the domains' own tests: staff notes on a player,
the player's audit trail, the viewer's permissions and a brand's game switches."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from strawberry import relay

from tests.conftest import error_codes

ADD_NOTE = """
mutation($input: AddPlayerNoteInput!) {
  addPlayerNote(input: $input) { note { id body author { displayName } } errors { code field message } }
}"""
NOTES = """
query($id: ID!) { player(id: $id) { notes(first: 10) { edges { node { body createdAt author { email } } } } } }"""
TRAIL = """
query($id: ID!) { player(id: $id) { auditTrail(first: 50) { edges { node { action actorType targetId } } } } }"""


async def note_count(rt: Any) -> int:
    from models.players import PlayerNote

    async with rt.database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(PlayerNote)) or 0)


async def test_staff_write_notes_that_colleagues_read_and_the_audit_log_keeps(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    support = await make_staff("support")
    body = await gql(
        ADD_NOTE, {"input": {"playerId": player.id, "body": "  Called about a late withdrawal.  "}}, token=support.token
    )
    payload = body["data"]["addPlayerNote"]
    assert payload["errors"] == []
    assert payload["note"]["body"] == "Called about a late withdrawal."
    assert payload["note"]["author"]["displayName"] == support.email.split("@")[0]

    finance = await make_staff("finance")
    notes = (await gql(NOTES, {"id": player.id}, token=finance.token))["data"]["player"]["notes"]["edges"]
    assert [(n["node"]["body"], n["node"]["author"]["email"]) for n in notes] == [
        ("Called about a late withdrawal.", support.email)
    ]

    trail = (await gql(TRAIL, {"id": player.id}, token=support.token))["data"]["player"]["auditTrail"]["edges"]
    actions = [edge["node"]["action"] for edge in trail]
    assert actions[0] == "player.note_added"  # newest first
    assert "player.registered" in actions
    assert {edge["node"]["targetId"] for edge in trail if edge["node"]["action"] == "player.note_added"} == {
        str(player.uuid)
    }


async def test_notes_refuse_empty_text_other_brands_and_roles_without_them(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    player = await make_player()
    nordic = await make_player(brand_code="northstar", country="SE", currency="SEK")
    support = await make_staff("support")
    body = await gql(ADD_NOTE, {"input": {"playerId": player.id, "body": "   "}}, token=support.token)
    assert body["data"]["addPlayerNote"]["errors"] == [
        {"code": "INVALID_INPUT", "field": "body", "message": "Write something."}
    ]
    body = await gql(ADD_NOTE, {"input": {"playerId": nordic.id, "body": "hello"}}, token=support.token)
    assert [e["code"] for e in body["data"]["addPlayerNote"]["errors"]] == ["NOT_FOUND"]
    marketing = await make_staff("marketing")
    body = await gql(ADD_NOTE, {"input": {"playerId": player.id, "body": "hello"}}, token=marketing.token)
    assert error_codes(body) == ["FORBIDDEN"]
    assert await note_count(rt) == 0


async def test_players_see_neither_notes_nor_their_audit_trail(gql: Any, make_player: Any, make_staff: Any) -> None:
    player = await make_player()
    support = await make_staff("support")
    await gql(ADD_NOTE, {"input": {"playerId": player.id, "body": "Watch this one."}}, token=support.token)
    body = await gql(
        "{ me { id notes { edges { node { body } } } auditTrail { edges { node { action } } } } }", token=player.token
    )
    assert body["data"]["me"] == {"id": player.id, "notes": None, "auditTrail": None}
    assert sorted(error_codes(body)) == ["FORBIDDEN", "FORBIDDEN"]
    finance = await make_staff("finance")  # reads notes, not the audit trail
    body = await gql(TRAIL, {"id": player.id}, token=finance.token)
    assert body["data"]["player"]["auditTrail"] is None
    assert error_codes(body) == ["FORBIDDEN"]


PERMISSIONS = """
query($asked: [String!]) { permissions(coordinates: $asked) }"""
ASKED = [
    "Mutation.approveWithdrawal",
    "Mutation.setPlayerStatus",
    "Query.auditLog",
    "Player.dateOfBirth",
    "Mutation.addPlayerNote",
    "Mutation.setGameAvailability",
]


async def test_permissions_answer_with_the_policys_decisions(gql: Any, make_staff: Any, make_player: Any) -> None:
    async def granted(token: str | None) -> list[str]:
        body = await gql(PERMISSIONS, {"asked": ASKED}, token=token)
        assert "errors" not in body, body
        result: list[str] = body["data"]["permissions"]
        return result

    assert await granted((await make_staff("support")).token) == ["Mutation.setPlayerStatus", "Mutation.addPlayerNote"]
    assert await granted((await make_staff("finance")).token) == [
        "Mutation.approveWithdrawal",
        "Mutation.addPlayerNote",
    ]
    assert await granted((await make_staff("brand_admin")).token) == [
        "Mutation.setPlayerStatus",
        "Query.auditLog",
        "Player.dateOfBirth",
        "Mutation.addPlayerNote",
        "Mutation.setGameAvailability",
    ]
    assert await granted((await make_player()).token) == ["Player.dateOfBirth"]
    assert await granted(None) == ["Player.dateOfBirth"]  # login payloads show the account that logged in
    everything = (await gql("{ permissions }", token=(await make_staff("support")).token))["data"]["permissions"]
    assert "Query.players" in everything
    assert "Query.auditLog" not in everything
    body = await gql(PERMISSIONS, {"asked": ["Query.me"] * 501}, token=None)
    assert error_codes(body) == ["BAD_USER_INPUT"]


SWITCHES = """
{ games(first: 50) { edges { node { code brandSwitch { enabled disabledCountries updatedAt } } } } }"""


async def test_staff_see_their_brands_game_switches(rt: Any, gql: Any, make_staff: Any) -> None:
    from integrations.demo import seed

    await seed.seed_games(rt)
    admin = await make_staff("brand_admin")
    switches = {
        e["node"]["code"]: e["node"]["brandSwitch"]
        for e in (await gql(SWITCHES, token=admin.token))["data"]["games"]["edges"]
    }
    assert switches["demo-slot"] == {"enabled": True, "disabledCountries": [], "updatedAt": None}
    async with rt.database.session() as db:
        from sqlmodel import col

        from models.games import Game

        game_id = await db.scalar(select(col(Game.id)).where(col(Game.code) == "demo-slot"))
    body = await gql(
        """mutation($input: SetGameAvailabilityInput!) {
        setGameAvailability(input: $input) { availability { enabled } errors { code message } } }""",
        {
            "input": {
                "gameId": str(relay.GlobalID("Game", str(game_id))),
                "enabled": False,
                "reason": "provider incident",
            }
        },
        token=admin.token,
    )
    assert body["data"]["setGameAvailability"]["errors"] == []
    switches = {
        e["node"]["code"]: e["node"]["brandSwitch"]
        for e in (await gql(SWITCHES, token=admin.token))["data"]["games"]["edges"]
    }
    assert switches["demo-slot"]["enabled"] is False
    assert switches["demo-slot"]["updatedAt"] is not None
    assert switches["lightning-baccarat"]["disabledCountries"] == ["GB"]  # the demo seed's switch in royal
    everywhere = await make_staff(("superadmin", None))
    body = await gql(SWITCHES, token=everywhere.token)
    assert {e["node"]["brandSwitch"] for e in body["data"]["games"]["edges"]} == {None}  # no brand: no switch
