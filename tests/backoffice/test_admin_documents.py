"""The back office's own GraphQL documents, read from admin/**/*.js (tests/backoffice/documents.py):
every one validates against the checked-in `schema.graphql`, and every list screen costs the same
number of SQL statements for a page of one row as for a page of six (no N+1 behind a screen).

A new admin file is read automatically. A new query document must be classified below: measured in
`SCREENS` (with the data to fill a page) or listed in `UNMEASURED` with the reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema, build_schema, validate

from tests.backoffice.documents import Document, _file_documents, admin_documents
from tests.bonuses.conftest import rules
from tests.conftest import recorded_statements

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = admin_documents()
# One row, then six: an N+1 adds a statement per row, five more here, past the tolerance of `Screen.same_cost` for
# any document of up to five root fields (it asserts so). Twenty rows showed nothing six do not, at three times the
# set-up (each row a player with a deposit, a chargeback or an alert: a third of the suite's longest file).
SMALL, LARGE = 1, 6


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema((ROOT / "schema.graphql").read_text())


# ---- reading the documents -------------------------------------------------------------------------


def test_every_admin_file_is_read_and_every_graphql_string_in_it_is_a_document() -> None:
    assert DOCUMENTS.problems == []
    files = {d.file for d in DOCUMENTS.documents}
    assert {"graphql-client.js", "app/player.js", "app/search.js", "app/withdrawals.js", "app/audit.js"} <= files
    assert len(DOCUMENTS.documents) >= 30


@pytest.mark.parametrize("document", DOCUMENTS.documents, ids=lambda d: d.label)
def test_admin_document_is_valid_against_the_schema(schema: GraphQLSchema, document: Document) -> None:
    assert [error.message for error in validate(schema, document.ast)] == []


def test_the_reader_finds_documents_in_every_form_and_reports_what_it_cannot_read() -> None:
    """The forms the client uses or may use, around the things that trip a naive reader."""
    source = r"""
        const SLASH = /[`'"]/g; // a regular expression with quotes and a backtick in it
        const PART = `fragment P on Player { id email }`;
        const ONE = gql`query One($id: ID!) { player(id: $id) { ...P } } ${PART}`;
        const half = 6 / 3 / 2; /* a division, not a regex: ` */
        class X extends QueryElement {
          query = `query Two { players(first: 2) { edges { node { id } } } }`;
          render() { return html`<p>${this.a ? html`${`query Nope`}` : "{ text }"}</p>`; }
          async go() { await client.mutate(`mutation($input: AddPlayerNoteInput!) {
            addPlayerNote(input: $input) { note { id } } }`, {}); }
          async brands() { return client.query("{ brands { code } }"); }
        }"""
    found, problems = _file_documents("sample.js", source)
    assert problems == []
    assert [(d.binding, d.name, d.kind) for d in found] == [
        ("PART", None, "fragment"),
        ("ONE", "One", "query"),
        ("query", "Two", "query"),
        (None, None, "mutation"),
        (None, None, "query"),
    ]
    assert "fragment P on Player" in found[1].text  # the interpolated fragment is part of the document

    broken = "const Q = `query Broken { players( }`;\nclient.query(Q);"
    assert _file_documents("b.js", broken)[1] == [
        "line 1: not a readable GraphQL document: Syntax Error: Expected Name, found '}'.",
        "line 2: Q is sent as GraphQL but is no document",
        "talks GraphQL but yields no document",
    ]
    unresolved = "const Q = `query Q { ...${name} }`;"
    assert "not a document constant" in _file_documents("u.js", unresolved)[1][0]
    sent = 'client.query("{ unclosed ");\nthis.request(`{ also { unclosed }`);\nclient.mutate("hello");'
    assert _file_documents("s.js", sent)[1] == [
        "line 1: not a readable GraphQL document: Syntax Error: Expected Name, found <EOF>.",
        "line 2: not a readable GraphQL document: Syntax Error: Expected Name, found <EOF>.",
        "line 3: a string sent as GraphQL is not a document",
        "talks GraphQL but yields no document",
    ]
    built = "const q = ['query', 'X'].join(' ');\nclient.query(q);"
    assert _file_documents("d.js", built)[1] == ["talks GraphQL but yields no document"]


# ---- statements per page of each list screen ------------------------------------------------------------


SCREENS: dict[str, str] = {}  # document name -> the test that measures it


def screen(*names: str) -> Callable[[Any], Any]:
    def register(test: Any) -> Any:
        SCREENS.update(dict.fromkeys(names, test.__name__))
        return test

    return register


# Query documents that are not a list screen, each with why it needs no page-size measurement.
UNMEASURED = {
    # Crypto (issue 21): the transfers list is counted in tests/crypto/test_withdrawals.py (two statements a page).
    "CryptoTransfers": "crypto transfers; counted in tests/crypto (one read of the page, one of its payments)",
    # CRM (issue 20): each list's statements are counted for one row and for many in its own folder's tests.
    "Segments": "the segment list; counted in tests/crm_segments (brand scope, constant statements)",
    "Preview": "a segment's size and first players for rules not saved; one statement per preview (crm_segments)",
    "CrmMessages": "the message log; counted for one message and many in tests/crm_channels/test_staff.py",
    "CrmTemplates": "a brand's templates, one query (a flat list by key and language)",
    "Experiments": "the A/B tests list; counted in tests/crm_experiments/test_experiments_graphql.py",
    "Result": "one A/B test's result: one statement over its assignments and the projections",
    "Layouts": "a brand's lobby layouts, a flat list read in one query (crm_lobby)",
    "Journeys": "the journeys list; counted in tests/crm_journeys/test_graphql.py",
    "JourneyRuns": "one journey's runs with their steps; counted in tests/crm_journeys/test_graphql.py",
    "JourneySegments": "the journey editor's segment picker: the segment list (counted in tests/crm_segments)",
    "JourneyCampaigns": "the journey editor's campaign picker: the brand's campaigns, one query",
    "JourneyExperiments": "the journey editor's A/B test picker: the A/B tests list (counted in crm_experiments)",
    "ContentItems": "the content list; counted per page in tests/crm_content/test_content.py",
    "ContentPreview": "what one audience sees: the audience's statements, then the brand's live versions once",
    "PlayerConsents": "one player's consents (a DataLoader); counted in tests/crm_suppression/test_refusal.py",
    "PlayerSuppressions": "one player's suppression log, a page; counted in tests/crm_suppression/test_refusal.py",
    "Routing": "the live routing version and the history: one statement each (tests/cashier/test_routing_rules.py)",
    "RoutingPreview": "one route's explanation: the routing version read once, no list",
    "Profile": "one player",
    "Balances": "one player's balances, one row per currency held",
    "Rg": "one player's RG overview; its history is a fixed page of 10 through one query",
    "Kyc": "one player's KYC overview: a fixed handful of statements (its requirements, its review)",
    "Permissions": "a list of strings computed from the policy, no SQL per item",
    "{ currentStaff }": "the viewer",
    "{ brands }": "a flat list of brands, one query",
    "{ bonusCampaigns }": "a flat list of campaigns, one query",
    "{ player }": "the 360's title: one player and the currencies it holds",
    "{ reportingCurrency }": "a setting, no SQL",
    "ReportExport": "one file of aggregates, asked for by a click; its statements are fixed (tests/reports)",
    "AmlCaseDetail": "one AML case; its notes, evidence and history load through one query each (DataLoaders)",
    "PlayerAmlAlerts": "Player.amlAlerts is the AmlAlerts screen's resolver filtered to one player (measured there)",
    "PlayerScreening": "Player.screeningAlerts is the Screening screen's resolver for one player (measured there)",
    "PlayerFreeRounds": "one player's free-rounds grants: one statement (tests/free_rounds counts it)",
    "Privacy": "one player's privacy view: a fixed number of statements (tests/privacy/test_erasure.py)",
    "PrivacyRequests": "the dpo's queue: a page in at most 4 statements (tests/privacy/test_queue.py)",
    "Evidence": "one dispute's evidence snapshot: a JSON column of its row",
    "PlayerRiskScore": "one player's score and restrictions: one statement each (DataLoaders) whatever their number",
    "Tournament": "one tournament; its prizes are a JSON column, its payouts one statement (tests/tournaments)",
    "TournamentVerification": "one tournament's standings recomputed from its rounds: a fixed set of statements",
    "Jackpot": "one jackpot; its levels and each history list one statement whatever their rows (tests/jackpots_live)",
    "AffiliateFraudFlag": "one flagged sub-id: evidence a JSON column, its players one DataLoader batch, its CPAs one "
    "statement (tests/affiliate_fraud)",
    "AffiliateRun": "one commission run: its totals, deal sums and payouts one statement each; its lines a page in "
    "one statement (tests/affiliate_runs/test_graphql.py counts them)",
    # The partner portal (admin/portal/): its lists run as a partner, so they are measured as one there.
    "PortalLinks": "measured as a partner in tests/affiliate_portal/test_portal_documents.py",
    "PortalTokens": "measured as a partner in tests/affiliate_portal/test_portal_documents.py",
    "PortalStats": "measured as a partner in tests/affiliate_portal/test_portal_documents.py",
    "PortalPartner": "the viewer's partner and its scopes: one statement",
    "PortalCommissions": "measured as a partner in tests/affiliate_portal/test_portal_documents.py",
    "Affiliate": "one partner; its brands, links and portal users one statement each (DataLoaders)",
    "PlayerAffiliate": "one player's attribution: one statement (a DataLoader)",
    "PlayerClosedLoop": "one player's loop shares and exceptions: constant statements whatever their number "
    "(tests/cashier/test_closed_loop.py counts them)",
    "PostbackSecret": "one partner's secret: its fingerprint and date, one statement",
}


class Screen:
    """Runs one back-office document as a superadmin working in the brand `royal`, and counts the SQL
    statements of the request (after a first run, so nothing cached on the way counts)."""

    def __init__(self, rt: Any, gql: Any, staff: Any, name: str) -> None:
        self.rt, self.gql, self.staff = rt, gql, staff
        self.document = DOCUMENTS.named(name)

    async def statements(self, variables: dict[str, Any], rows: Callable[[dict[str, Any]], int], n: int) -> int:
        sent = {k: v for k, v in variables.items() if k in self.document.variables}
        await self.gql(self.document.text, sent, token=self.staff.token, brand="royal")
        with recorded_statements(self.rt) as statements:
            body = await self.gql(self.document.text, sent, token=self.staff.token, brand="royal")
        assert "errors" not in body, body
        assert rows(body["data"]) == n, body["data"]  # the page is full
        return len(statements)

    async def first_small_and_large(self, variables: dict[str, Any], rows: Callable[[dict[str, Any]], int]) -> None:
        """For a document paged by `$first`: a page of SMALL rows, then of LARGE."""
        small = await self.statements({**variables, "first": SMALL}, rows, SMALL)
        self.same_cost(small, await self.statements({**variables, "first": LARGE}, rows, LARGE))

    def same_cost(self, small: int, large: int) -> None:
        """Equal counts. Root fields resolve concurrently, and a DataLoader batches the keys asked for in
        one turn of the event loop: when one root field's rows arrive a turn before another's, their
        relations load in two batches instead of one. So a document with k root fields may differ by up
        to k - 1 statements between two runs, whatever the page size; an N+1 adds one per row."""
        roots = sum(len(op.selection_set.selections) for op in self.document.operations)
        assert roots <= LARGE - SMALL, f"{self.document.name}: {roots} root fields need more than {LARGE} rows"
        assert abs(large - small) <= roots - 1, (
            f"{self.document.name}: {small} statements for {SMALL} row(s), {large} for {LARGE}"
        )


@pytest.fixture
def admin_screen(rt: Any, gql: Any, make_staff: Any) -> Callable[[str], Awaitable[Screen]]:
    async def open_screen(name: str) -> Screen:
        return Screen(rt, gql, await make_staff(("superadmin", None)), name)

    return open_screen


def edges(*path: str) -> Callable[[dict[str, Any]], int]:
    def count(data: dict[str, Any]) -> int:
        for key in path:
            data = data[key]
        return len(data["edges"])

    return count


async def adjust(rt: Any, player_id: uuid.UUID, amount: int) -> None:
    from services import wallet

    async with rt.database.transaction() as db:
        await wallet.adjust(
            db,
            player_id=player_id,
            currency="EUR",
            amount=amount,
            adjustment_id=uuid.uuid4(),
            actor=wallet.Actor("system"),
            reason="test funding",
        )


WITHDRAW = """mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) {
  payment { status } errors { code message } } }"""
NOTE = """mutation($input: AddPlayerNoteInput!) { addPlayerNote(input: $input) { errors { code } } }"""
GRANT = """mutation($input: GrantBonusInput!) { grantBonus(input: $input) { bonus { id } errors { code message } } }"""
CANCEL = """mutation($input: EndBonusInput!) { cancelBonus(input: $input) { errors { code message } } }"""
ADJUST = """mutation($input: RequestAdjustmentInput!) { requestAdjustment(input: $input) {
  adjustment { status } errors { code message } } }"""


async def withdraw(gql: Any, player: Any, amount: str = "150.00") -> None:
    ask = {"amount": amount, "currency": "EUR", "method": "BANK_TRANSFER", "idempotencyKey": uuid.uuid4().hex}
    body = await gql(WITHDRAW, {"input": ask}, token=player.token)
    assert body["data"]["requestWithdrawal"]["errors"] == [], body
    assert body["data"]["requestWithdrawal"]["payment"]["status"] == "REQUESTED"  # above the automatic approval


@screen("Transactions")
async def test_player_transactions_with_their_postings(rt: Any, admin_screen: Any, make_player: Any) -> None:
    screen = await admin_screen("Transactions")
    player = await make_player()
    for _ in range(LARGE):
        await adjust(rt, player.uuid, 1_00)
    await screen.first_small_and_large({"id": player.id}, edges("player", "transactions"))


@screen("Payments")
async def test_player_payments(rt: Any, gql: Any, admin_screen: Any, make_player: Any) -> None:
    screen = await admin_screen("Payments")
    player = await make_player()
    await adjust(rt, player.uuid, LARGE * 150_00)
    for _ in range(LARGE):
        await withdraw(gql, player)
    await screen.first_small_and_large({"id": player.id}, edges("player", "payments"))


@screen("KycQueue")
async def test_the_kyc_review_queue_with_its_players(rt: Any, admin_screen: Any, make_player: Any) -> None:
    from services.kyc import actions

    screen = await admin_screen("KycQueue")
    for _ in range(LARGE):  # a risk signal leaves each player in the queue (action required)
        player = await make_player()
        async with rt.database.transaction() as db:
            await actions.require_level(db, player.uuid, "identity_verified", "test.review")
    await screen.first_small_and_large({"status": None}, edges("kycReviewQueue"))


@screen("Sessions")
async def test_player_sessions(rt: Any, admin_screen: Any, make_player: Any, brand: Any) -> None:
    from authz.subjects import RequestMeta
    from services import auth

    screen = await admin_screen("Sessions")
    player = await make_player()
    async with rt.database.transaction() as db:
        for n in range(LARGE):
            meta = RequestMeta(ip=f"192.0.2.{n}", user_agent=f"Mozilla/5.0 (device {n})")
            await auth.start_session(
                db, rt, subject_type="player", subject_id=player.uuid, brand_id=brand.id, meta=meta
            )
    await screen.first_small_and_large({"id": player.id}, edges("player", "sessions"))


@screen("Rounds")
async def test_player_rounds_with_their_provider_calls(admin_screen: Any, aggregator: Any, seat: Any) -> None:
    from strawberry import relay

    screen = await admin_screen("Rounds")
    player = await seat(balance=100_00)
    for n in range(LARGE):  # through the provider wallet: a bet and its win per round, each with its call
        bet = player.bet(100_000, round_ref=f"r-{n}")  # Hub88 units (10^-5): 1.00 EUR
        win = player.win(50_000 * (n % 3), bet["transaction_uuid"], round_ref=f"r-{n}")
        for call, body in (("bet", bet), ("win", win)):
            answer = await aggregator.call(f"transaction/{call}", body)
            assert answer["status"] == "RS_OK", answer
    player_id = str(relay.GlobalID("Player", str(player.player_id)))
    await screen.first_small_and_large({"id": player_id}, edges("player", "rounds"))


@screen("Bonuses")
async def test_player_bonuses_with_their_history(
    gql: Any, admin_screen: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    """Not paged: one bonus, then six (one in play at a time: each is cancelled before the next)."""
    screen = await admin_screen("Bonuses")
    offer = await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "5.00"}))
    player = await make_player()
    support = await make_staff("support")

    async def grant_and_cancel(times: int) -> None:
        for _ in range(times):
            ask = {"playerId": player.id, "campaignId": offer, "reason": "goodwill"}
            granted = (await gql(GRANT, {"input": ask}, token=support.token))["data"]["grantBonus"]
            assert granted["errors"] == [], granted
            ended = {"bonusId": granted["bonus"]["id"], "reason": "test over"}
            cancelled = await gql(CANCEL, {"input": ended}, token=support.token)
            assert cancelled["data"]["cancelBonus"]["errors"] == [], cancelled

    def bonuses(data: dict[str, Any]) -> int:
        return len(data["player"]["bonuses"])

    await grant_and_cancel(SMALL)
    small = await screen.statements({"id": player.id}, bonuses, SMALL)
    await grant_and_cancel(LARGE - SMALL)
    screen.same_cost(small, await screen.statements({"id": player.id}, bonuses, LARGE))


@screen("Notes", "Trail")
@pytest.mark.parametrize(("name", "field"), [("Notes", "notes"), ("Trail", "auditTrail")])
async def test_player_notes_and_audit_trail(
    gql: Any, admin_screen: Any, make_player: Any, make_staff: Any, name: str, field: str
) -> None:
    """Notes by several authors; each note is also a record of the player's audit trail."""
    screen = await admin_screen(name)
    player = await make_player()
    authors = [await make_staff("support") for _ in range(3)]
    for n in range(LARGE):
        body = await gql(NOTE, {"input": {"playerId": player.id, "body": f"note {n}"}}, token=authors[n % 3].token)
        assert body["data"]["addPlayerNote"]["errors"] == [], body
    await screen.first_small_and_large({"id": player.id}, edges("player", field))


