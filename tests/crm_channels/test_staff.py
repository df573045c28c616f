"""Staff over GraphQL: marketing saves templates (checked in the sandbox) and sends one to a segment (once per
batch key), the message log with its filters and a constant number of statements, and who may do what."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from strawberry import relay

from tests.conftest import error_codes, recorded_statements
from tests.crm_channels.conftest import WELCOME_HTML, Channels, make_segment

SAVE = """mutation($input: SaveCrmTemplateInput!) { saveCrmTemplate(input: $input) {
  template { id key language subject version } errors { code field message } } }"""
SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  batchId members queued alreadyQueued errors { code field message } } }"""
LOG = """query($filter: CrmMessageFilter) { crmMessages(filter: $filter, first: 50) { edges { node {
  id playerId channel product template language status reason sourceKind sourceId subject attempts sentAt } } } }"""
TEMPLATES = """{ crmTemplates { key language subject version } }"""
SELF_EXCLUDE = """mutation { selfExclude(input: {length: SIX_MONTHS, confirm: true}) { errors { code } } }"""


def template_input(**changes: Any) -> dict[str, Any]:
    return {
        "input": {
            "key": "spring",
            "language": "en",
            "subject": "Spring at {{ brand.name }}",
            "bodyHtml": WELCOME_HTML,
            "bodyText": "Hello {{ player.first_name }}: {{ offer }}",
            **changes,
        }
    }


async def test_marketing_saves_templates_and_a_broken_one_is_refused_with_its_part(
    gql: Any, make_staff: Any, make_player: Any, other_brand: Any
) -> None:
    marketing = await make_staff("marketing")
    saved = (await gql(SAVE, template_input(), token=marketing.token))["data"]["saveCrmTemplate"]
    assert saved["errors"] == []
    assert saved["template"]["version"] == 1
    changed = (await gql(SAVE, template_input(subject="Spring!"), token=marketing.token))["data"]["saveCrmTemplate"]
    assert (changed["template"]["subject"], changed["template"]["version"]) == ("Spring!", 2)

    broken = await gql(SAVE, template_input(bodyHtml="<p>{% if %}</p>"), token=marketing.token)
    [error] = broken["data"]["saveCrmTemplate"]["errors"]
    assert (error["code"], error["field"]) == ("INVALID_INPUT", "bodyHtml")
    for bad, field in (
        ({"key": "Not A Key"}, "key"),
        ({"language": "english"}, "language"),
        ({"bodyText": " "}, "bodyText"),
    ):
        [error] = (await gql(SAVE, template_input(**bad), token=marketing.token))["data"]["saveCrmTemplate"]["errors"]
        assert error["field"] == field
    elsewhere = await gql(SAVE, template_input(brandCode="northstar"), token=marketing.token)
    assert elsewhere["data"]["saveCrmTemplate"]["errors"][0]["field"] == "brandCode"

    listed = (await gql(TEMPLATES, token=marketing.token))["data"]["crmTemplates"]
    assert listed == [{"key": "spring", "language": "en", "subject": "Spring!", "version": 2}]
    player = await make_player()
    for token in (player.token, (await make_staff("support")).token):
        assert error_codes(await gql(SAVE, template_input(), token=token)) == ["FORBIDDEN"]


