"""Affiliate plan fixtures: a partner on the royal brand (rows inserted directly: partners are the affcore part's),
players attributed to it (an attribution row, as registration makes it), the `affiliate-cpa` consumer drained on
demand, and GraphQL helpers for plans and deals."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
import pytest
from strawberry import relay

from core.clock import clock
from core.consumers import Event, Runner
from services.affiliates.cpa import CpaConsumer
from tests.conftest import DATABASE_URL, fund
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    Aggregator,
    Seat,
    aggregator,
    aggregator_key,
    hub88_provider,
    open_session,
)

EUR_HUB88 = 1000  # Hub88 units per euro cent

PLAN = """
mutation($input: CreateAffiliatePlanInput!) {
  createAffiliatePlan(input: $input) {
    plan { id code name kind currency secondTierPpm
      cpa { amount { amount currency } minFirstDeposit { amount } minWagering { amount } withinDays }
      revshare { kind tiers { fromNgr { amount } ratePpm } } }
    errors { code field message }
  }
}"""
DEAL = """
mutation($input: CreateAffiliateDealInput!) {
  createAffiliateDeal(input: $input) {
    deal { id affiliateCode brandCode effectiveFrom effectiveUntil negativeCarryOver inForce plan { id code } }
    errors { code field message }
  }
}"""
CANCEL = """
mutation($input: CancelAffiliateDealInput!) {
  cancelAffiliateDeal(input: $input) { deal { id effectiveFrom } errors { code field message } }
}"""

CPA_TERMS = {"amount": "50.00", "minFirstDeposit": "20.00", "minWagering": "100.00", "withinDays": 30}


@dataclass(frozen=True)
class Partner:
    id: uuid.UUID
    code: str
    brand_id: uuid.UUID
    link_id: uuid.UUID


async def insert_partner(
    rt: Any, brand_id: uuid.UUID, code: str = "acme", *, status: str = "active", on_brand: bool = True
) -> Partner:
    partner, link = uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(
            "INSERT INTO affiliates (id, code, company, status, contact_email, payout_currency) "
            "VALUES ($1, $2, $3, $4, $5, 'EUR')",
            partner, code, f"{code.title()} Media", status, f"ops@{code}.test",
        )  # fmt: skip
        if on_brand:
            await conn.execute(
                "INSERT INTO affiliate_brands (affiliate_id, brand_id) VALUES ($1, $2)", partner, brand_id
            )
        await conn.execute(
            "INSERT INTO affiliate_links (id, affiliate_id, brand_id, code, tag) VALUES ($1, $2, $3, $4, 'main')",
            link, partner, brand_id, f"{code}-main",
        )  # fmt: skip
    finally:
        await conn.close()
    return Partner(partner, code, brand_id, link)


@pytest.fixture
async def partner(rt: Any, brand: Any) -> Partner:
    return await insert_partner(rt, brand.id)


async def attribute(partner: Partner, player_id: uuid.UUID, sub_id: str | None = "spring") -> None:
    """What registration writes for a player who came through the partner's link."""
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(
            "INSERT INTO affiliate_attributions (player_id, affiliate_id, brand_id, link_id, sub_id, attributed_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            player_id, partner.id, partner.brand_id, partner.link_id, sub_id, clock.now(),
        )  # fmt: skip
    finally:
        await conn.close()


@pytest.fixture
async def manager(make_staff: Any) -> Any:
    """Staff who make plans and deals (brand admins may; `affiliate_manager` is the affcore part's role)."""
    return await make_staff("brand_admin")


def gid_uuid(gid: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(gid).node_id)


async def create_plan(gql: Any, token: str, **overrides: Any) -> dict[str, Any]:
    spec = {"code": "cpa-50", "name": "CPA 50", "currency": "EUR", "kind": "CPA", "cpa": CPA_TERMS, **overrides}
    body = await gql(PLAN, {"input": spec}, token=token)
    assert body.get("data"), body
    payload: dict[str, Any] = body["data"]["createAffiliatePlan"]
    return payload


async def create_deal(
    gql: Any, token: str, plan_gid: str, *, on: date | None = None, partner: str = "acme", **extra: Any
) -> dict[str, Any]:
    spec = {
        "affiliateCode": partner,
        "brandCode": "royal",
        "planId": plan_gid,
        "effectiveFrom": (on or clock.now().date()).isoformat(),
        **extra,
    }
    body = await gql(DEAL, {"input": spec}, token=token)
    assert body.get("data"), body
    payload: dict[str, Any] = body["data"]["createAffiliateDeal"]
    return payload


@dataclass
class Cpa:
    """The `affiliate-cpa` consumer, run when the test chooses, and what it wrote."""

    runner: Runner
    conn: asyncpg.Connection

    async def drain(self) -> int:
        return await self.runner.drain(self.conn)

    async def published(self, *types: str, player_id: uuid.UUID | None = None) -> list[Event]:
        """The outbox's events of these types (of one player), oldest first, as the relay publishes them."""
        from core import outbox

        rows = await self.conn.fetch(
            f"SELECT {outbox.ROW_COLUMNS} FROM outbox_events o WHERE o.topic = ANY($1) ORDER BY o.id",
            list(types),
        )
        events = [Event.of_row(row) for row in rows]
        return [e for e in events if player_id is None or e.data.get("player_id") == str(player_id)]

    async def qualifications(self) -> list[dict[str, Any]]:
        rows = await self.conn.fetch("SELECT * FROM affiliate_qualifications ORDER BY qualified_at")
        return [dict(r) for r in rows]


@pytest.fixture
async def cpa(rt: Any, settings: Any) -> AsyncIterator[Cpa]:
    conn = await asyncpg.connect(DATABASE_URL)
    runner = Runner(CpaConsumer(settings.stated_rates), DATABASE_URL, rt.redis, member=f"test-{uuid.uuid4().hex[:6]}")
    try:
        yield Cpa(runner, conn)
    finally:
        await conn.close()


async def seated(rt: Any, provider: Any, player: Any) -> Seat:
    """The player at a Hub88 game, with 1,000.00 EUR of cash to stake put in by an adjustment (not a deposit:
    what counts as their first deposit is the test's own)."""
    from datetime import timedelta

    await fund(rt, player, "1000.00 EUR")
    token = await open_session(rt, provider, player.uuid, ttl=timedelta(days=60))
    return Seat(str(player.uuid), player.uuid, token, "EUR")


async def stake(wallet: Aggregator, at: Seat, cents: int) -> dict[str, Any]:
    """A cash bet of `cents` euro cents through the Hub88 wallet (its round closed)."""
    sent = at.bet(cents * EUR_HUB88, round_ref=f"r-{uuid.uuid4().hex[:8]}", closed=True)
    answer = await wallet.call("transaction/bet", sent)
    assert answer["status"] == "RS_OK", answer
    return sent


async def roll_back(wallet: Aggregator, at: Seat, bet: dict[str, Any]) -> None:
    answer = await wallet.call("transaction/rollback", at.rollback(bet["transaction_uuid"], round_ref=bet["round"]))
    assert answer["status"] == "RS_OK", answer


async def deposit(rt: Any, player: Any, amount: str) -> None:
    await fund(rt, player, amount, deposit=True)


def moment() -> datetime:
    return clock.now()