@screen("Search")
async def test_player_search(admin_screen: Any, make_player: Any) -> None:
    """Its page is fixed (25): one player found, then six."""
    screen = await admin_screen("Search")
    await make_player(email="seek-0@example.com")
    small = await screen.statements({"search": "seek-"}, edges("players"), SMALL)
    for n in range(1, LARGE):
        await make_player(email=f"seek-{n}@example.com")
    screen.same_cost(small, await screen.statements({"search": "seek-"}, edges("players"), LARGE))


@screen("Queue")
async def test_withdrawal_queue(rt: Any, gql: Any, admin_screen: Any, make_player: Any) -> None:
    """Its page is fixed (50): one withdrawal waiting, then six, each from another player."""
    screen = await admin_screen("Queue")

    async def requested(times: int) -> None:
        for _ in range(times):
            player = await make_player()
            await adjust(rt, player.uuid, 150_00)
            await withdraw(gql, player)

    await requested(SMALL)
    small = await screen.statements({}, edges("payments"), SMALL)
    await requested(LARGE - SMALL)
    screen.same_cost(small, await screen.statements({}, edges("payments"), LARGE))


@screen("KycDocumentQueue")
async def test_kyc_document_queue(rt: Any, admin_screen: Any, make_player: Any) -> None:
    """Its page is fixed (50): one pending document, then six, each of another player, each with its link."""
    from models.kyc_documents import DocumentKind
    from services.kyc import documents
    from tests.kyc_documents.conftest import png

    screen = await admin_screen("KycDocumentQueue")

    async def uploaded(times: int) -> None:
        for _ in range(times):
            player = await make_player()
            await documents.upload(rt, player_id=player.uuid, kind=DocumentKind.IDENTITY, content=png(shade=_ + times))

    await uploaded(SMALL)
    small = await screen.statements({"status": "PENDING"}, edges("kycDocuments"), SMALL)
    await uploaded(LARGE - SMALL)
    screen.same_cost(small, await screen.statements({"status": "PENDING"}, edges("kycDocuments"), LARGE))