async def test_a_send_to_a_segment_queues_each_member_once_and_the_log_shows_who_was_suppressed_and_why(
    rt: Any, gql: Any, make_staff: Any, channels: Channels, brand: Any, consenting: Any
) -> None:
    marketing = await make_staff("marketing")
    assert (await gql(SAVE, template_input(), token=marketing.token))["data"]["saveCrmTemplate"]["errors"] == []
    fine, excluded = await consenting(), await consenting()
    assert (await gql(SELF_EXCLUDE, token=excluded.token))["data"]["selfExclude"]["errors"] == []
    segment = await make_segment(rt, brand.id, [fine.uuid, excluded.uuid])
    request = {
        "input": {
            "segmentId": relay.GlobalID("CrmSegment", str(segment)).__str__(),
            "template": "spring",
            "channel": "EMAIL",
            "product": "casino",
            "batchKey": "2026-spring",
            "context": {"offer": "20 spins"},
        }
    }
    sent = (await gql(SEND, request, token=marketing.token))["data"]["sendMessage"]
    assert (sent["errors"], sent["members"], sent["queued"], sent["alreadyQueued"]) == ([], 2, 2, 0)
    again = (await gql(SEND, request, token=marketing.token))["data"]["sendMessage"]
    assert (again["batchId"], again["queued"], again["alreadyQueued"]) == (sent["batchId"], 0, 2)

    await channels.settle()
    assert [m.recipients for m in channels.smtp.mails] == [[fine.email]]
    assert "20 spins" in channels.smtp.mails[0].text

    support = await make_staff("support")
    log = (await gql(LOG, {"filter": {"sourceId": sent["batchId"]}}, token=support.token))["data"]["crmMessages"]
    rows = {uuid.UUID(e["node"]["playerId"]): e["node"] for e in log["edges"]}
    assert (rows[fine.uuid]["status"], rows[fine.uuid]["subject"], rows[fine.uuid]["sentAt"] is not None) == (
        "SENT",
        "Spring at Royal Casino",
        True,
    )
    assert (rows[excluded.uuid]["status"], rows[excluded.uuid]["reason"]) == ("SUPPRESSED", "SELF_EXCLUDED")
    assert {r["sourceKind"] for r in rows.values()} == {"staff_send"}
    only = await gql(LOG, {"filter": {"reason": "SELF_EXCLUDED", "playerId": excluded.id}}, token=support.token)
    assert [e["node"]["playerId"] for e in only["data"]["crmMessages"]["edges"]] == [str(excluded.uuid)]

    refused = {
        "input": {**request["input"], "segmentId": str(uuid.uuid4())},
        "template": {**request["input"], "template": "nothing"},
        "batch": {**request["input"], "batchKey": " "},
    }
    assert (await gql(SEND, {"input": refused["input"]}, token=marketing.token))["data"]["sendMessage"]["errors"][0][
        "field"
    ] == "segmentId"
    assert (await gql(SEND, {"input": refused["template"]}, token=marketing.token))["data"]["sendMessage"]["errors"][0][
        "field"
    ] == "template"
    assert (await gql(SEND, {"input": refused["batch"]}, token=marketing.token))["data"]["sendMessage"]["errors"][0][
        "field"
    ] == "batchKey"
    assert error_codes(await gql(SEND, request, token=support.token)) == ["FORBIDDEN"]


async def test_the_log_is_brand_scoped_denied_to_players_and_reads_in_constant_statements(
    rt: Any, gql: Any, make_staff: Any, make_player: Any, brand: Any, other_brand: Any
) -> None:
    from services.crm.channels import queue

    async def queue_for(player: Any, brand_id: uuid.UUID) -> None:
        async with rt.database.transaction() as db:
            await queue.enqueue(
                db, brand_id=brand_id, player_id=player.uuid, channel="email", product="casino", template="spring",
                context={}, idempotency_key=str(uuid.uuid4()), source_kind="journey",
            )  # fmt: skip

    support = await make_staff("support")

    async def statements() -> tuple[int, int]:
        with recorded_statements(rt) as seen:
            body = await gql(LOG, token=support.token)
        assert "errors" not in body, body
        return len(seen), len(body["data"]["crmMessages"]["edges"])

    for _ in range(2):
        await queue_for(await make_player(), brand.id)
    few = await statements()
    for _ in range(5):
        await queue_for(await make_player(), brand.id)
    north = await make_player(brand_code="northstar", country="SE", currency="SEK")
    await queue_for(north, other_brand.id)
    many = await statements()
    assert (few[1], many[1]) == (2, 7)  # not the other brand's
    assert few[0] == many[0]
    player = await make_player()
    assert error_codes(await gql(LOG, token=player.token)) == ["FORBIDDEN"]
    async with rt.database.session() as db:
        assert await db.scalar(text("SELECT count(*) FROM crm_messages")) == 8


async def test_the_demo_templates_seed_once_and_render(rt: Any, brand: Any) -> None:
    from integrations.demo.crm_channels_seed import DEMO_TEMPLATES, seed_crm_templates
    from services.crm.channels import templates

    first = await seed_crm_templates(rt)
    assert await seed_crm_templates(rt) == first
    async with rt.database.session() as db:
        versions = (await db.execute(text("SELECT key, language, version FROM crm_templates ORDER BY 1, 2"))).all()
        chosen = await templates.choose(db, brand.id, "welcome", "fr")  # no French: the brand's default
    assert [tuple(v) for v in versions] == sorted((k, lang, 1) for k, lang, *_ in DEMO_TEMPLATES)
    rendered = templates.render(
        chosen, {"player": {"first_name": "Ada"}, "brand": {"name": "Royal"}, "unsubscribe_url": "https://u.example/x"}
    )
    assert (rendered.language, rendered.subject) == ("en", "Welcome to Royal, Ada")
    assert 'href="https://u.example/x"' in rendered.html


async def test_a_template_with_an_unknown_filter_or_test_is_refused_on_save(gql: Any, make_staff: Any) -> None:
    marketing = await make_staff("marketing")
    for part, source in (
        ("bodyHtml", "<p>{{ offer|no_such_filter }}</p>"),
        ("bodyText", "{{ offer is no_such_test }}"),
        ("subject", "{{ brand.name|no_such_filter }}"),
    ):
        saved = (await gql(SAVE, template_input(**{part: source}), token=marketing.token))["data"]["saveCrmTemplate"]
        assert [(e["code"], e["field"]) for e in saved["errors"]] == [("INVALID_INPUT", part)]
