"""Issue 20's "Done when", end to end through the public surfaces: marketing builds a segment and a journey in the
back office (the browser, on the live server); demo players flow through it — the eligible ones get the journey's
email on a real SMTP server and its bonus offer, the suppressed ones (no marketing consent, unsubscribed through a
message's one-click link, timed out, self-excluded) get nothing and the logs say why; the segment sees its own
lobby and banner; an A/B test of its lobby reports its result; and the books stay clean (the suite's autouse
check runs `ledger verify` and `reports verify` after the test).

The server's CRM consumers (`reports`, `crm-segments`, `crm-suppression`, `crm-journeys`), the journeys' clock
worker and the CRM sender run as the server runs them, driven by the test at the moments it chooses (as
tests/affiliates/test_done_when.py and tests/crm_channels do): no sleeping, the clock moves.

The journey (registered, entry segment → wait an hour → email → bonus offer) decides for the segment's newcomers
while all of them may still be reached; during the hour one times out, one self-excludes and one unsubscribes, so
the one check (services/crm/suppression.py) refuses them right before the send and the offer, and says why."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from playwright.async_api import expect
from strawberry import relay

from core.clock import clock
from core.consumers import Runner
from core.outbox import asyncpg_dsn
from services.crm.channels.sender import Sender
from services.crm.experiments.assignment import bucket_of
from services.crm.journeys import clock as journey_clock
from services.crm.journeys.consumer import JourneysConsumer
from services.crm.segments.consumer import SegmentsConsumer
from services.crm.suppression_consumer import SuppressionConsumer
from services.reports.projection import ReportsProjection
from tests.backoffice.browser.conftest import browser, cell, page, sign_in  # noqa: F401  (fixtures)
from tests.cashier.conftest import card_deposit, psp  # noqa: F401  (fixtures)
from tests.conftest import DATABASE_URL
from tests.crm_channels.conftest import smtp  # noqa: F401  (fixture: the real SMTP server)
from tests.crm_channels.servers import SmtpServer
from tests.crm_content.conftest import BANNERS, texts
from tests.crm_content.conftest import CREATE as CREATE_CONTENT
from tests.crm_content.conftest import PUBLISH as PUBLISH_CONTENT
from tests.crm_experiments.conftest import RESULT, START, create
from tests.crm_lobby.conftest import CREATE_LAYOUT, LOBBY, codes
from tests.games.conftest import gid, make_category, make_game, provider  # noqa: F401  (fixtures)
from tests.rg.conftest import login

SAVE_TEMPLATE = """mutation($input: SaveCrmTemplateInput!) { saveCrmTemplate(input: $input) {
  template { key language } errors { code field message } } }"""
CREATE_CAMPAIGN = """mutation($input: CreateBonusCampaignInput!) {
  createBonusCampaign(input: $input) { campaign { id } errors { code field message } } }"""
CAMPAIGN_STATUS = """mutation($input: SetBonusCampaignStatusInput!) {
  setBonusCampaignStatus(input: $input) { errors { code message } } }"""
CREATE_SEGMENT = """mutation($input: CreateSegmentInput!) { createSegment(input: $input) {
  segment { id } errors { code field message } } }"""
UPLOAD = """mutation($input: UploadSegmentMembersInput!) { uploadSegmentMembers(input: $input) {
  added notFound errors { code field message } } }"""
SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  queued errors { code field message } } }"""
SET_CONSENTS = """mutation($input: SetConsentsInput!) { setConsents(input: $input) { errors { code field } } }"""
TIME_OUT = """mutation { takeTimeOut(input: {length: WEEK}) { errors { code } } }"""
SELF_EXCLUDE = """mutation { selfExclude(input: {length: ONE_YEAR, confirm: true}) { errors { code } } }"""
MESSAGES = """query($filter: CrmMessageFilter) { crmMessages(filter: $filter, first: 50) { edges { node {
  playerId channel template status reason sourceKind } } } }"""
SUPPRESSIONS = """query($id: ID!) { node(id: $id) { ... on Player {
  crmSuppressions(first: 20) { edges { node { purpose channel product reason sourceKind } } } } } }"""
JOURNEYS = """{ journeys(first: 10) { edges { node { id name status runs(first: 20) { edges { node {
  playerId status reason steps { kind outcome reason } } } } } } } }"""