@screen("Screening")
async def test_screening_alert_queue(admin_screen: Any, make_player: Any, screening: Any) -> None:
    """Its page is fixed (50): one open match, then six, each of another player bearing a listed name."""
    screen = await admin_screen("Screening")

    async def raised(times: int) -> None:
        for _ in range(times):  # the sample list's "Дмитрий Олегович Сарычев", as a Latin registration
            await make_player(firstName="Dmitriy", lastName="Sarychev", born=date(1968, 4, 12))
        await screening.drain()

    await raised(SMALL)
    small = await screen.statements({}, edges("screeningAlerts"), SMALL)
    await raised(LARGE - SMALL)
    screen.same_cost(small, await screen.statements({}, edges("screeningAlerts"), LARGE))


@screen("AmlCaseQueue")
async def test_aml_case_queue(rt: Any, admin_screen: Any, make_player: Any) -> None:
    """Its page is fixed (50): one case in progress, then six, each about another player."""
    from services.aml.cases import open_case

    screen = await admin_screen("AmlCaseQueue")

    async def opened(times: int) -> None:
        for _ in range(times):
            player = await make_player()
            async with rt.database.transaction() as db:
                await open_case(db, player_id=player.uuid, source="test", source_id=uuid.uuid4().hex, summary="x")

    variables = {"filter": {"states": ["OPEN", "INVESTIGATING", "ESCALATED"]}}
    await opened(SMALL)
    small = await screen.statements(variables, edges("amlCases"), SMALL)
    await opened(LARGE - SMALL)
    screen.same_cost(small, await screen.statements(variables, edges("amlCases"), LARGE))


