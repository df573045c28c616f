"""Bad input to the bonus mutations is refused with a structured error — a payload error naming the field
for what the rules say, a GraphQL error with `extensions.code` for a malformed request — never an
internal error, and nothing is written by a refusal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.bonuses.conftest import CLAIM, CREATE, rules
from tests.bonuses.test_bonus_operations import GRANT
from tests.bonuses.test_campaign_changes import UPDATE

CANCEL = """
mutation($input: EndBonusInput!) { cancelBonus(input: $input) { bonus { id } errors { code field message } } }"""
REACH = "{ bonusCampaigns { id eligiblePlayers { count } } }"

REFUSED_RULES: list[tuple[str, dict[str, Any]]] = [
    ("a negative percentage", {"match_percent": -5}),
    ("excess precision", {"max_bet": {"EUR": "1.001"}}),
    ("an unknown currency", {"max_bonus": {"XYZ": "10.00"}}),
    ("a huge amount", {"max_bonus": {"EUR": "99999999999999999999"}}),
    ("a wrong type", {"contributions": {"games": {"slot-fortune": "fifty"}}}),
    ("a huge claim count", {"eligibility": {"max_claims_per_player": 10**20}}),
    ("a huge deposit number", {"eligibility": {"deposit_number": 10**20}}),
    ("an unknown eligible currency", {"eligibility": {"currencies": ["XYZ"]}}),
    ("a country that is not a code", {"eligibility": {"countries": ["malta"]}}),
]


async def test_bad_campaign_input_is_refused_by_field_and_writes_nothing(
    rt: Any, gql: Any, make_staff: Any, campaign: Any
) -> None:
    from models.audit import AuditRecord
    from models.bonuses import BonusCampaign

    marketing = await make_staff("marketing")
    async with rt.database.session() as db:
        audited = await db.scalar(select(func.count()).select_from(AuditRecord))

    async def create(**fields: Any) -> list[tuple[str, str | None]]:
        ask = {"name": "Welcome", "kind": "DEPOSIT_MATCH", "rules": rules(), **fields}
        body = await gql(CREATE, {"input": ask}, token=marketing.token)
        assert not body.get("errors"), body
        return [(e["code"], e["field"]) for e in body["data"]["createBonusCampaign"]["errors"]]

    for what, bad in REFUSED_RULES:
        assert await create(rules=rules(**bad)) == [("INVALID_INPUT", "rules")], what
    assert await create(startsAt="2030-02-01T00:00:00Z", endsAt="2030-01-01T00:00:00Z") == [("INVALID_INPUT", "endsAt")]
    assert await create(startsAt="2030-01-01T00:00:00", endsAt="2030-02-01T00:00:00Z") == [
        ("INVALID_INPUT", "startsAt")
    ]  # no time zone: which midnight?
    async with rt.database.session() as db:
        assert await db.scalar(select(func.count()).select_from(BonusCampaign)) == 0
        assert await db.scalar(select(func.count()).select_from(AuditRecord)) == audited

    offer = await campaign("DEPOSIT_MATCH", rules(), activate=False, starts_at="2030-01-01T00:00:00Z")
    body = await gql(UPDATE, {"input": {"campaignId": offer, "endsAt": "2030-02-01T00:00:00"}}, token=marketing.token)
    assert [(e["code"], e["field"]) for e in body["data"]["updateBonusCampaign"]["errors"]] == [
        ("INVALID_INPUT", "endsAt")
    ]
    assert (await gql(REACH, token=marketing.token))["data"]["bonusCampaigns"][0]["eligiblePlayers"] == {"count": 0}


async def test_text_with_a_nul_character_is_a_malformed_request_in_every_bonus_mutation(
    gql: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    offer = await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}), code="FREE10")
    player = await make_player()
    marketing, support = await make_staff("marketing"), await make_staff("support")
    asks = [
        (CREATE, {"name": "Wel\u0000come", "kind": "DEPOSIT_MATCH", "rules": rules()}, marketing.token),
        (CREATE, {"name": "Welcome", "kind": "DEPOSIT_MATCH", "rules": rules(games=["slot\u0000"])}, marketing.token),
        (UPDATE, {"campaignId": offer, "name": "\u0000"}, marketing.token),
        (CLAIM, {"code": "FREE\u000010"}, player.token),
        (GRANT, {"playerId": player.id, "campaignId": offer, "reason": "goodwill\u0000"}, support.token),
    ]
    for query, ask, token in asks:
        body = await gql(query, {"input": ask}, token=token)
        assert body["data"] is None, body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    literal = 'mutation { claimBonus(input: {code: "FREE\\u000010"}) { errors { code } } }'  # in the document
    body = await gql(literal, token=player.token)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
    claimed = (await gql(CLAIM, {"input": {"code": "FREE10"}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == []  # nothing was half-done by the refusals
    body = await gql(
        CANCEL, {"input": {"bonusId": claimed["bonus"]["id"], "reason": "abuse\u0000"}}, token=support.token
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