MINE = """{ me { bonuses { campaignId status } inbox(first: 10) { edges { node { subject } } } } }"""

WELCOME = {
    "subject": "{{ brand.name }}: a bonus waits for you",
    "bodyHtml": "<p>Hello {{ player.first_name }}, your first deposit is matched.</p>",
    "bodyText": "Hello {{ player.first_name }}, your first deposit is matched.",
}
NEWS = {"subject": "Spring news", "bodyHtml": "<p>News</p>", "bodyText": "News"}
MATCH = {"max_bonus": {"EUR": "50.00"}, "wagering_multiplier": 2, "max_bet": {"EUR": "5.00"}}


def node_uuid(global_id: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(global_id).node_id)


def ok(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][field]
    assert payload["errors"] == [], payload
    return payload


async def signed_in(gql: Any, player: Any) -> str:
    payload = await login(gql, player)
    assert payload["errors"] == [], payload
    token: str = payload["tokens"]["accessToken"]
    return token


@dataclass
class Server:
    """The server's CRM background work, one round at a time: the consumers of the event stream, the journeys'
    clock worker and the CRM sender against the test's SMTP server."""

    rt: Any
    conn: asyncpg.Connection
    runners: list[Runner]
    sender: Sender
    smtp: SmtpServer

    async def consume(self) -> None:
        for runner in self.runners:  # the server's order: the projection first, the journeys last
            await runner.drain(self.conn)

    async def tick(self) -> None:
        """What the journeys' clock and the sender do at this moment, until nothing more is due now."""
        await journey_clock.time_triggers(self.rt)
        while await journey_clock.run_due(self.rt):
            pass
        while await self.sender.step(self.rt):
            pass


@pytest.fixture
async def server(rt: Any, smtp: SmtpServer) -> AsyncIterator[Server]:  # noqa: F811
    smtp.clear()
    dsn = asyncpg_dsn(DATABASE_URL)
    consumers = [ReportsProjection(), SegmentsConsumer(), SuppressionConsumer(), JourneysConsumer()]
    runners = [Runner(c, dsn, rt.redis, member=f"e2e-{uuid.uuid4().hex[:6]}") for c in consumers]
    configured = rt.settings.model_copy(update={"crm_smtp_port": smtp.port, "crm_send_timeout_seconds": 5.0})
    conn = await asyncpg.connect(dsn)
    try:
        async with Sender.client(configured) as http:
            yield Server(rt, conn, runners, Sender(configured, http), smtp)
    finally:
        await conn.close()


async def build_segment_and_journey(page: Any, marketer: Any, campaign_id: uuid.UUID) -> uuid.UUID:  # noqa: F811
    """Marketing, in the back office: the segment of the Maltese players (its live size before saving), then the
    journey for the segment's newcomers. Returns the segment's id."""
    await sign_in(page, marketer)
    await page.get_by_role("link", name="Segments").click()
    builder = page.get_by_role("form", name="Segment builder")
    await builder.get_by_label("Name").fill("Malta")
    await builder.get_by_label("Condition 1").get_by_label("Values").fill("MT")
    await expect(builder.get_by_label("Live size").locator("strong")).to_have_text("1")  # Oli; not the Swede
    await builder.get_by_role("button", name="Create segment").click()
    await expect(page.get_by_role("status").first).to_contain_text("Segment Malta saved.")
    row = cell(page, "Malta")
    await expect(row.locator("td.num")).to_have_text("1")
    segment_id = node_uuid(str(await row.get_attribute("data-segment")))

    await page.get_by_role("link", name="Journeys").click()
    await page.get_by_role("button", name="New journey").click()
    editor = page.get_by_role("form", name="Journey editor")
    await editor.get_by_label("Name").fill("Welcome match")

    async def field(label: str, value: str) -> None:
        await editor.get_by_label(label).fill(value)
        await editor.get_by_label(label).dispatch_event("change")

    await expect(editor.get_by_label("Trigger")).to_have_value("registered")
    await editor.get_by_label("Entry segment").select_option(label="Malta")  # picked by name
    await editor.get_by_label("Quiet hours (player's time)").uncheck()
    await field("Template of step 1", "first-deposit-match")
    for kind in ("offer", "wait"):
        await editor.get_by_label("New step").select_option(kind)
        await editor.get_by_role("button", name="Add step").click()
    await editor.get_by_label("Move step 3 up").click()
    await editor.get_by_label("Move step 2 up").click()  # wait, send, offer
    await editor.get_by_label("Campaign of step 3").select_option(label="First deposit match")  # picked by name
    await expect(editor.get_by_label("Minutes of step 1")).to_have_value("60")
    await editor.get_by_role("button", name="Save draft").click()
    await expect(page.get_by_role("status")).to_contain_text("Draft saved: Welcome match v1.")
    await editor.get_by_role("button", name="Activate").click()
    await expect(page.get_by_role("status")).to_contain_text("Welcome match v1 is active.")
    return segment_id