@screen("PlayerAmlCases")
async def test_player_aml_cases(rt: Any, admin_screen: Any, make_player: Any) -> None:
    """The 360's AML cases: one player with six cases (each from its own alert)."""
    from services.aml.cases import open_case

    screen = await admin_screen("PlayerAmlCases")
    player = await make_player()
    for _ in range(LARGE):
        async with rt.database.transaction() as db:
            await open_case(db, player_id=player.uuid, source="test", source_id=uuid.uuid4().hex, summary="x")
    await screen.first_small_and_large({"id": player.id}, edges("player", "amlCases"))


@screen("AmlAlerts")
async def test_aml_alerts_queue(admin_screen: Any, make_player: Any, deposit: Any, monitoring: Any) -> None:
    """Its page is fixed (50): one alert (a large deposit), then six, each on another player, each with
    its player and the events behind it (DataLoaders: one query each per page)."""
    screen = await admin_screen("AmlAlerts")

    async def raised(times: int) -> None:
        for _ in range(times):
            await deposit(await make_player(), "12000.00")
        await monitoring.drain()

    await raised(SMALL)
    small = await screen.statements({"status": "OPEN"}, edges("amlAlerts"), SMALL)
    await raised(LARGE - SMALL)
    screen.same_cost(small, await screen.statements({"status": "OPEN"}, edges("amlAlerts"), LARGE))


