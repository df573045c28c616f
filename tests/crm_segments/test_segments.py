"""Segments through GraphQL: rules validated, previewed before saving, dynamic members kept current from the
events (and from the report projection for money), static lists uploaded, brands kept apart."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from core.clock import clock
from models.crm import CrmSegment
from services.crm.segments import membership, sweep
from tests.conftest import PASSWORD, error_codes, fund, recorded_statements
from tests.crm_segments.conftest import CREATE, MEMBERS, PREVIEW, UPDATE, UPLOAD, Pipeline, member_ids

SELF_EXCLUDE = """
mutation($input: SelfExcludeInput!) { selfExclude(input: $input) { errors { code } } }"""
PROFILE = """
mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
  player { language timeZone } errors { code field } } }"""


def rules(*conditions: dict[str, Any], match: str = "ALL") -> dict[str, Any]:
    return {"match": match, "conditions": list(conditions)}


async def test_dynamic_segment_follows_rules_deposits_and_exclusions(
    gql: Any, rt: Any, make_player: Any, make_staff: Any, pipeline: Pipeline
) -> None:
    marketing = await make_staff("marketing")
    malta = await make_player(country="MT", marketingConsent=True, language="de", timeZone="Europe/Malta")
    sweden = await make_player(country="SE", currency="SEK", marketingConsent=True)
    quiet = await make_player(country="MT")  # no consent
    depositor = {
        "field": "DEPOSIT_COUNT", "op": "GTE", "value": 2, "days": 30,
    }  # fmt: skip
    consent = {"field": "MARKETING_CONSENT", "op": "IS", "flag": True}
    country = {"field": "COUNTRY", "op": "IN", "values": ["mt", "se"]}

    # Before saving: the preview's size and first players, with only what marketing may read.
    body = await gql(PREVIEW, {"rules": rules(consent, country), "limit": 5}, token=marketing.token)
    preview = body["data"]["segmentPreview"]
    assert preview["size"] == 2
    assert {p["id"] for p in preview["players"]} == {malta.id, sweden.id}
    assert all(p["email"] is None for p in preview["players"])
    assert "FORBIDDEN" in error_codes(body)

    body = await gql(
        CREATE,
        {"input": {"name": "Regular depositors", "kind": "DYNAMIC", "rules": rules(consent, country, depositor)}},
        token=marketing.token,
    )
    created = body["data"]["createSegment"]
    assert created["errors"] == [], created
    segment = created["segment"]
    assert segment["size"] == 0
    assert segment["rules"]["conditions"][1]["values"] == ["MT", "SE"]

    # Two deposits: the projection counts them, then the player's segments are re-evaluated.
    for _ in range(2):
        await fund(rt, malta, "20.00 EUR", deposit=True)
    await fund(rt, quiet, "20.00 EUR", deposit=True)
    await fund(rt, quiet, "20.00 EUR", deposit=True)
    await pipeline.settle()
    assert await member_ids(rt, segment["id"]) == {malta.uuid}

    # A self-exclusion takes the player out of every segment at the next event about them.
    assert (await gql(SELF_EXCLUDE, {"input": {"length": "SIX_MONTHS", "confirm": True}}, token=malta.token))["data"][
        "selfExclude"
    ]["errors"] == []
    await pipeline.settle()
    assert await member_ids(rt, segment["id"]) == set()

    # Changed rules (any of the two): members follow at once, the version goes up.
    body = await gql(
        UPDATE,
        {"input": {"segmentId": segment["id"], "rules": rules(consent, depositor, match="ANY")}},
        token=marketing.token,
    )
    updated = body["data"]["updateSegment"]
    assert updated["errors"] == []
    assert updated["segment"]["version"] == 2
    assert await member_ids(rt, segment["id"]) == {sweden.uuid, quiet.uuid}

    # The contract the other CRM parts read.
    async with rt.database.session() as db:
        row = await db.get(CrmSegment, uuid.UUID(_node(segment["id"])))
        assert row is not None
        assert await membership.evaluate(db, row, quiet.uuid) is True
        assert await membership.evaluate(db, row, malta.uuid) is False
        assert await membership.segments_of(db, sweden.uuid) == [row.id]


async def test_language_and_time_zone_at_registration_and_in_the_profile(
    gql: Any, rt: Any, make_player: Any, make_staff: Any, pipeline: Pipeline
) -> None:
    marketing = await make_staff("marketing")
    player = await make_player(language="pt_br", timeZone="America/Sao_Paulo")
    segment = await _create(
        gql, marketing, "German speakers", rules({"field": "LANGUAGE", "op": "IN", "values": ["de"]})
    )
    body = await gql(PROFILE, {"input": {"language": "de", "timeZone": "Europe/Berlin"}}, token=player.token)
    assert body["data"]["updateProfile"] == {
        "player": {"language": "de", "timeZone": "Europe/Berlin"},
        "errors": [],
    }
    await pipeline.settle()
    assert await member_ids(rt, segment["id"]) == {player.uuid}
    async with rt.database.session() as db:
        topics = (
            (await db.execute(text("SELECT topic FROM outbox_events WHERE key = :k"), {"k": f"player:{player.uuid}"}))
            .scalars()
            .all()
        )
    assert "player.locale_changed" in topics

    for change, field in (({"language": "xx"}, "language"), ({"timeZone": "Mars/Olympus"}, "timeZone")):
        body = await gql(PROFILE, {"input": change}, token=player.token)
        assert body["data"]["updateProfile"]["errors"] == [{"code": "INVALID_INPUT", "field": field}]
    body = await gql(
        "mutation($input: RegisterPlayerInput!) { registerPlayer(input: $input) { errors { code field } } }",
        {"input": {"brand": "royal", "email": "tz@example.com", "password": PASSWORD,
                   "dateOfBirth": "1990-01-01", "country": "MT", "currency": "EUR", "timeZone": "../../etc/passwd"}},
    )  # fmt: skip
    assert body["data"]["registerPlayer"]["errors"] == [{"code": "INVALID_INPUT", "field": "timeZone"}]


async def test_static_segment_upload_by_ids_and_emails(
    gql: Any, rt: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    marketing = await make_staff("marketing")
    first, second = await make_player(), await make_player()
    stranger = await make_player(brand_code="northstar", country="SE", currency="SEK")
    body = await gql(CREATE, {"input": {"name": "VIP list", "kind": "STATIC"}}, token=marketing.token)
    segment = body["data"]["createSegment"]["segment"]
    listed = f"player_id\n{first.uuid}\n{second.email.upper()},note\n{stranger.uuid}\nnot-an-id\n{first.uuid}\n"
    # The figures of an upload tell which addresses are players: only staff who read players' addresses list them.
    body = await gql(UPLOAD, {"input": {"segmentId": segment["id"], "members": listed}}, token=marketing.token)
    assert [e["code"] for e in body["data"]["uploadSegmentMembers"]["errors"]] == ["NOT_ALLOWED"]
    admin = await make_staff("brand_admin")
    body = await gql(UPLOAD, {"input": {"segmentId": segment["id"], "members": listed}}, token=admin.token)
    upload = body["data"]["uploadSegmentMembers"]
    assert upload["errors"] == [], upload
    assert (upload["added"], upload["already"], upload["notFound"], upload["badLines"]) == (2, 1, 2, [4, 5])
    assert upload["segment"]["size"] == 2
    body = await gql(MEMBERS, {"id": segment["id"]}, token=marketing.token)
    assert {e["node"]["id"] for e in body["data"]["segment"]["members"]["edges"]} == {first.id, second.id}

    # A dynamic segment takes no uploads; the contract's add_member refuses it too.
    dynamic = await _create(gql, marketing, "Everyone", rules())
    body = await gql(UPLOAD, {"input": {"segmentId": dynamic["id"], "members": str(first.uuid)}}, token=marketing.token)
    assert body["data"]["uploadSegmentMembers"]["errors"][0]["code"] == "INVALID_STATE"
    async with rt.database.transaction() as db:
        await membership.add_member(db, uuid.UUID(_node(segment["id"])), stranger.uuid)  # another brand: left out
    assert await member_ids(rt, segment["id"]) == {first.uuid, second.uuid}


async def test_bad_rules_are_refused_with_the_condition_named(gql: Any, make_staff: Any) -> None:
    marketing = await make_staff("marketing")
    cases = [
        ({"field": "COUNTRY", "op": "GTE", "value": 3}, "rules.conditions.0.op"),
        ({"field": "DEPOSIT_COUNT", "op": "GTE"}, "rules.conditions.0.value"),
        ({"field": "NGR", "op": "GTE", "amount": "10.001", "currency": "EUR"}, "rules.conditions.0.amount"),
        ({"field": "VIP_LEVEL", "op": "GTE", "value": 1, "days": 7}, "rules.conditions.0.days"),
        ({"field": "DEPOSIT_AMOUNT", "op": "GTE", "amount": "10", "currency": "XXX"}, "rules.conditions.0.currency"),
    ]
    for condition, field in cases:
        body = await gql(
            CREATE, {"input": {"name": "Bad", "kind": "DYNAMIC", "rules": rules(condition)}}, token=marketing.token
        )
        errors = body["data"]["createSegment"]["errors"]
        assert errors, condition
        assert errors[0]["field"] == field, (condition, errors)
        body = await gql(PREVIEW, {"rules": rules(condition)}, token=marketing.token)
        assert body["data"]["segmentPreview"] is None, body
        assert error_codes(body) == ["BAD_USER_INPUT"], body


async def test_metrics_rules_read_the_projection(
    gql: Any, rt: Any, make_player: Any, make_staff: Any, pipeline: Pipeline
) -> None:
    marketing = await make_staff("marketing")
    big, small = await make_player(), await make_player()
    await fund(rt, big, "150.00 EUR", deposit=True)
    await fund(rt, small, "15.00 EUR", deposit=True)
    async with rt.database.transaction() as db:
        await db.execute(
            text("INSERT INTO crm_player_tags (player_id, tag, source) VALUES (:p, 'vip-3', 'staff')"), {"p": big.uuid}
        )
    await pipeline.settle()
    cases = [
        ({"field": "DEPOSIT_AMOUNT", "op": "GTE", "amount": "100", "currency": "eur", "days": 7}, {big.id}),
        ({"field": "DAYS_SINCE_LAST_DEPOSIT", "op": "LTE", "value": 0}, {big.id, small.id}),
        ({"field": "VIP_LEVEL", "op": "GTE", "value": 2}, {big.id}),
        ({"field": "TAG", "op": "NOT_IN", "values": ["vip-3"]}, {small.id}),
        ({"field": "KYC_STATUS", "op": "IN", "values": ["none", "verified", "action_required"]}, {big.id, small.id}),
        ({"field": "DAYS_SINCE_REGISTRATION", "op": "EQ", "value": 0}, {big.id, small.id}),
        ({"field": "BONUSES_ISSUED", "op": "EQ", "value": 0}, {big.id, small.id}),
        ({"field": "RISK_SCORE", "op": "LT", "value": 100}, {big.id, small.id}),
        ({"field": "NGR", "op": "GT", "amount": "0", "currency": "EUR"}, set()),
    ]
    admin = await make_staff("brand_admin")  # reads every player field: KYC and risk conditions too
    for condition, expected in cases:
        body = await gql(PREVIEW, {"rules": rules(condition), "limit": 10}, token=admin.token)
        assert {p["id"] for p in body["data"]["segmentPreview"]["players"]} == expected, condition
    # Marketing may not read a player's KYC state or risk score, so it may not select players by them either.
    for condition, needed in ((cases[4][0], "Player.kyc"), (cases[7][0], "Player.risk")):
        body = await gql(PREVIEW, {"rules": rules(condition), "limit": 10}, token=marketing.token)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        assert needed in body["errors"][0]["message"]
        made = await gql(CREATE, {"input": {"name": "Risky", "kind": "DYNAMIC", "rules": rules(condition)}},
                         token=marketing.token)  # fmt: skip
        assert [(e["code"], e["field"]) for e in made["data"]["createSegment"]["errors"]] == [
            ("NOT_ALLOWED", "rules.conditions.0.field")
        ]
    # Time moves recency on: the sweep re-evaluates everyone.
    segment = await _create(
        gql, marketing, "Fresh", rules({"field": "DAYS_SINCE_LAST_DEPOSIT", "op": "LT", "value": 3})
    )
    assert await member_ids(rt, segment["id"]) == {big.uuid, small.uuid}
    clock.advance(timedelta(days=5))
    changed = await sweep.sweep(rt)
    assert changed.left >= 2
    assert await member_ids(rt, segment["id"]) == set()


async def test_brands_are_kept_apart_and_lists_count_statements(
    gql: Any, rt: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    royal = await make_staff("marketing")
    northstar = await make_staff(("marketing", "northstar"))
    support = await make_staff("support")
    for i in range(3):
        await _create(gql, royal, f"Royal {i}", rules({"field": "COUNTRY", "op": "IN", "values": ["MT"]}))
    query = "{ segments(first: 10) { edges { node { id name size rules { match } } } } }"
    with recorded_statements(rt) as statements:
        body = await gql(query, token=royal.token)
    assert len(body["data"]["segments"]["edges"]) == 3
    assert len(statements) <= 4, statements  # the page, its count or look-ahead, and one for every size
    body = await gql(query, token=northstar.token)
    assert body["data"]["segments"]["edges"] == []
    body = await gql(query, token=support.token)
    assert body["data"]["segments"] is None
    assert error_codes(body) == ["FORBIDDEN"]


async def _create(gql: Any, staff: Any, name: str, segment_rules: dict[str, Any]) -> dict[str, Any]:
    body = await gql(CREATE, {"input": {"name": name, "kind": "DYNAMIC", "rules": segment_rules}}, token=staff.token)
    payload = body["data"]["createSegment"]
    assert payload["errors"] == [], payload
    segment: dict[str, Any] = payload["segment"]
    return segment


def _node(global_id: str) -> str:
    from strawberry import relay

    return relay.GlobalID.from_id(global_id).node_id


async def test_demo_segments_seed_twice_without_duplicates(rt: Any, brand: Any, make_player: Any) -> None:
    from integrations.demo.crm_segments import seed_crm_segments

    carla = await make_player(email="carla@example.com")
    for _ in range(2):
        await seed_crm_segments(rt)
    async with rt.database.session() as db:
        names = (await db.execute(text("SELECT name, kind FROM crm_segments ORDER BY name"))).all()
        vips = await db.scalar(text("SELECT id FROM crm_segments WHERE kind = 'static'"))
    assert [tuple(row) for row in names] == [("Active depositors with consent", "dynamic"), ("Demo VIPs", "static")]
    async with rt.database.session() as db:
        assert await membership.segments_of(db, carla.uuid) == [vips]

    from tests.test_audit import run_cli

    code, output = await run_cli("segments", "sweep")  # from cron where no server runs
    assert code == 0, output
    assert "0 joined, 0 left" in output


async def test_a_static_list_arrives_as_a_csv_file_in_a_multipart_request(
    gql: Any, client: Any, make_player: Any, make_staff: Any
) -> None:
    import json

    marketing = await make_staff("marketing")
    listed = await make_player()
    body = await gql(CREATE, {"input": {"name": "From a file", "kind": "STATIC"}}, token=marketing.token)
    segment_id = body["data"]["createSegment"]["segment"]["id"]
    operations = {"query": UPLOAD, "variables": {"input": {"segmentId": segment_id, "file": None}}}
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": ("players.csv", f"\ufeffplayer_id,note\n{listed.uuid},x\n".encode(), "text/csv")},
        headers={"Apollo-Require-Preflight": "true", "Authorization": f"Bearer {marketing.token}"},
    )
    client.cookies.clear()
    upload = response.json()["data"]["uploadSegmentMembers"]
    assert upload["errors"] == [], upload
    assert (upload["added"], upload["notFound"]) == (1, 0)
    body = await gql(UPLOAD, {"input": {"segmentId": segment_id}}, token=marketing.token)
    assert body["data"]["uploadSegmentMembers"]["errors"][0]["field"] == "members"  # neither text nor file