async def test_marketing_reaches_the_eligible_never_the_suppressed_and_a_segment_gets_its_lobby_banner_and_ab_test(
    rt: Any, gql: Any, client: Any, page: Any, brand: Any, make_player: Any, make_staff: Any,  # noqa: F811
    server: Server, card_deposit: Any, make_game: Any, make_category: Any,  # noqa: F811
) -> None:  # fmt: skip
    marketing = await make_staff("marketing")  # GraphQL
    marketer = await make_staff("marketing", login=False)  # the browser
    for key, parts in (("first-deposit-match", WELCOME), ("spring-news", NEWS)):
        saved = await gql(SAVE_TEMPLATE, {"input": {"key": key, "language": "en", **parts}}, token=marketing.token)
        ok(saved, "saveCrmTemplate")
    made = await gql(
        CREATE_CAMPAIGN, {"input": {"name": "First deposit match", "kind": "DEPOSIT_MATCH", "rules": MATCH}},
        token=marketing.token,
    )  # fmt: skip
    campaign = ok(made, "createBonusCampaign")["campaign"]["id"]
    ok(await gql(CAMPAIGN_STATUS, {"input": {"campaignId": campaign, "status": "ACTIVE"}}, token=marketing.token),
       "setBonusCampaignStatus")  # fmt: skip

    # Before: Oli, a Maltese regular, and Sam, a Swede. Marketing builds the segment and the journey in the back
    # office.
    oli = await make_player(email="oli@example.com", firstName="Oli", marketingConsent=True)
    await make_player(email="sam@example.com", country="SE", marketingConsent=True)
    await server.consume()
    segment = await build_segment_and_journey(page, marketer, node_uuid(campaign))
    segment_gid = str(relay.GlobalID("Segment", str(segment)))

    # The demo players sign up: Ann and Ben may be reached; Cid never agreed to marketing; Dee, Eve and Fay agreed
    # (for now); Zed is Swedish, outside the segment. The journey decides at once: the segment's six enter it.
    names = ("ann", "ben", "cid", "dee", "eve", "fay")
    people = {
        name: await make_player(email=f"{name}@example.com", firstName=name.title(), marketingConsent=name != "cid")
        for name in names
    }
    zed = await make_player(email="zed@example.com", country="SE", marketingConsent=True)
    ann, ben, cid, dee, eve, fay = (people[n] for n in names)
    await server.consume()
    await server.tick()
    runs = await server.conn.fetch("SELECT player_id, status, reason FROM crm_journey_runs")
    entered = {r["player_id"] for r in runs if r["status"] == "active"}
    assert entered == {p.uuid for p in people.values()}, runs
    assert [(r["status"], r["reason"]) for r in runs if r["player_id"] == zed.uuid] == [("skipped", "NOT_IN_SEGMENT")]
    assert len(runs) == 7  # Oli registered before the journey: no trigger for him

    # During the hour the journey waits: Eve takes a week's time-out and Fay excludes herself (both leave every
    # audience at once); Dee turns off on-site messages and unsubscribes from a newsletter's e-mails with its
    # one-click link (RFC 8058).
    ok(await gql(TIME_OUT, token=eve.token), "takeTimeOut")
    ok(await gql(SELF_EXCLUDE, token=fay.token), "selfExclude")
    no_inbox = {"consents": [{"product": "casino", "channel": "inbox", "granted": False}]}
    ok(await gql(SET_CONSENTS, {"input": no_inbox}, token=dee.token), "setConsents")
    listed = ok(await gql(CREATE_SEGMENT, {"input": {"brand": "royal", "name": "Newsletter", "kind": "STATIC"}},
                          token=marketing.token), "createSegment")["segment"]["id"]  # fmt: skip
    ok(await gql(UPLOAD, {"input": {"segmentId": listed, "members": str(dee.uuid)}}, token=marketing.token),
       "uploadSegmentMembers")  # fmt: skip
    news = {"segmentId": listed, "template": "spring-news", "channel": "EMAIL", "product": "casino", "batchKey": "n1"}
    assert ok(await gql(SEND, {"input": news}, token=marketing.token), "sendMessage")["queued"] == 1
    await server.tick()
    [newsletter] = server.smtp.to(dee.email)
    assert newsletter.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(newsletter.message["List-Unsubscribe"]).strip("<>")
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    unsubscribed = await client.post(
        path, content="List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert unsubscribed.status_code == 200, unsubscribed.text
    await server.consume()
    members = await server.conn.fetch("SELECT player_id FROM crm_segment_members WHERE segment_id = $1", segment)
    assert {ann.uuid, ben.uuid, cid.uuid, oli.uuid} <= {m["player_id"] for m in members}
    assert not {eve.uuid, fay.uuid} & {m["player_id"] for m in members}

    clock.advance(timedelta(minutes=61))
    await server.tick()
    # An hour later every token has expired: staff and players sign in again.
    marketing = await make_staff("marketing")
    support = await make_staff("support")
    editor = await make_staff(("content_manager", None))
    tokens = {p.uuid: await signed_in(gql, p) for p in (ann, ben, cid, dee, zed)}

    # Ann and Ben: the email on the SMTP server (with its unsubscribe headers), and the bonus offer.
    for player in (ann, ben):
        [mail] = server.smtp.to(player.email)
        assert mail.message["Subject"] == "Royal Casino: a bonus waits for you"
        assert f"Hello {player.email.split('@')[0].title()}" in mail.text
        assert mail.message["List-Unsubscribe"]
        mine = await gql(MINE, token=tokens[player.uuid])
        assert mine["data"]["me"]["bonuses"] == [{"campaignId": campaign, "status": "ISSUED"}], mine
    # The others: nothing — no email (Dee only the newsletter she left), no inbox message, no bonus offer.
    assert sorted(r for m in server.smtp.mails for r in m.recipients) == [ann.email, ben.email, dee.email]
    for player in (cid, dee, eve, fay, zed):
        bonuses = await server.conn.fetchval("SELECT count(*) FROM player_bonuses WHERE player_id = $1", player.uuid)
        assert bonuses == 0, player.email
    log = await gql(MESSAGES, {"filter": {"sourceKind": "journey"}}, token=support.token)
    assert "errors" not in log, log
    sent = sorted((e["node"]["playerId"], e["node"]["channel"], e["node"]["status"])
                  for e in log["data"]["crmMessages"]["edges"])  # fmt: skip
    assert sent == sorted((str(p.uuid), "EMAIL", "SENT") for p in (ann, ben)), sent
    for player in (cid, dee):  # their inboxes are empty (Eve and Fay: the message log above has nothing of theirs)
        mine = await gql(MINE, token=tokens[player.uuid])
        assert mine["data"]["me"]["inbox"]["edges"] == [], mine

    # Why not, for each: the suppression log (support reads it on the player) and the journey's run log.
    why = {  # player (by e-mail) → the send's and the offer's refusal
        cid.email: [("message", "email", "NO_CONSENT"), ("offer", None, "NO_CONSENT")],
        dee.email: [("message", "email", "UNSUBSCRIBED"), ("offer", None, "NO_CONSENT")],
        eve.email: [("message", "email", "TIMED_OUT"), ("offer", None, "TIMED_OUT")],
        fay.email: [("message", "email", "SELF_EXCLUDED"), ("offer", None, "SELF_EXCLUDED")],
    }
    by_email = {p.email: p for p in people.values()}
    for email, reasons in why.items():
        player = by_email[email]
        body = await gql(SUPPRESSIONS, {"id": player.id}, token=support.token, brand="royal")
        assert "errors" not in body, body
        logged = [e["node"] for e in body["data"]["node"]["crmSuppressions"]["edges"]]
        assert sorted((n["purpose"], n["channel"], n["reason"]) for n in logged if n["sourceKind"] == "journey") == (
            sorted(reasons, key=str)
        ), (player.email, logged)
    journeys = await gql(JOURNEYS, token=marketing.token)
    assert "errors" not in journeys, journeys
    [journey] = [e["node"] for e in journeys["data"]["journeys"]["edges"]]
    steps = {r["node"]["playerId"]: r["node"] for r in journey["runs"]["edges"]}
    for player in (ann, ben):
        assert steps[str(player.uuid)]["status"] == "COMPLETED"
        assert [(s["kind"], s["outcome"]) for s in steps[str(player.uuid)]["steps"]] == [
            ("wait", "WAITING"), ("send", "DONE"), ("offer", "DONE"),
        ]  # fmt: skip
    for email, reasons in why.items():
        player = by_email[email]
        assert [(s["kind"], s["outcome"], s["reason"]) for s in steps[str(player.uuid)]["steps"]] == [
            ("wait", "WAITING", None), ("send", "SUPPRESSED", reasons[0][2]), ("offer", "SUPPRESSED", reasons[1][2]),
        ]  # fmt: skip
    await page.get_by_role("button", name="Refresh").click()  # the run log in the back office says it too
    await expect(page.get_by_role("table", name="Journey runs")).to_contain_text("SELF_EXCLUDED")

    # The segment sees its own lobby and banner; an A/B test of its lobby layout reports its result.
    slots, tables = await make_category("slots", position=1), await make_category("table", position=2)
    reels = await make_game(code="reels", categories=[slots])
    await make_game(code="poker", categories=[tables])
    design = {"name": "Tables first", "subjectKind": "LOBBY", "subjectId": segment_gid, "holdoutPpm": 0,
              "variants": [{"key": "control", "weight": 1}, {"key": "tables", "weight": 1}]}  # fmt: skip
    experiment = (await create(gql, marketing.token, **design))["experiment"]["id"]
    for name, variant, order in (("Malta", "control", ["slots"]), ("Malta tables", "tables", ["table"])):
        layout = {"name": name, "segmentId": str(segment), "categoryOrder": order, "featuredGameIds": [gid(reels)],
                  "experimentId": experiment, "variant": variant}  # fmt: skip
        ok(await gql(CREATE_LAYOUT, {"input": layout}, token=marketing.token), "createLobbyLayout")
    ok(await gql(START, {"id": experiment}, token=marketing.token), "startExperiment")
    banner = {"brand": "royal", "kind": "BANNER", "key": "home-top", "name": "Malta welcome",
              "content": {"segmentId": segment_gid, "translations": texts(en="Malta, welcome")}}  # fmt: skip
    item = ok(await gql(CREATE_CONTENT, {"input": banner}, token=editor.token), "createContentItem")["item"]["id"]
    ok(await gql(PUBLISH_CONTENT, {"input": {"id": item}}, token=editor.token), "publishContentItem")

    variants = [("control", 1), ("tables", 1)]
    experiment_id = node_uuid(experiment)
    for player in (ann, ben, cid):
        lobby = codes(await gql(LOBBY, token=tokens[player.uuid]))
        first = "table" if bucket_of(experiment_id, player.uuid, variants, 0) == "tables" else "slots"
        assert list(lobby)[:2] == ["featured", first], lobby
        shown = await gql(BANNERS, {"placement": "home-top"}, token=tokens[player.uuid])
        assert [b["title"] for b in shown["data"]["banners"]] == ["Malta, welcome"], shown
    assert list(codes(await gql(LOBBY, token=tokens[zed.uuid]))) == ["slots", "table"]  # the brand's plain lobby
    assert (await gql(BANNERS, {"placement": "home-top"}, token=tokens[zed.uuid]))["data"]["banners"] == []

    await card_deposit(ann, "20.00")  # Ann converts (and her offered match pays out)
    await server.consume()
    result = await gql(RESULT, {"id": experiment}, token=marketing.token)
    assert "errors" not in result, result
    figures = {v["variant"]: v for v in result["data"]["crmExperimentResult"]["variants"]}
    for key, _ in variants:
        viewers = [p for p in (ann, ben, cid) if bucket_of(experiment_id, p.uuid, variants, 0) == key]
        assert (figures[key]["exposed"], figures[key]["converted"]) == (len(viewers), int(ann in viewers)), figures
        if viewers:
            rate = figures[key]["rate"]
            assert rate["low"] <= rate["estimate"] <= rate["high"], rate
    assert figures["control"]["control"] is True