@screen("Disputes")
async def test_dispute_queue(rt: Any, client: Any, psp: Any, brand: Any, admin_screen: Any, make_player: Any) -> None:
    """Its page is fixed (50): one chargeback's dispute, then six, each of another player, with the player
    (a DataLoader: one query per page)."""
    from services import cashier
    from tests.cashier.conftest import deliver, notice, player_viewer

    screen = await admin_screen("Disputes")
    await psp.configure("cardpay", webhook="hold")

    async def charged_back(times: int) -> None:
        for _ in range(times):
            player = await make_player()
            payment = await cashier.deposit(
                rt,
                player_viewer(player, brand),
                amount="10.00",
                currency="EUR",
                method="card",
                psp_token=await psp.tokenise(),
            )
            answer = await deliver(client, await notice(psp, payment, rt, "chargeback"))
            assert answer.json()["result"] == "applied", answer.text

    await charged_back(SMALL)
    small = await screen.statements({}, edges("disputes"), SMALL)
    await charged_back(LARGE - SMALL)
    screen.same_cost(small, await screen.statements({}, edges("disputes"), LARGE))


@screen("PlayerRisk")
async def test_the_linked_accounts_section(gql: Any, admin_screen: Any, signals: Any) -> None:
    """One account linked, then six: the cluster's members and what links them in one statement, their
    players through one DataLoader batch."""
    from tests.risk.conftest import registered

    screen = await admin_screen("PlayerRisk")
    player = await registered(gql, "centre@example.com", device="device-of-the-cluster")
    linked = 0

    async def grow(size: int) -> int:
        nonlocal linked
        while linked < size:
            linked += 1
            await registered(gql, f"linked{linked}@example.com", device="device-of-the-cluster")
        await signals.drain()
        return await screen.statements(
            {"id": player.id}, lambda data: len(data["player"]["risk"]["linkedPlayers"]), size
        )

    small = await grow(SMALL)
    screen.same_cost(small, await grow(LARGE))


@screen("RiskLists")
async def test_the_risk_lists(admin_screen: Any) -> None:
    from authz.subjects import SYSTEM
    from services.risk import lists

    screen = await admin_screen("RiskLists")
    for n in range(LARGE):
        await lists.add_entry(
            screen.rt, SYSTEM, list_name=lists.ListName.WATCH, kind=lists.EntryKind.DEVICE,
            value=f"device-listed-{n:04d}", reason="measured",
        )  # fmt: skip
    await screen.first_small_and_large({"list": None}, edges("riskListEntries"))


@screen("RiskQueue")
async def test_the_risk_queue(rt: Any, admin_screen: Any, make_player: Any) -> None:
    """One flag, then six: the page and its scores in one statement, the players and their score reasons
    through one DataLoader batch each."""
    from tests.risk.desk import REGISTRATION_RULES, hit, quiet

    screen = await admin_screen("RiskQueue")
    await quiet(rt, *REGISTRATION_RULES)  # six registrations from the test client's address

    async def flagged(n: int) -> None:
        for _ in range(n):
            await hit(rt, (await make_player()).uuid, "chargeback-history", "1 chargeback")

    await flagged(SMALL)
    small = await screen.statements({"status": "OPEN"}, edges("riskQueue"), SMALL)
    await flagged(LARGE - SMALL)
    screen.same_cost(small, await screen.statements({"status": "OPEN"}, edges("riskQueue"), LARGE))


@screen("HeldDeposits")
async def test_the_held_deposits(rt: Any, gql: Any, psp: Any, admin_screen: Any, make_player: Any) -> None:
    """Its page is fixed (50): one deposit a rule held, then six, each of another player, with the player and
    their score's reasons (why it was held) through one DataLoader batch each."""
    from tests.risk.desk import REGISTRATION_RULES, quiet
    from tests.risk.inline_support import DEPOSIT, add_rule

    screen = await admin_screen("HeldDeposits")
    await quiet(rt, *REGISTRATION_RULES)  # six registrations from the test client's address
    hold_second = {"occasion": "deposit", "by": "player", "count": 2, "minutes": 10}
    await add_rule(rt, "hold-second", "velocity", hold_second, [{"kind": "hold_deposit"}])

    async def held(times: int) -> None:
        for _ in range(times):
            player = await make_player()
            for status in ("SUCCEEDED", "HELD"):  # the second deposit in 10 minutes is held
                given = {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}
                body = await gql(DEPOSIT, {"input": given}, token=player.token)
                assert body["data"]["deposit"]["payment"]["status"] == status, body

    def rows(data: dict[str, Any]) -> int:
        found = data["payments"]["edges"]
        assert all(e["node"]["player"]["risk"]["score"]["reasons"] for e in found)  # why: the rule's reason
        return len(found)

    await held(SMALL)
    small = await screen.statements({}, rows, SMALL)
    await held(LARGE - SMALL)
    screen.same_cost(small, await screen.statements({}, rows, LARGE))


