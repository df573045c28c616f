"""Issue 19's "Done when", end to end through the public surfaces: a click on a partner's link leads to a
registration, a first deposit through the demo PSP and real Hub88 bets that qualify a CPA (the `affiliate-cpa`
consumer); the qualification postback reaches the partner's receiver once although it fails the first tries;
the month's run, approved by finance and booked, owes the partner its CPA in the ledger; the partner reads exactly
its own figures in the portal and through a scoped token, another partner none of them; and `ledger verify` and
`reports verify` are clean.

Everything happens in "the month" (the calendar month after today's, at noon of its second day), then the clock
moves past it so that a run may cover it (as tests/affiliate_runs does)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.clock import clock
from services.affiliates.runs.drafts import month_of
from tests.affiliate_plans.conftest import cpa, create_deal, create_plan, gid_uuid, stake  # noqa: F401  (fixture)
from tests.affiliate_postbacks.conftest import Postbacks, postbacks, receiver, wired  # noqa: F401  (fixtures)
from tests.affiliate_postbacks.receiver import DROP, FAIL, HANG, OK, UNAVAILABLE, Receiver
from tests.affiliate_postbacks.test_graphql import CREATE as CREATE_POSTBACK
from tests.affiliate_runs.conftest import at_noon, close_month
from tests.affiliate_runs.test_graphql import CREATE as CREATE_RUN
from tests.affiliate_runs.test_graphql import act
from tests.affiliate_runs.test_runs import payable
from tests.affiliates.conftest import click
from tests.affiliates.test_partners_api import ADD_LINK, USER, gid, partner_input
from tests.affiliates.test_partners_api import CREATE as CREATE_PARTNER
from tests.affiliates_api.conftest import Partner, sign_in
from tests.affiliates_api.test_stats_and_links import STATS, row
from tests.cashier.conftest import card_deposit, psp  # noqa: F401  (fixtures)
from tests.conftest import PASSWORD, error_codes
from tests.ledger.test_ledger import run_ledger_verify
from tests.providers.conftest import Seat, open_session
from tests.reports.conftest import reports  # noqa: F401  (fixture)
from tests.reports.test_verify import reports_verify

COMMISSIONS = """query($from: Date!, $to: Date!) { affiliatePortal { commissions(from: $from, to: $to) {
  periodStart periodEnd brandCode subId cpa revshare secondTier total currency runState } } }"""
POSTBACK = "/cpa?click={click_id}&s1={sub1}&ev={event}&amount={amount}&cur={currency}&id={event_id}"


@dataclass
class Onboarded:
    id: uuid.UUID
    code: str
    link_code: str
    email: str  # the portal user's
    user_id: uuid.UUID


async def onboard(gql: Any, manager: Any, brand: Any, code: str) -> Onboarded:
    """A partner on royal, with a tracking link and a portal user, made by an affiliate manager (staff GraphQL)."""
    email = f"jo@{code}.example.com"
    given = partner_input(brand, contactEmail=f"ops@{code}.example.com")
    made = (await gql(CREATE_PARTNER, {"input": {"code": code, "partner": given}}, token=manager.token))["data"]
    assert made["createAffiliate"]["errors"] == [], made
    partner = made["createAffiliate"]["affiliate"]["id"]
    link = {"affiliateId": partner, "brandId": gid("Brand", brand.id), "tag": "spring", "landingPath": "/welcome"}
    added = (await gql(ADD_LINK, {"input": link}, token=manager.token))["data"]["addAffiliateLink"]
    assert added["errors"] == [], added
    user = {"affiliateId": partner, "email": email, "password": PASSWORD}
    made_user = (await gql(USER, {"input": user}, token=manager.token))["data"]["createAffiliatePortalUser"]
    assert made_user["errors"] == [], made_user
    return Onboarded(gid_uuid(partner), code, added["link"]["code"], email, gid_uuid(made_user["portalUser"]["id"]))


async def signed_in(gql: Any, partner: Onboarded) -> Partner:
    signed = await sign_in(gql, partner.email)
    assert signed["errors"] == [], signed
    return Partner(partner.id, partner.code, partner.email, signed["accessToken"], partner.user_id)


async def test_a_click_becomes_a_booked_cpa_that_only_its_partner_sees(
    rt: Any, gql: Any, client: Any, brand: Any, make_staff: Any, make_player: Any, card_deposit: Any,  # noqa: F811
    aggregator: Any, hub88_provider: Any, cpa: Any, wired: Postbacks, receiver: Receiver, reports: Any,  # noqa: F811
) -> None:  # fmt: skip
    month = month_of(month_of(clock.now().date())[1] + timedelta(days=1))
    at_noon(month[0] + timedelta(days=1))
    manager = await make_staff("affiliate_manager")
    acme = await onboard(gql, manager, brand, "acme")
    rival = await onboard(gql, manager, brand, "rival")
    plan = (await create_plan(gql, manager.token))["plan"]  # CPA 50.00: FTD ≥ 20.00, wagering ≥ 100.00, 30 days
    assert (await create_deal(gql, manager.token, plan["id"], partner="acme"))["errors"] == []
    config = {
        "partnerCode": "acme",
        "brandCode": "royal",
        "trigger": "QUALIFICATION",
        "urlTemplate": receiver.base + POSTBACK,
    }
    made = (await gql(CREATE_POSTBACK, {"input": config}, token=manager.token))["data"]["createAffiliatePostbackConfig"]
    assert made["errors"] == [], made
    receiver.secret = made["secret"]  # the partner keeps it to check the signatures

    # The click, the registration that carries it, the first deposit and the play.
    clicked = await click(client, acme.link_code, sub1="spring")
    assert clicked.status_code == 302
    click_id = clicked.cookies["croupier_click"]
    assert clicked.headers["location"] == f"/welcome?click={click_id}"
    assert (await click(client, rival.link_code, sub1="autumn")).status_code == 302  # rival's own click
    player = await make_player(affiliateClick=click_id)
    organic = await make_player()  # nobody's player: in no partner's figures
    await card_deposit(player, "120.00")
    await card_deposit(organic, "80.00")
    seat = Seat(str(player.uuid), player.uuid, await open_session(rt, hub88_provider, player.uuid))
    for cents in (6_000, 4_000):  # 60.00, then the 40.00 that makes the 100.00 of wagering
        await stake(aggregator, seat, cents)
    await cpa.drain()
    [qualification] = await cpa.qualifications()
    assert (qualification["player_id"], qualification["affiliate_id"]) == (player.uuid, acme.id)
    assert (qualification["status"], qualification["amount"], qualification["currency"]) == ("qualified", 5_000, "EUR")
    [qualified] = await cpa.published("affiliate.qualified")

    # The partner's endpoint fails, refuses, drops and hangs before it answers: one success, signed each time.
    receiver.will(qualified.id, FAIL, UNAVAILABLE, DROP, HANG)
    await wired.enqueue()
    await wired.settle()
    await wired.runner.apply(wired.conn, [qualified])  # the event delivered again: nothing more is sent
    await wired.settle()
    tries = receiver.of(qualified.id)
    assert [r.behaviour for r in tries] == [FAIL, UNAVAILABLE, DROP, HANG, OK]
    assert all(r.signed for r in tries)
    assert [r.event_id for r in receiver.answered] == [str(qualified.id)]
    assert tries[-1].query == {
        "click": click_id, "s1": "spring", "ev": "qualification", "amount": "50.00", "cur": "EUR",
        "id": str(qualified.id),
    }  # fmt: skip
    [delivery] = await wired.deliveries()
    assert (delivery["status"], delivery["attempts"]) == ("delivered", 5)
    await reports.drain()

    # The month's run: made, approved (below the four-eyes threshold: once) and booked by finance.
    close_month(month)
    finance = await make_staff("finance")
    window = {"from": str(month[0]), "to": str(month[1])}
    created = (await gql(CREATE_RUN, {"input": window}, token=finance.token))["data"]["createAffiliateRun"]
    assert created["errors"] == [], created
    run = created["run"]
    assert run["totals"] == [{"total": {"amount": "50.00", "currency": "EUR"}, "lines": 1}]
    for action, state in (("approveAffiliateRun", "APPROVED"), ("bookAffiliateRun", "BOOKED")):
        done = (await gql(act(action), {"input": {"runId": run["id"]}}, token=finance.token))["data"][action]
        assert (done["errors"], done["run"]["state"]) == ([], state), done
    assert (await payable(rt, acme.id), await payable(rt, rival.id)) == (5_000, 0)

    # What each partner reads: its own figures only, within what the credential's scopes allow.
    portal = await signed_in(gql, acme)
    own = [row("spring", 1, 1, 1, "120.00", "120.00", "100.00")]
    commission = {
        "periodStart": str(month[0]), "periodEnd": str(month[1]), "brandCode": "royal", "subId": "spring",
        "cpa": "50.00", "revshare": "0.00", "secondTier": "0.00", "total": "50.00", "currency": "EUR",
        "runState": "booked",
    }  # fmt: skip
    reader = await portal.api_token(gql, ["STATS_READ"])
    for token in (portal.token, reader):
        stats = await gql(STATS, {**window, "group": "SUB_ID"}, token=token)
        assert ("errors" not in stats, stats["data"]["affiliatePortal"]["stats"]) == (True, own), stats
    commissions = await gql(COMMISSIONS, window, token=portal.token)
    assert ("errors" not in commissions, commissions["data"]["affiliatePortal"]["commissions"]) == (True, [commission])
    refused = await gql(COMMISSIONS, window, token=reader)
    assert error_codes(refused) == ["FORBIDDEN"]
    assert refused["data"]["affiliatePortal"]["commissions"] is None
    other = await signed_in(gql, rival)
    stats = await gql(STATS, {**window, "group": "SUB_ID"}, token=other.token)
    assert stats["data"]["affiliatePortal"]["stats"] == [row("autumn", 1, 0, 0, "0.00", "0.00", "0.00")], stats
    assert (await gql(COMMISSIONS, window, token=other.token))["data"]["affiliatePortal"]["commissions"] == []

    # The books: both verifications as operations run them (the CLI), at the same time.
    books, projections = await asyncio.gather(asyncio.to_thread(run_ledger_verify), reports_verify(*window.values()))
    assert books.returncode == 0, books.stdout + books.stderr
    assert projections.returncode == 0, projections.stdout + projections.stderr
    assert projections.stdout.rstrip().endswith(": OK"), projections.stdout
