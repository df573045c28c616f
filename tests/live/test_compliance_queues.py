"""Live compliance queue counts: the SQL behind them (services/compliance_queues.py), the sharing of one
count between the subscribers of a brand, and the `complianceQueues` subscription on a second server
process — pushed when a KYC or AML event moves a queue, each count read only by the desks that work it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from core.clock import clock
from services import compliance_queues
from tests.aml_cases.conftest import ASSIGN, OPEN, STATE, Desk
from tests.aml_cases.test_case_flow import gid
from tests.live.conftest import next_data, receive, refusal_codes, subscription
from tests.test_authz import ROLES, role_set, shared_authorizer, staff_holding

COUNTS = (
    "kycLevelReviews kycDocuments screeningMatches amlAlerts amlCasesOpen amlCasesInvestigating "
    "amlCasesEscalated amlCasesOverdue"
)
FEED = "subscription { complianceQueues { at trigger " + COUNTS + " } }"
CASE_COUNTS = ("amlCasesOpen", "amlCasesInvestigating", "amlCasesEscalated", "amlCasesOverdue")


async def counts(rt: Any, brand_id: Any) -> compliance_queues.QueueCounts:
    async with rt.database.session() as db:
        return await compliance_queues.counts(db, brand_id, clock.now())


async def test_the_counts_of_each_queue(rt: Any, gql: Any, make_player: Any, make_staff: Any, brand: Any) -> None:
    desk = Desk(gql)
    officer = await make_staff("kyc_officer")
    before = await counts(rt, brand.id)
    ids = []
    for i in range(3):
        player = await make_player()
        ids.append((await desk.ok(OPEN, officer.token, playerId=player.id, summary=f"case {i}"))["case"]["id"])
    await desk.ok(ASSIGN, officer.token, caseId=ids[1], assigneeId=gid("StaffUser", officer.id))
    await desk.ok(ASSIGN, officer.token, caseId=ids[2], assigneeId=gid("StaffUser", officer.id))
    await desk.ok(STATE, officer.token, caseId=ids[2], state="ESCALATED")
    now = await counts(rt, brand.id)
    assert (now.aml_cases_open, now.aml_cases_investigating, now.aml_cases_escalated) == (
        before.aml_cases_open + 1,
        before.aml_cases_investigating + 1,
        before.aml_cases_escalated + 1,
    )
    assert now.aml_cases_overdue == before.aml_cases_overdue == 0
    clock.advance(timedelta(days=400))  # past every case type's review and escalation deadline
    late = await counts(rt, brand.id)
    assert late.aml_cases_overdue == 3
    everyone = await counts(rt, None)
    assert everyone.aml_cases_overdue >= late.aml_cases_overdue


async def test_other_brands_cases_are_not_counted(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, brand: Any, other_brand: Any
) -> None:
    desk = Desk(gql)
    officer = await make_staff(("kyc_officer", None))
    nordic = await make_player(brand_code="northstar", country="SE", currency="SEK")
    await desk.ok(OPEN, officer.token, playerId=nordic.id, summary="elsewhere")
    assert (await counts(rt, brand.id)).aml_cases_open == 0
    assert (await counts(rt, other_brand.id)).aml_cases_open == 1


async def test_subscribers_of_one_brand_share_one_count(rt: Any, brand: Any) -> None:
    shared = compliance_queues.Shared(rt)
    loop = asyncio.get_running_loop()
    changed = loop.time()
    results = await asyncio.gather(*(shared.since(brand.id, changed, clock.now()) for _ in range(50)))
    assert shared.statements == 1
    assert len({id(r) for r in results}) == 1
    await shared.since(brand.id, loop.time() + 0.001, clock.now())  # a change after that read: read again
    await shared.since(None, changed, clock.now())  # another brand scope: its own read
    assert shared.statements == 3


async def test_the_feed_starts_with_counts_and_updates_when_a_case_moves(
    live_server: Any, client: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    desk = Desk(gql)
    officer = await make_staff("kyc_officer")
    player = await make_player()
    client.cookies.clear()
    async with subscription(live_server, officer.token, FEED, brand="royal") as socket:
        initial = (await next_data(socket))["complianceQueues"]
        assert initial["trigger"] == "initial"
        assert [initial[c] for c in CASE_COUNTS] == [0, 0, 0, 0]
        case_id = (await desk.ok(OPEN, officer.token, playerId=player.id, summary="live"))["case"]["id"]
        update = (await next_data(socket, 5))["complianceQueues"]
        assert (update["trigger"], update["amlCasesOpen"]) == ("activity", 1)
        await desk.ok(ASSIGN, officer.token, caseId=case_id, assigneeId=gid("StaffUser", officer.id))
        update = (await next_data(socket, 5))["complianceQueues"]
        while update["amlCasesInvestigating"] == 0:  # the assignment's two events may come as two updates
            update = (await next_data(socket, 5))["complianceQueues"]
        assert (update["amlCasesOpen"], update["amlCasesInvestigating"]) == (0, 1)


async def test_another_brands_case_pushes_nothing(
    live_server: Any, client: Any, gql: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    desk = Desk(gql)
    officer = await make_staff("kyc_officer")
    everywhere = await make_staff(("kyc_officer", None))
    nordic = await make_player(brand_code="northstar", country="SE", currency="SEK")
    client.cookies.clear()
    async with subscription(live_server, officer.token, FEED, brand="royal") as socket:
        assert (await next_data(socket))["complianceQueues"]["trigger"] == "initial"
        await desk.ok(OPEN, everywhere.token, playerId=nordic.id, summary="northstar's")
        with pytest.raises(TimeoutError):
            await receive(socket, 2.5)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
async def test_each_role_reads_the_counts_the_policy_gives_it(
    role: str, settings: Any, live_server: Any, client: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    token = player.token if role == "player" else (await staff_holding(make_staff, role)).token
    client.cookies.clear()
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)

    def reads(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)

    async with subscription(live_server, token, FEED, brand="royal") as socket:
        if not reads("Subscription.complianceQueues") or role == "player":
            assert await refusal_codes(socket) == ["FORBIDDEN"]
            return
        message = await receive(socket)
        assert message["type"] == "next", message
        data = message["payload"]["data"]["complianceQueues"]
        denied = {tuple(e["path"]) for e in message["payload"].get("errors", [])}
        for name in COUNTS.split():
            allowed = reads(f"ComplianceQueues.{name}")
            assert (data[name] is not None) == allowed, (role, name)
            assert (("complianceQueues", name) in denied) == (not allowed), (role, name)


def test_the_counts_go_to_the_desks_the_issue_names(settings: Any) -> None:
    authorizer = shared_authorizer(settings)

    def reads(role: str, name: str) -> bool:
        roles, brand_code = role_set(role)
        return any(authorizer.enforce(r, brand_code, f"ComplianceQueues.{name}") for r in roles)

    aml = ("screeningMatches", "amlAlerts", *CASE_COUNTS)
    assert not any(reads("support", name) for name in aml)  # never a hint to tip a player off
    assert reads("support", "kycLevelReviews")
    assert all(reads("kyc_officer", name) for name in COUNTS.split())
    assert all(reads("mlro", name) for name in CASE_COUNTS)
    assert all(reads("risk_analyst", name) for name in ("screeningMatches", "amlAlerts", *CASE_COUNTS))
    assert not any(reads(role, name) for role in ("finance", "marketing") for name in COUNTS.split())