@screen("RiskRules")
async def test_the_risk_rules(rt: Any, admin_screen: Any) -> None:
    from authz.subjects import SYSTEM
    from services.risk import rule_admin, rules
    from services.risk.rules import RuleKind

    screen = await admin_screen("RiskRules")
    defaults = len(rules.defaults())

    async def added(numbers: range) -> None:
        for n in numbers:
            await rule_admin.create_rule(
                rt, SYSTEM, code=f"measured-{n}", name=f"Measured {n}", kind=RuleKind.LINKED_ACCOUNTS,
                params={"min_cluster_size": 2 + n}, points=1, actions=[{"kind": "flag_review"}], reason="measured",
            )  # fmt: skip

    def listed(data: dict[str, Any]) -> int:
        return len(data["riskRules"]) - defaults

    await added(range(SMALL))
    small = await screen.statements({}, listed, SMALL)
    await added(range(SMALL, LARGE))
    screen.same_cost(small, await screen.statements({}, listed, LARGE))


@screen("Audit")
async def test_audit_log(admin_screen: Any, make_player: Any) -> None:
    screen = await admin_screen("Audit")
    for _ in range(LARGE):
        await make_player()  # each registration is audited
    await screen.first_small_and_large({"filter": {}}, edges("auditLog"))


@screen("Games")
async def test_games_of_a_brand(rt: Any, admin_screen: Any, make_game: Any) -> None:
    """Its page is fixed (100): one game, then six from two providers."""
    from models.games import Provider

    screen = await admin_screen("Games")
    async with rt.database.transaction() as db:
        second = Provider(code="livewire", name="Livewire", protocol="softswiss", launch_url="https://l.example/")
        db.add(second)
    await make_game()
    small = await screen.statements({}, edges("games"), SMALL)
    for n in range(1, LARGE):
        await make_game(provider_id=second.id if n % 2 else None)
    screen.same_cost(small, await screen.statements({}, edges("games"), LARGE))


@screen("Providers")
async def test_game_providers(rt: Any, admin_screen: Any) -> None:
    """Its page is fixed (100), each provider with its game count."""
    from models.games import Provider

    screen = await admin_screen("Providers")

    async def add(start: int, stop: int) -> None:
        async with rt.database.transaction() as db:
            for n in range(start, stop):
                db.add(
                    Provider(
                        code=f"studio-{n:02d}", name=f"Studio {n}", protocol="hub88", launch_url="https://x.example/"
                    )
                )

    await add(0, SMALL)
    small = await screen.statements({}, edges("gameProviders"), SMALL)
    await add(SMALL, LARGE)
    screen.same_cost(small, await screen.statements({}, edges("gameProviders"), LARGE))


@screen("CatalogueSyncRuns")
async def test_catalogue_sync_runs(rt: Any, admin_screen: Any, provider: Any) -> None:
    """Its page is fixed (25), each run with its report (a JSON column of its row): one run, then six."""
    from core.clock import clock
    from models.games import CatalogueSyncRun

    screen = await admin_screen("CatalogueSyncRuns")
    report = {"added": [{"code": "g", "title": "G", "changes": [{"field": "rtp", "old": None, "new": "96.00"}]}]}

    async def add(count: int) -> None:
        async with rt.database.transaction() as db:
            for _ in range(count):
                now = clock.now()
                db.add(
                    CatalogueSyncRun(
                        provider_id=provider.id,
                        provider_code=provider.code,
                        trigger="schedule",
                        status="succeeded",
                        started_at=now,
                        finished_at=now,
                        added=1,
                        report=report,
                    )
                )

    await add(SMALL)
    small = await screen.statements({}, edges("catalogueSyncRuns"), SMALL)
    await add(LARGE - SMALL)
    screen.same_cost(small, await screen.statements({}, edges("catalogueSyncRuns"), LARGE))


@screen("ProviderGames")
async def test_provider_games(admin_screen: Any, make_game: Any, provider: Any) -> None:
    """Its page is fixed (100): one game of a provider, then six."""
    screen = await admin_screen("ProviderGames")
    await make_game()
    small = await screen.statements({"provider": provider.code}, edges("catalogGames"), SMALL)
    for _ in range(LARGE - SMALL):
        await make_game()
    screen.same_cost(small, await screen.statements({"provider": provider.code}, edges("catalogGames"), LARGE))


@screen("Adjustments")
async def test_adjustments(gql: Any, admin_screen: Any, make_player: Any, make_staff: Any) -> None:
    """Its pages are fixed (50 waiting, 20 recent): one adjustment, then six, each for another player."""
    screen = await admin_screen("Adjustments")
    finance = await make_staff("finance")

    async def requested(times: int) -> None:
        for n in range(times):  # every other one large enough to wait for a second approver
            player = await make_player()
            ask = {
                "playerId": player.id,
                "amount": "5000.00" if n % 2 else "5.00",
                "currency": "EUR",
                "direction": "CREDIT",
                "reason": "goodwill",
                "idempotencyKey": uuid.uuid4().hex,
            }
            body = await gql(ADJUST, {"input": ask}, token=finance.token)
            assert body["data"]["requestAdjustment"]["errors"] == [], body

    def recent(data: dict[str, Any]) -> int:
        return len(data["recent"]["edges"])

    await requested(SMALL)
    small = await screen.statements({}, recent, SMALL)
    await requested(LARGE - SMALL)
    screen.same_cost(small, await screen.statements({}, recent, LARGE))


