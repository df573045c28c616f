"""Affiliate fraud fixtures: a partner with a link and a CPA deal on the brand "royal" (rows written
directly: the partners' own services are other parts of the issue), attributions and CPA qualifications
per player, daily figures, and the risk consumer drained on demand for real linked accounts."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core.clock import clock
from services.affiliates import fraud
from services.affiliates.fraud_rules import Thresholds
from tests.backoffice.browser.conftest import (  # noqa: F401  (fixtures and the failure screenshot's hook)
    browser,
    page,
    pytest_runtest_makereport,
)
from tests.risk.conftest import signals  # noqa: F401  (fixture)

RULES = Thresholds.load()  # the shipped thresholds

FLAGS = """
query($status: AffiliateSubIdFlagStatus, $first: Int, $after: String) {
  affiliateSubIdFlags(status: $status, first: $first, after: $after) {
    edges { node { id affiliateCode subId status reasons playerCount withheld raisedAt reviewNote } }
    pageInfo { hasNextPage endCursor }
  }
}"""
FLAG = """
query($id: ID!) {
  affiliateSubIdFlag(id: $id) {
    id affiliateCode subId status reasons withheld reviewedAt reviewNote
    evidence { reason detail players { playerId detail } }
    cpas { playerId status amount { amount currency } qualifiedAt reason }
  }
}"""
REVIEW = """
mutation($input: ReviewAffiliateSubIdFlagInput!) {
  reviewAffiliateSubIdFlag(input: $input) {
    flag { id status reviewNote released rejected }
    errors { code field message }
  }
}"""


@dataclass
class Partner:
    id: uuid.UUID
    brand_id: uuid.UUID
    link_id: uuid.UUID
    deal_id: uuid.UUID


@pytest.fixture(autouse=True)
def royal(brand: Any) -> Any:
    return brand


async def make_partner(rt: Any, brand_id: uuid.UUID, code: str = "acme") -> Partner:
    partner, link, plan, deal = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO affiliates (id, code, company, contact_email, payout_currency) "
                "VALUES (:id, :code, 'Acme Media', 'ops@acme.test', 'EUR')"
            ),
            {"id": partner, "code": code},
        )
        await db.execute(
            text(
                "INSERT INTO affiliate_links (id, affiliate_id, brand_id, code, tag) "
                "VALUES (:id, :partner, :brand, :code, 'main')"
            ),
            {"id": link, "partner": partner, "brand": brand_id, "code": f"{code}-main"},
        )
        await db.execute(
            text(
                "INSERT INTO affiliate_plans (id, code, name, kind, currency, terms) "
                "VALUES (:id, :code, 'CPA 50', 'cpa', 'EUR', CAST(:terms AS jsonb))"
            ),
            {"id": plan, "code": f"{code}-cpa", "terms": '{"amount": 5000}'},
        )
        await db.execute(
            text(
                "INSERT INTO affiliate_deals (id, affiliate_id, brand_id, plan_id, effective_from) "
                "VALUES (:id, :partner, :brand, :plan, :day)"
            ),
            {"id": deal, "partner": partner, "brand": brand_id, "plan": plan, "day": date(2020, 1, 1)},
        )
    return Partner(partner, brand_id, link, deal)


@pytest.fixture
async def partner(rt: Any, brand: Any) -> Partner:
    return await make_partner(rt, brand.id)


async def attribute(rt: Any, partner: Partner, player_id: uuid.UUID, sub_id: str | None) -> None:
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO affiliate_attributions "
                "(player_id, affiliate_id, brand_id, link_id, sub_id, attributed_at) "
                "VALUES (:player, :partner, :brand, :link, :sub, :at)"
            ),
            {
                "player": player_id,
                "partner": partner.id,
                "brand": partner.brand_id,
                "link": partner.link_id,
                "sub": sub_id,
                "at": clock.now(),
            },
        )


async def qualify(rt: Any, partner: Partner, player_id: uuid.UUID, *, status: str = "qualified") -> None:
    """What the CPA consumer writes when a player qualifies (services/affiliates, affplans)."""
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO affiliate_qualifications "
                "(player_id, affiliate_id, brand_id, deal_id, status, amount, currency, qualified_at) "
                "VALUES (:player, :partner, :brand, :deal, :status, 5000, 'EUR', :at)"
            ),
            {
                "player": player_id,
                "partner": partner.id,
                "brand": partner.brand_id,
                "deal": partner.deal_id,
                "status": status,
                "at": clock.now(),
            },
        )


async def day(
    rt: Any, player_id: uuid.UUID, brand_id: uuid.UUID, on: date, *, deposits: int = 0, bets: int = 0, **more: int
) -> None:
    """A player's day in the report projection (services/reports/projection.py writes them from events);
    `withdrawals=` an amount withdrawn."""
    withdrawals = more.pop("withdrawals", 0)
    assert not more, more
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO report_player_days (player_id, day, currency, brand_id, stakes, wins, bonus_cost, "
                "deposits, deposit_count, withdrawals, withdrawal_count, bet_count) "
                "VALUES (:player, :day, 'EUR', :brand, :stakes, 0, 0, :deposits, :dc, :withdrawals, :wc, :bets)"
            ),
            {
                "player": player_id,
                "day": on,
                "brand": brand_id,
                "stakes": bets * 100,
                "deposits": deposits,
                "dc": 1 if deposits else 0,
                "withdrawals": withdrawals,
                "wc": 1 if withdrawals else 0,
                "bets": bets,
            },
        )


async def statuses(rt: Any) -> dict[uuid.UUID, str]:
    async with rt.database.session() as db:
        rows = await db.execute(text("SELECT player_id, status FROM affiliate_qualifications"))
        return {r.player_id: r.status for r in rows}


async def flags(rt: Any) -> list[Any]:
    async with rt.database.session() as db:
        rows = await db.execute(text("SELECT * FROM affiliate_subid_flags ORDER BY raised_at, id"))
        return list(rows)


async def sweep(rt: Any, rules: Thresholds = RULES) -> list[uuid.UUID]:
    return await fraud.sweep(rt, rules)


def days_ago(n: int) -> date:
    now: datetime = clock.now()
    return (now - timedelta(days=n)).date()


async def raw_flag(rt: Any, partner: Partner, sub_id: str) -> uuid.UUID:
    """An open flag as the sweep writes it, without the players behind it (for page-size measurements)."""
    flag_id = uuid.uuid4()
    player = str(uuid.uuid4())
    evidence = {
        "one_device": {"detail": "3 players seen with one device", "players": [{"player_id": player, "detail": "d"}]}
    }
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO affiliate_subid_flags (id, affiliate_id, brand_id, sub_id, reasons, evidence, player_ids, "
                "raised_at) VALUES (:id, :partner, :brand, :sub, ARRAY['one_device'], CAST(:evidence AS jsonb), "
                "ARRAY[CAST(:player AS uuid)], :at)"
            ),
            {
                "id": flag_id,
                "partner": partner.id,
                "brand": partner.brand_id,
                "sub": sub_id,
                "evidence": json.dumps(evidence),
                "player": player,
                "at": clock.now(),
            },
        )
    return flag_id