# ---- the Reports screen: aggregates whose statements grow neither with the periods nor the rows ---------


def rows(root: str) -> Callable[[dict[str, Any]], int]:
    def count(data: dict[str, Any]) -> int:
        return len(data[root])

    return count


@screen("ReportFigures", "ReportRetention", "ReportValue")
@pytest.mark.parametrize(
    ("name", "root"),
    [("ReportFigures", "series"), ("ReportRetention", "reportRetention"), ("ReportValue", "reportLifetimeValue")],
)
async def test_report_figures_and_cohorts_over_1_and_6_days(
    admin_screen: Any, make_player: Any, name: str, root: str
) -> None:
    """A day and six days (by day: a period, or a cohort, per day), with a player registered today."""
    from core.clock import clock

    screen = await admin_screen(name)
    await make_player()
    today = clock.now().date()
    window = {"end": today.isoformat(), "asOf": today.isoformat(), "period": "DAY", "books": True, "days": [1, 7, 30]}
    small = await screen.statements({**window, "start": today.isoformat()}, rows(root), SMALL)
    start = (today - timedelta(days=LARGE - 1)).isoformat()
    screen.same_cost(small, await screen.statements({**window, "start": start}, rows(root), LARGE))


@screen("ReportGames")
async def test_report_top_games(
    admin_screen: Any, seat: Any, aggregator: Any, reports: Any, make_game: Any, hub88_provider: Any
) -> None:
    """One game played, then six (through the Hub88 wallet, drained into the projections)."""
    from core.clock import clock

    screen = await admin_screen("ReportGames")
    player = await seat(balance=100_00)

    async def played(games: range) -> None:
        for n in games:
            await make_game(code=f"game-{n:02d}", provider_id=hub88_provider.id)
            bet = player.bet(100_000, round_ref=f"g-{n}", game_code=f"game-{n:02d}")
            assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
        await reports.drain()

    day = clock.now().date().isoformat()
    window = {"start": day, "end": day}
    await played(range(SMALL))
    small = await screen.statements({**window, "limit": SMALL}, rows("reportGames"), SMALL)
    await played(range(SMALL, LARGE))
    screen.same_cost(small, await screen.statements({**window, "limit": LARGE}, rows("reportGames"), LARGE))


@screen("RegulatoryReturns")
async def test_regulatory_returns(rt: Any, admin_screen: Any, brand: Any) -> None:
    """One monthly return filed, then six (months without play: no rates needed)."""
    from authz.subjects import SYSTEM
    from models.brands import Brand
    from services.reports import returns

    screen = await admin_screen("RegulatoryReturns")
    async with rt.database.transaction() as db:
        royal = await db.get(Brand, brand.id)
        assert royal is not None
        royal.jurisdictions = [*royal.jurisdictions, "SE"]

    async def filed(months: range) -> None:
        async with rt.database.transaction() as db:
            royal = await db.get(Brand, brand.id)
            for n in months:
                await returns.generate(db, SYSTEM, "se-gaming-tax-monthly", royal, f"{2024 + n // 12}-{n % 12 + 1:02d}")

    await filed(range(SMALL))
    small = await screen.statements({}, rows("regulatoryReturns"), SMALL)
    await filed(range(SMALL, LARGE))
    screen.same_cost(small, await screen.statements({}, rows("regulatoryReturns"), LARGE))


@screen("Tournaments")
async def test_the_tournament_list_with_its_entry_counts(rt: Any, admin_screen: Any, brand: Any) -> None:
    from tests.tournaments_live.conftest import Tournaments

    screen = await admin_screen("Tournaments")
    tournaments = Tournaments(rt)
    for n in range(LARGE):
        await tournaments.create(brand.id, name=f"Drop {n}")
    await screen.first_small_and_large({"states": None}, edges("tournaments"))


@screen("Jackpots")
async def test_the_jackpot_list_with_its_levels(rt: Any, admin_screen: Any, gql: Any, make_staff: Any) -> None:
    from tests.jackpots_live.conftest import created

    screen = await admin_screen("Jackpots")
    marketing = await make_staff("marketing")
    await created(gql, marketing.token, "drop-0")
    small = await screen.statements({}, edges("jackpots"), SMALL)
    for n in range(SMALL, LARGE):
        await created(gql, marketing.token, f"drop-{n}")
    screen.same_cost(small, await screen.statements({}, edges("jackpots"), LARGE))


@screen("AffiliateFraudFlags")
async def test_the_flagged_affiliate_sub_ids(rt: Any, admin_screen: Any, brand: Any) -> None:
    from tests.affiliate_fraud.conftest import make_partner, raw_flag

    screen = await admin_screen("AffiliateFraudFlags")
    partner = await make_partner(rt, brand.id)
    await raw_flag(rt, partner, "s0")
    small = await screen.statements({"status": "OPEN"}, edges("affiliateSubIdFlags"), SMALL)
    for n in range(SMALL, LARGE):
        await raw_flag(rt, (await make_partner(rt, brand.id, code=f"p{n}")), f"s{n}")
    screen.same_cost(small, await screen.statements({"status": "OPEN"}, edges("affiliateSubIdFlags"), LARGE))


@screen("AffiliateRuns")
async def test_the_commission_run_list_with_its_totals(rt: Any, admin_screen: Any, brand: Any) -> None:
    from sqlalchemy import text

    screen = await admin_screen("AffiliateRuns")

    async def runs(first: int, count: int) -> None:
        async with rt.database.transaction() as db:
            for n in range(first, count):
                start = date(2025, 1, 1) + timedelta(days=n)
                await db.execute(
                    text(
                        "INSERT INTO affiliate_runs (id, brand_id, period_start, period_end) VALUES (:id, :b, :s, :s)"
                    ),
                    {"id": uuid.uuid4(), "b": brand.id, "s": start},
                )

    await runs(0, SMALL)
    small = await screen.statements({}, edges("affiliateRuns"), SMALL)
    await runs(SMALL, LARGE)
    screen.same_cost(small, await screen.statements({}, edges("affiliateRuns"), LARGE))


@screen("Affiliates")
async def test_the_partner_list_with_its_brands(rt: Any, admin_screen: Any, brand: Any) -> None:
    from authz.subjects import SYSTEM
    from services.affiliates import partners

    screen = await admin_screen("Affiliates")
    for n in range(LARGE):
        draft = partners.PartnerDraft(
            code=f"p{n}",
            company=f"P{n}",
            contact_email=f"p{n}@example.com",
            payout_currency="EUR",
            brand_ids=[brand.id],
        )
        await partners.create(rt, SYSTEM, draft)
    await screen.first_small_and_large({"search": None, "status": None}, edges("affiliates"))


@screen("AffiliatePlans", "AffiliateDeals")
async def test_the_affiliate_plans_and_deals_with_their_terms(
    rt: Any, admin_screen: Any, gql: Any, make_staff: Any, brand: Any
) -> None:
    from tests.affiliate_plans.conftest import create_deal, create_plan, insert_partner

    plans, deals = await admin_screen("AffiliatePlans"), await admin_screen("AffiliateDeals")
    manager = await make_staff("brand_admin")
    for n in range(LARGE):
        made = await create_plan(gql, manager.token, code=f"plan-{n}")
        await insert_partner(rt, brand.id, f"partner-{n}")
        assert (await create_deal(gql, manager.token, made["plan"]["id"], partner=f"partner-{n}"))["errors"] == []
    await plans.first_small_and_large({}, edges("affiliatePlans"))
    await deals.first_small_and_large({"partner": None}, edges("affiliateDeals"))


@screen("PostbackConfigs", "PostbackLog")
async def test_the_postback_configs_and_delivery_log_with_their_tries(
    rt: Any, admin_screen: Any, brand: Any, make_player: Any
) -> None:
    """One config and one delivery, then six: the pages in one statement, the partners' codes and the tries
    through one DataLoader batch each."""
    import asyncpg

    from authz.subjects import SYSTEM
    from core.consumers import Runner
    from models.affiliate_postbacks import PostbackTrigger
    from services.affiliates.postbacks import configs
    from services.affiliates.postbacks.consumer import PostbacksConsumer
    from tests.affiliate_postbacks.conftest import make_partner
    from tests.conftest import DATABASE_URL

    screen = await admin_screen("PostbackConfigs")
    log = await admin_screen("PostbackLog")
    partners = [await make_partner(rt, brand, f"partner{n:02d}") for n in range(LARGE)]
    conn = await asyncpg.connect(DATABASE_URL)
    runner = Runner(PostbacksConsumer(max_attempts=5), DATABASE_URL, rt.redis, member=f"m-{uuid.uuid4().hex[:6]}")

    async def grow(upto: range) -> None:
        for n in upto:
            partner = partners[n]
            await configs.create_config(
                rt, SYSTEM, affiliate_id=partner.id, trigger=PostbackTrigger.REGISTRATION,
                url_template="https://partner.test/pb?id={event_id}",
            )  # fmt: skip
            player = await make_player()
            await conn.execute(
                "INSERT INTO affiliate_attributions (player_id, affiliate_id, brand_id, link_id) "
                "VALUES ($1, $2, $3, $4)",
                player.uuid, partner.id, brand.id, partner.link_id,
            )  # fmt: skip
            await conn.execute(
                "INSERT INTO outbox_events (topic, key, schema_version, payload) "
                "VALUES ('affiliate.attributed', $1, 1, $2::jsonb)",
                f"player:{player.uuid}", f'{{"player_id": "{player.uuid}"}}',
            )  # fmt: skip
        await runner.drain(conn)
        await conn.execute(
            "INSERT INTO affiliate_postback_attempts (delivery_id, attempt, started_at, latency_ms, succeeded, error) "
            "SELECT id, n, now(), 12, false, 'HTTP 500' FROM affiliate_postback_deliveries, generate_series(1, 2) n "
            "ON CONFLICT DO NOTHING"
        )

    try:
        await grow(range(SMALL))
        small = (
            await screen.statements({}, edges("affiliatePostbackConfigs"), SMALL),
            await log.statements({}, edges("affiliatePostbackDeliveries"), SMALL),
        )
        await grow(range(SMALL, LARGE))
        screen.same_cost(small[0], await screen.statements({}, edges("affiliatePostbackConfigs"), LARGE))
        log.same_cost(small[1], await log.statements({}, edges("affiliatePostbackDeliveries"), LARGE))
    finally:
        await conn.close()


def key(document: Document) -> str:
    if document.name:
        return document.name
    roots = [s.name.value for op in document.operations for s in op.selection_set.selections if hasattr(s, "name")]
    return "{ " + " ".join(roots) + " }"


def test_every_query_document_is_measured_or_said_why_not() -> None:
    queries = {key(d) for d in DOCUMENTS.documents if d.kind == "query"}
    unclassified = queries - SCREENS.keys() - UNMEASURED.keys()
    assert not unclassified, (
        f"measure these back-office queries (@screen) or say why not (UNMEASURED): {sorted(unclassified)}"
    )
    assert SCREENS.keys() <= queries, "a measured screen no longer exists in admin/"
